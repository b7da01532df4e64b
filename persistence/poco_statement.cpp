#include "persistence/poco_statement.hpp"

#include <atomic>
#include <charconv>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>

#include <Poco/Data/AbstractBinding.h>
#include <Poco/Data/Extraction.h>
#include <Poco/Data/LOB.h>
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>
#include <sqlite3.h>

namespace smsd {

using Poco::Dynamic::Var;
using Poco::Data::Keywords::use;

// -- process set-up -----------------------------------------------------------------------------

void init_poco_data() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Both only apply before SQLite's first use, which Poco leaves to the first session.
    // Debian's library has no lookaside allocator, so with memory statistics on every
    // allocation takes a process-wide mutex; smsd reads no statistics.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    // Poco opens connections without SQLITE_OPEN_NOMUTEX (and has no flag for it): the
    // multi-thread mode makes that the default. Each session is used by one thread at a time
    // (a worker's own, or a store_pool borrower's).
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::PostgreSQL::Connector::registerConnector();
  });
}

// -- rows -----------------------------------------------------------------------------------------

std::size_t query_result::find_column(const char* name) const {
  for (std::size_t i = 0; i < columns(); ++i)
    if (std::strcmp(column_name(i), name) == 0)
      return i;
  return columns();
}

std::size_t row_table::find_column(const char* name) const {
  const auto& names = *names_;
  const auto n = names.size();
  for (std::size_t k = 0; k < n; ++k) {
    auto i = (next_column_ + k) % n;
    if (names[i] == name) {
      next_column_ = i + 1;
      return i;
    }
  }
  return n;
}

row_table::row_table(std::vector<std::string> names, std::size_t rows)
  : row_table(std::make_shared<const std::vector<std::string>>(std::move(names)), rows) {
}

row_table::row_table(names_ptr names, std::size_t rows)
  : names_(std::move(names)), rows_(rows), cells_(rows * names_->size()) {
}

std::size_t row_table::add_row() {
  cells_.resize(cells_.size() + names_->size());
  return rows_++;
}

void row_table::set_int(std::size_t row, std::size_t col, std::int64_t v) {
  auto& c = at(row, col);
  c.k = kind::integer;
  c.number = v;
}

void row_table::set_text(std::size_t row, std::size_t col, const char* data, std::size_t size) {
  auto& c = at(row, col);
  c.k = kind::text;
  c.offset = texts_.size();
  c.size = size;
  texts_.append(data, size);
}

bool row_table::is_null(std::size_t row, std::size_t col) const {
  return at(row, col).k == kind::null;
}

std::string row_table::text(std::size_t row, std::size_t col) const {
  const auto& c = at(row, col);
  switch (c.k) {
    case kind::integer:
      return std::to_string(c.number);
    case kind::text:
      return texts_.substr(c.offset, c.size);
    case kind::null:
      break;
  }
  return {};
}

std::int64_t row_table::int64(std::size_t row, std::size_t col) const {
  const auto& c = at(row, col);
  switch (c.k) {
    case kind::integer:
      return c.number;
    case kind::text: {
      // As strtoll did: leading digits, else 0.
      std::int64_t v = 0;
      const char* begin = texts_.data() + c.offset;
      std::from_chars(begin, begin + c.size, v);
      return v;
    }
    case kind::null:
      break;
  }
  return 0;
}

// -- statements -----------------------------------------------------------------------------------

/// Writes each row straight into a row_table: integers as integers, the rest as text, NULL as
/// NULL (both connectors' extractors return false for NULL).
class row_extraction : public Poco::Data::AbstractExtraction {
public:
  /// The column names and, per column, whether it is an integer (else text).
  using describer = std::function<void(std::vector<std::string>&, std::vector<bool>&)>;

  row_extraction(std::vector<std::string> names, std::vector<bool> integer)
    : names_(std::make_shared<const std::vector<std::string>>(std::move(names))),
      integer_(std::move(integer)) {}
  /// Columns told by `describe` the first time Poco asks, after it prepared the statement.
  explicit row_extraction(describer describe) : describe_(std::move(describe)) {}

  std::size_t numOfColumnsHandled() const override { return columns().size(); }
  std::size_t numOfRowsHandled() const override { return table_ ? table_->rows() : 0; }
  std::size_t numOfRowsAllowed() const override { return getLimit(); }
  std::size_t extract(std::size_t pos) override {
    const auto& integer = columns();
    if (!table_)
      table_ = std::make_unique<row_table>(names_, 0);
    auto extractor_ptr = getExtractor();
    auto& extractor = *extractor_ptr;
    auto row = table_->add_row();
    for (std::size_t i = 0; i < integer.size(); ++i) {
      if (integer[i]) {
        Poco::Int64 v = 0;
        if (extractor.extract(pos + i, v))
          table_->set_int(row, i, v);
      } else if (extractor.extract(pos + i, text_)) {
        table_->set_text(row, i, text_.data(), text_.size());
      }
    }
    return 1;
  }
  // Not columns() here: Poco resets extractions before it prepares the statement.
  void reset() override { table_.reset(); }
  Poco::Data::AbstractPreparation::Ptr createPreparation(PreparatorPtr&, std::size_t) override {
    return {};
  }

  std::unique_ptr<row_table> take() {
    columns();
    if (!table_)
      return std::make_unique<row_table>(names_, 0);
    return std::move(table_);
  }

private:
  const std::vector<bool>& columns() const {
    if (!names_) {
      std::vector<std::string> names;
      describe_(names, integer_);
      names_ = std::make_shared<const std::vector<std::string>>(std::move(names));
    }
    return integer_;
  }

  describer describe_;
  mutable row_table::names_ptr names_;
  mutable std::vector<bool> integer_;
  std::unique_ptr<row_table> table_;
  std::string text_; ///< reused for every text field
};

/// Reaches what Poco keeps protected for its own RecordSet: the statement's result columns.
/// With no into() given, Poco fills one typed column per result column (its "internal
/// extractions", here in vectors), whose types follow the declared column types.
class poco_statement::statement : public Poco::Data::Statement {
public:
  statement(Poco::Data::Session& session, const std::string& sql) : Poco::Data::Statement(session) {
    *this << sql;
    setStorage("vector");
  }

  /// The result columns: their names, and whether each is an integer (else text).
  void columns(std::vector<std::string>& names, std::vector<bool>& integer) const {
    const auto& columns = extractions();
    for (std::size_t i = 0; i < columns.size(); ++i) {
      names.push_back(metaColumn(i).name());
      const auto& e = *columns[i];
      integer.push_back(is_column<Poco::Int64>(e) || is_column<Poco::Int32>(e)
                        || is_column<Poco::Int16>(e) || is_column<Poco::Int8>(e)
                        || is_column<Poco::UInt64>(e) || is_column<Poco::UInt32>(e)
                        || is_column<Poco::UInt16>(e) || is_column<Poco::UInt8>(e)
                        || is_column<bool>(e));
    }
  }

  /// An extraction of ours for the columns the first run told (names and types).
  Poco::SharedPtr<row_extraction> own_extraction() const {
    std::vector<std::string> names;
    std::vector<bool> integer;
    columns(names, integer);
    return new row_extraction(std::move(names), std::move(integer));
  }

  /// The result columns' names, asking for one more until Poco refuses: PostgreSQL's connector
  /// throws for a position past the last column (SQLite's must not be asked: it only asserts).
  void probe_columns(std::vector<std::string>& names, std::vector<bool>& integer) const {
    for (std::size_t i = 0;; ++i) {
      try {
        names.push_back(metaColumn(i).name());
      } catch (const Poco::Exception&) {
        break;
      }
      integer.push_back(false);
    }
  }

  std::unique_ptr<row_table> copy_rows() const {
    const auto& columns = extractions();
    std::vector<std::string> names;
    names.reserve(columns.size());
    for (std::size_t i = 0; i < columns.size(); ++i)
      names.push_back(metaColumn(i).name());
    const std::size_t rows = columns.empty() ? 0 : columns.front()->numOfRowsHandled();
    auto out = std::make_unique<row_table>(std::move(names), rows);
    for (std::size_t col = 0; col < columns.size(); ++col) {
      const auto& e = *columns[col];
      if (!(copy_column<Poco::Int64>(e, *out, col) || copy_column<Poco::Int32>(e, *out, col)
            || copy_column<Poco::Int16>(e, *out, col) || copy_column<Poco::Int8>(e, *out, col)
            || copy_column<Poco::UInt64>(e, *out, col) || copy_column<Poco::UInt32>(e, *out, col)
            || copy_column<Poco::UInt16>(e, *out, col) || copy_column<Poco::UInt8>(e, *out, col)
            || copy_column<bool>(e, *out, col) || copy_column<std::string>(e, *out, col)
            || copy_column<Poco::Data::CLOB>(e, *out, col)))
        throw std::logic_error("unsupported type of result column " + metaColumn(col).name());
    }
    return out;
  }

private:
  template <class T>
  using column_of = Poco::Data::InternalExtraction<std::vector<T>>;

  template <class T>
  static bool is_column(const Poco::Data::AbstractExtraction& e) {
    return dynamic_cast<const column_of<T>*>(&e) != nullptr;
  }

  // One cell of a typed column: integers as integers, texts (and CLOBs) as text.
  template <class T>
  static void set_cell(row_table& out, std::size_t row, std::size_t col, const T& v) {
    out.set_int(row, col, static_cast<std::int64_t>(v));
  }
  static void set_cell(row_table& out, std::size_t row, std::size_t col, const std::string& v) {
    out.set_text(row, col, v.data(), v.size());
  }
  static void set_cell(row_table& out, std::size_t row, std::size_t col,
                       const Poco::Data::CLOB& v) {
    out.set_text(row, col, v.rawContent(), v.size());
  }

  // Copies column `col` if Poco filled it with values of type T.
  template <class T>
  static bool copy_column(const Poco::Data::AbstractExtraction& e, row_table& out,
                          std::size_t col) {
    const auto* x = dynamic_cast<const column_of<T>*>(&e);
    if (!x)
      return false;
    for (std::size_t row = 0; row < out.rows(); ++row)
      if (!x->isNull(row))
        set_cell(out, row, col, x->column().value(row));
    return true;
  }
};

poco_statement::poco_statement(Poco::Data::Session& session, const std::string& sql,
                               std::size_t params, rows_mode mode)
  : session_(&session), sql_(sql), mode_(mode), values_(params) {
  build();
}

poco_statement::~poco_statement() = default;

void poco_statement::build() {
  stmt_ = std::make_unique<statement>(*session_, sql_);
  // use() binds by reference: values_ never reallocates after this.
  for (auto& v : values_)
    stmt_->addBind(use(v));
  if (mode_ == rows_mode::own_text && !rows_) {
    auto* stmt = stmt_.get();
    rows_ = new row_extraction([stmt](std::vector<std::string>& names, std::vector<bool>& integer) {
      stmt->probe_columns(names, integer);
    });
  }
  if (rows_)
    stmt_->addExtract(rows_);
}

std::size_t poco_statement::run(std::initializer_list<Var> values) {
  if (values.size() != values_.size())
    throw std::logic_error("statement run with " + std::to_string(values.size())
                           + " parameters, prepared with " + std::to_string(values_.size()));
  std::copy(values.begin(), values.end(), values_.begin());
  return stmt_->execute();
}

void poco_statement::forget_values() {
  for (auto& v : values_)
    v.clear();
}

std::unique_ptr<row_table> poco_statement::rows() {
  if (rows_)
    return rows_->take();
  auto out = stmt_->copy_rows();
  if (mode_ == rows_mode::learn_then_own && out->columns() > 0) {
    // From now on, rows go straight into a row_table (see the constructor).
    rows_ = stmt_->own_extraction();
    build();
  }
  return out;
}

/// Binds the batch's rows one after the other: one Poco binding for all the parameters of a row,
/// rather than one per parameter, each bound per row with its own virtual calls and reference
/// counting (Binding<std::vector<T>>).
class poco_batch_statement::binding : public Poco::Data::AbstractBinding {
public:
  binding(const std::vector<param_ref>& cells, std::size_t params)
    : cells_(cells), params_(params) {}

  std::size_t numOfColumnsHandled() const override { return params_; }
  std::size_t numOfRowsHandled() const override { return cells_.size() / params_; }
  bool canBind() const override { return next_ < cells_.size(); }
  void bind(std::size_t pos) override {
    auto binder_ptr = getBinder();
    auto& binder = *binder_ptr;
    const auto dir = getDirection();
    for (std::size_t i = 0; i < params_; ++i) {
      const auto& p = cells_[next_ + i];
      switch (p.k) {
        case param_ref::kind::integer:
          binder.bind(pos + i, static_cast<Poco::Int64>(p.number), dir);
          break;
        case param_ref::kind::text:
          binder.bind(pos + i, *p.text, dir);
          break;
        case param_ref::kind::null:
          binder.bind(pos + i, Poco::Data::Keywords::null, dir);
          break;
      }
    }
    next_ += params_;
  }
  void reset() override { next_ = 0; }

private:
  const std::vector<param_ref>& cells_;
  std::size_t params_;
  std::size_t next_ = 0;
};

poco_batch_statement::poco_batch_statement(Poco::Data::Session& session, std::string sql,
                                           std::size_t params)
  : session_(&session), sql_(std::move(sql)), params_(params) {
  if (params_ == 0)
    throw std::logic_error("a batch statement needs parameters");
}

poco_batch_statement::~poco_batch_statement() = default;

param_ref ref(const std::string& v) {
  return {param_ref::kind::text, 0, &v};
}

param_ref ref(const std::optional<std::string>& v) {
  return v ? ref(*v) : param_ref{};
}

param_ref ref(std::int64_t v) {
  return {param_ref::kind::integer, v, nullptr};
}

param_ref ref(const std::optional<std::int64_t>& v) {
  return v ? ref(*v) : param_ref{};
}

param_ref ref(int v) {
  return ref(static_cast<std::int64_t>(v));
}

param_ref ref(bool v) {
  return ref(static_cast<std::int64_t>(v ? 1 : 0));
}

void poco_batch_statement::add_row(std::initializer_list<param_ref> values) {
  if (values.size() != params_)
    throw std::logic_error("batch row with " + std::to_string(values.size())
                           + " parameters, prepared with " + std::to_string(params_));
  cells_.insert(cells_.end(), values.begin(), values.end());
}

void poco_batch_statement::build() {
  stmt_ = std::make_unique<poco_statement::statement>(*session_, sql_);
  // Refers to cells_, whatever it holds at each execution (Poco rewinds bindings then).
  stmt_->addBind(new binding(cells_, params_));
  if (rows_)
    stmt_->addExtract(rows_);
}

std::size_t poco_batch_statement::run() {
  if (pending_rows() == 0)
    return 0;
  if (!stmt_)
    build();
  // Cleared whatever happens: a failed batch's rows must not run again with the next one.
  struct clear_on_exit {
    poco_batch_statement& self;
    ~clear_on_exit() { self.clear_rows(); }
  } clear{*this};
  try {
    return stmt_->execute();
  } catch (...) {
    // Only SQLite runs batches, and its statements may be destroyed after an error.
    stmt_.reset();
    throw;
  }
}

std::unique_ptr<row_table> poco_batch_statement::rows() {
  if (!stmt_)
    return std::make_unique<row_table>(std::vector<std::string>{}, 0);
  if (rows_)
    return rows_->take();
  auto out = stmt_->copy_rows();
  if (out->columns() > 0) {
    rows_ = stmt_->own_extraction();
    build();
  }
  return out;
}

// -- failed statements ------------------------------------------------------------------------------

namespace {

std::atomic<std::size_t> leaked{0};

} // namespace

void leak_statement(std::unique_ptr<poco_statement> s) {
  if (!s)
    return;
  // Never destroyed: its destructor would free a PostgreSQL result a second time. Its parameter
  // values are ours to free (Poco's copies of them stay).
  s->forget_values();
  static_cast<void>(s.release());
  leaked.fetch_add(1, std::memory_order_relaxed);
}

std::size_t leaked_statements() {
  return leaked.load(std::memory_order_relaxed);
}

std::string error_text(const std::exception& e) {
  if (const auto* pe = dynamic_cast<const Poco::Exception*>(&e))
    return pe->displayText();
  return e.what();
}

} // namespace smsd

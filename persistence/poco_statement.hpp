#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>
#include <Poco/SharedPtr.h>
#include <Poco/Dynamic/Var.h>

namespace smsd {

/// Registers Poco's SQLite and PostgreSQL connectors and configures SQLite, once per process,
/// before the first session opens: memory statistics off (they take a process-wide mutex on every
/// allocation) and the multi-thread mode (no mutex per connection: each session is used by one
/// thread at a time), which Poco's SQLite connector has no open flag for.
void init_poco_data();

class row_extraction;

/// The rows a query returned, whatever the driver.
class query_result {
public:
  virtual ~query_result() = default;
  virtual std::size_t rows() const = 0;
  virtual std::size_t columns() const = 0;
  /// Valid as long as the result is.
  virtual const char* column_name(std::size_t col) const = 0;
  virtual bool is_null(std::size_t row, std::size_t col) const = 0;
  virtual std::string text(std::size_t row, std::size_t col) const = 0;
  virtual std::int64_t int64(std::size_t row, std::size_t col) const = 0;
  /// The index of the column named `name`, or columns() if there is none.
  virtual std::size_t find_column(const char* name) const;
};

/// A query's rows copied out of a statement, so that the statement can run again at once.
/// Texts share one buffer: no allocation per field.
class row_table : public query_result {
public:
  using names_ptr = std::shared_ptr<const std::vector<std::string>>;

  row_table(std::vector<std::string> names, std::size_t rows);
  /// Column names shared by every table of one statement.
  row_table(names_ptr names, std::size_t rows);

  /// Appends a row of NULLs; returns its index.
  std::size_t add_row();
  void set_int(std::size_t row, std::size_t col, std::int64_t v);
  void set_text(std::size_t row, std::size_t col, const char* data, std::size_t size);

  std::size_t rows() const override { return rows_; }
  std::size_t columns() const override { return names_->size(); }
  const char* column_name(std::size_t col) const override { return (*names_)[col].c_str(); }
  bool is_null(std::size_t row, std::size_t col) const override;
  std::string text(std::size_t row, std::size_t col) const override;
  std::int64_t int64(std::size_t row, std::size_t col) const override;
  /// Looks first after the column found last: readers read columns in the query's order.
  std::size_t find_column(const char* name) const override;

private:
  enum class kind : std::uint8_t { null, integer, text };
  struct cell {
    kind k = kind::null;
    std::size_t offset = 0; ///< text: where it starts in texts_; integer: unused
    std::size_t size = 0;
    std::int64_t number = 0;
  };

  cell& at(std::size_t row, std::size_t col) { return cells_[row * names_->size() + col]; }
  const cell& at(std::size_t row, std::size_t col) const {
    return cells_.at(row * names_->size() + col);
  }

  names_ptr names_;
  std::size_t rows_;
  std::vector<cell> cells_;
  std::string texts_;
  mutable std::size_t next_column_ = 0;
};

/// One SQL text kept for reuse on one session (a Poco::Data::Statement): its parameters are
/// bound once, by position, to values this object owns, and each run() sets them and executes.
/// PostgreSQL prepares the statement on the first run only (PQprepare + describe); Poco's SQLite
/// connector prepares it again on every run (docs/persistence.md).
///
/// A statement whose run() threw must never be used or destroyed normally again: hand it to the
/// store's discard (leak_statement on PostgreSQL).
/// How a poco_statement reads its rows.
enum class rows_mode {
  /// Through Poco's own typed columns (one per result column), copied into a row_table.
  poco_columns,
  /// Like poco_columns on the first run, which tells the columns and their types; then the
  /// statement is built again with an extraction of our own that writes rows straight into a
  /// row_table. Worth it where building a statement costs no more than running the old one
  /// again: SQLite, which prepares at every run anyway.
  learn_then_own,
  /// With our extraction from the start, every field as text: PostgreSQL, whose connector tells
  /// the columns once the statement is prepared (and whose fields arrive as text anyway).
  own_text,
};

class poco_statement {
public:
  poco_statement(Poco::Data::Session& session, const std::string& sql, std::size_t params,
                 rows_mode mode = rows_mode::poco_columns);
  ~poco_statement();

  poco_statement(const poco_statement&) = delete;
  poco_statement& operator=(const poco_statement&) = delete;

  /// Executes with these parameter values (empty = NULL); returns the rows returned, or for
  /// statements without result columns the rows affected.
  std::size_t run(std::initializer_list<Poco::Dynamic::Var> values);

  /// The rows of the last run (once).
  std::unique_ptr<row_table> rows();

  /// Frees the parameter values of the last run (before the statement is leaked).
  void forget_values();

  /// Poco's statement, the storage of its results and its column names.
  class statement;

private:
  void build();

  Poco::Data::Session* session_;
  std::string sql_;
  rows_mode mode_;
  std::vector<Poco::Dynamic::Var> values_;
  std::unique_ptr<statement> stmt_;
  /// Set once the statement runs with our extraction.
  Poco::SharedPtr<row_extraction> rows_;
};

/// A parameter of a batch row that refers to its text instead of copying it: the text must
/// outlive the run. Integers are held by value; `null` is SQL NULL.
struct param_ref {
  enum class kind : std::uint8_t { null, integer, text };
  kind k = kind::null;
  std::int64_t number = 0;
  const std::string* text = nullptr;
};

param_ref ref(const std::string& v);
param_ref ref(const std::optional<std::string>& v);
param_ref ref(std::int64_t v);
param_ref ref(const std::optional<std::int64_t>& v);
param_ref ref(int v);
param_ref ref(bool v);

/// One SQL text run once per row of parameters in one execution (a binding of our own hands
/// Poco one row after the other, and Poco steps the statement once per row), so that Poco's
/// SQLite connector prepares it once per batch instead of once per row. The rows its runs
/// return are collected, after the first run with an extraction of our own (only SQLite runs
/// batches).
class poco_batch_statement {
public:
  poco_batch_statement(Poco::Data::Session& session, std::string sql, std::size_t params);
  ~poco_batch_statement();

  poco_batch_statement(const poco_batch_statement&) = delete;
  poco_batch_statement& operator=(const poco_batch_statement&) = delete;

  /// Adds one row of parameter values for the next run; their texts must outlive it.
  void add_row(std::initializer_list<param_ref> values);
  std::size_t pending_rows() const { return params_ == 0 ? 0 : cells_.size() / params_; }
  /// Forgets the rows added since the last run.
  void clear_rows() { cells_.clear(); }

  /// Runs the SQL once for each row added since the last run (none: nothing runs). Returns the
  /// rows the runs returned in all, or for statements without result columns the rows they
  /// changed in all.
  std::size_t run();
  /// Every row the last run returned, in order (once).
  std::unique_ptr<row_table> rows();

private:
  class binding;

  void build();

  Poco::Data::Session* session_;
  std::string sql_;
  std::size_t params_;
  /// The rows, one after the other.
  std::vector<param_ref> cells_;
  /// Built at the first run.
  std::unique_ptr<poco_statement::statement> stmt_;
  /// Set once the statement runs with our extraction (as rows_mode::learn_then_own).
  Poco::SharedPtr<row_extraction> rows_;
};

/// Keeps a statement that threw forever, without running its destructor, and counts it.
/// Poco 1.11's PostgreSQL StatementExecutor frees its last result and then throws without
/// forgetting the pointer: running that statement again, or destroying it, frees the result a
/// second time (docs/persistence.md).
void leak_statement(std::unique_ptr<poco_statement> s);
/// How many statements this process has leaked so.
std::size_t leaked_statements();

/// The text of an exception: Poco's displayText() (what() is only the class name).
std::string error_text(const std::exception& e);

} // namespace smsd

#include "persistence/sqlite_store.hpp"

#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace smsd {

using Poco::Dynamic::Var;

namespace {

/// A failed SQLite call, with its extended result code.
class sqlite_error : public std::runtime_error {
public:
  sqlite_error(const std::string& message, int code)
    : std::runtime_error(message), code_(code) {}

  int code() const { return code_; }

private:
  int code_;
};

[[noreturn]] void fail(sqlite3* db, int rc) {
  throw sqlite_error(sqlite3_errmsg(db), db ? sqlite3_extended_errcode(db) : rc);
}

/// A query's rows, copied out so that the statement can be reset at once.
class sqlite_rows : public query_result {
public:
  explicit sqlite_rows(sqlite3_stmt* stmt) {
    auto n = sqlite3_column_count(stmt);
    for (int i = 0; i < n; ++i)
      names_.emplace_back(sqlite3_column_name(stmt, i));
  }

  void add_row(sqlite3_stmt* stmt) {
    for (int i = 0; i < static_cast<int>(names_.size()); ++i) {
      cell c;
      switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_NULL:
          c.null = true;
          break;
        case SQLITE_INTEGER:
          c.integer = true;
          c.number = sqlite3_column_int64(stmt, i);
          break;
        default:
          c.text.assign(reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)),
                        static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)));
      }
      cells_.push_back(std::move(c));
    }
  }

  std::size_t rows() const override { return names_.empty() ? 0 : cells_.size() / names_.size(); }
  std::size_t columns() const override { return names_.size(); }
  const char* column_name(std::size_t col) const override { return names_[col].c_str(); }
  bool is_null(std::size_t row, std::size_t col) const override { return at(row, col).null; }
  std::string text(std::size_t row, std::size_t col) const override {
    const auto& c = at(row, col);
    return c.integer ? std::to_string(c.number) : c.text;
  }
  std::int64_t int64(std::size_t row, std::size_t col) const override {
    const auto& c = at(row, col);
    return c.integer ? c.number : std::strtoll(c.text.c_str(), nullptr, 10);
  }

private:
  struct cell {
    bool null = false;
    bool integer = false;
    std::int64_t number = 0;
    std::string text;
  };

  const cell& at(std::size_t row, std::size_t col) const {
    return cells_.at(row * names_.size() + col);
  }

  std::vector<std::string> names_;
  std::vector<cell> cells_;
};

/// Resets a statement when the step loop leaves, however it leaves.
struct reset_on_exit {
  sqlite3_stmt* stmt;
  ~reset_on_exit() { sqlite3_reset(stmt); }
};

} // namespace

sqlite_store::sqlite_store(sqlite3* db)
  : sql_store(sqlite_sql()), db_(db, &sqlite3_close_v2) {
}

// -- driver primitives --------------------------------------------------------------------------

sqlite3_stmt* sqlite_store::bound(const std::string& sql, params values) {
  auto i = statements_.find(&sql);
  if (i == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    auto rc = sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size() + 1),
                                 SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK)
      fail(db_.get(), rc);
    i = statements_.emplace(&sql, stmt_ptr{stmt, &sqlite3_finalize}).first;
  }
  auto* stmt = i->second.get();
  if (sqlite3_bind_parameter_count(stmt) != static_cast<int>(values.size()))
    throw sqlite_error("wrong number of parameters for: " + sql, SQLITE_MISUSE);
  int pos = 1;
  for (const auto& v : values) {
    int rc;
    if (v.isEmpty()) {
      rc = sqlite3_bind_null(stmt, pos);
    } else if (v.type() == typeid(std::string)) {
      // The values outlive the statement's step loop: no copy needed.
      const auto& s = v.extract<std::string>();
      rc = sqlite3_bind_text(stmt, pos, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    } else {
      rc = sqlite3_bind_int64(stmt, pos, v.convert<Poco::Int64>());
    }
    if (rc != SQLITE_OK)
      fail(db_.get(), rc);
    ++pos;
  }
  return stmt;
}

std::size_t sqlite_store::execute(const std::string& sql, params values) {
  auto* stmt = bound(sql, values);
  reset_on_exit reset{stmt};
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
    continue;
  if (rc != SQLITE_DONE)
    fail(db_.get(), rc);
  return static_cast<std::size_t>(sqlite3_changes(db_.get()));
}

std::unique_ptr<query_result> sqlite_store::query(const std::string& sql, params values) {
  auto* stmt = bound(sql, values);
  reset_on_exit reset{stmt};
  auto rows = std::make_unique<sqlite_rows>(stmt);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
    rows->add_row(stmt);
  if (rc != SQLITE_DONE)
    fail(db_.get(), rc);
  return rows;
}

void sqlite_store::execute_once(const std::string& sql) {
  char* message = nullptr;
  auto rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw sqlite_error(text, sqlite3_extended_errcode(db_.get()));
  }
}

caf::error sqlite_store::translate(const std::exception& e, const std::string& what) {
  const auto* se = dynamic_cast<const sqlite_error*>(&e);
  auto code = se ? se->code() : SQLITE_ERROR;
  auto text = what + ": " + e.what();
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return make_error(errc::unavailable, std::move(text));
    case SQLITE_CONSTRAINT:
      if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY
          || code == SQLITE_CONSTRAINT_FOREIGNKEY)
        return make_error(errc::conflict, std::move(text));
      return make_error(errc::invalid_argument, std::move(text));
    default:
      return make_error(errc::database, std::move(text));
  }
}

// -- group commit -------------------------------------------------------------------------------

caf::expected<std::vector<write_result>> sqlite_store::commit(const std::vector<write_op>& ops) {
  return guarded("commit", [&]() -> caf::expected<std::vector<write_result>> {
    std::vector<write_result> out(ops.size());
    if (ops.empty())
      return out;
    begin_write();
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const auto& op = ops[i];
      auto& result = out[i];
      bool refused = false;
      if (op.send && !write_send(*op.send))
        result.message_exists = false;
      if (op.update) {
        const auto& u = *op.update;
        const auto& s = u.state;
        result.updated =
          execute(sql_.update_message_guarded,
                  {to_var(u.message_id), to_var(u.message_sid), to_var(s.status),
                   to_var(s.provider_status), to_var(s.status_rank), to_var(s.error_code),
                   to_var(s.error_message), to_var(s.sent_at), to_var(s.delivered_at),
                   to_var(s.raw_payload), to_var(s.status_updated_at)})
          > 0;
        if (!result.updated) {
          refused = true;
          result.message_exists = query(sql_.message_exists, {to_var(u.message_id)})->rows() > 0;
        }
      }
      for (const auto& e : op.inserts) {
        bool superseded = refused && e.applied;
        execute(sql_.insert_status_event,
                {to_var(e.message_id), to_var(e.message_sid), to_var(e.provider_status),
                 to_var(e.error_code), to_var(e.source), to_var(e.dedup_key), to_var(e.payload),
                 to_var(e.received_at), to_var(superseded ? false : e.applied),
                 to_var(superseded ? std::string{disposition::superseded} : e.disposition)});
      }
      for (const auto& r : op.resolutions)
        execute(sql_.resolve_status_event, {to_var(r.event_id), to_var(r.message_id),
                                            to_var(r.applied), to_var(r.disposition)});
    }
    commit_transaction();
    return out;
  });
}

// -- opening ------------------------------------------------------------------------------------

caf::expected<std::unique_ptr<store>> open_sqlite_store(const std::string& path) {
  if (path.empty())
    return make_error(errc::invalid_argument, "sqlite: the database URL names no file");
  auto folder = std::filesystem::path{path}.parent_path();
  if (path != ":memory:" && !folder.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (ec)
      return make_error(errc::unavailable,
                        "sqlite: cannot create folder " + folder.string() + ": " + ec.message());
  }
  // SQLite's memory statistics take a process-wide mutex on every allocation, and this
  // library (Debian's) has no lookaside allocator, so that is every few B-tree steps on every
  // connection; smsd reads no statistics. It only applies before SQLite's first use.
  static std::once_flag configured;
  std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  sqlite3* raw = nullptr;
  // NOMUTEX: each connection is used by one thread at a time (a worker's own, or a store_pool
  // borrower's), so SQLite's per-connection mutex only costs.
  auto rc = sqlite3_open_v2(path.c_str(), &raw,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> db{raw, &sqlite3_close_v2};
  if (rc != SQLITE_OK)
    return make_error(errc::unavailable, "sqlite: cannot open " + path + ": "
                                           + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  // busy_timeout first: switching to WAL needs a lock another connection may hold.
  char* message = nullptr;
  rc = sqlite3_exec(db.get(),
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; "
                    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                    nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string why = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return make_error(errc::unavailable, "sqlite: cannot configure " + path + ": " + why);
  }
  return std::unique_ptr<store>{new sqlite_store(db.release())};
}

} // namespace smsd

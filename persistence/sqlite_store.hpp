#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include <caf/expected.hpp>
#include <sqlite3.h>

#include "persistence/sql_store.hpp"

namespace smsd {

/// The store on one SQLite connection (WAL, synchronous=FULL, foreign keys, busy timeout),
/// through SQLite's C API: Poco 1.11's SQLite connector prepares a statement again on every
/// execution (docs/persistence.md).
class sqlite_store : public sql_store {
public:
  /// Takes ownership of an open, configured connection.
  explicit sqlite_store(sqlite3* db);

  const char* dialect() const override { return "sqlite"; }

  /// One op after the other in one BEGIN IMMEDIATE transaction: in-process statements cost
  /// microseconds, so merging them into bigger statements would gain little.
  caf::expected<std::vector<write_result>> commit(const std::vector<write_op>& ops) override;

protected:
  std::size_t execute(const std::string& sql, params values) override;
  std::unique_ptr<query_result> query(const std::string& sql, params values) override;
  void execute_once(const std::string& sql) override;
  caf::error translate(const std::exception& e, const std::string& what) override;

private:
  using stmt_ptr = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

  /// The statement for `sql`, prepared on first use, with `values` bound.
  sqlite3_stmt* bound(const std::string& sql, params values);

  std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> db_;
  /// Keyed by the address of the SQL text in sqlite_sql(), which lives as long as the program.
  std::unordered_map<const std::string*, stmt_ptr> statements_;
};

/// Opens (creating the file and its folder if needed) and configures a SQLite database.
caf::expected<std::unique_ptr<store>> open_sqlite_store(const std::string& path);

} // namespace smsd

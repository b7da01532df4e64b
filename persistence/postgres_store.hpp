#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include <caf/expected.hpp>
#include <libpq-fe.h>

#include "persistence/sql_store.hpp"

namespace smsd {

/// The store on one PostgreSQL connection (synchronous_commit on), through libpq: Poco 1.11's
/// PostgreSQL connector double-frees a statement that failed once (docs/persistence.md).
/// After the server dropped the connection, the next operation reconnects.
class postgres_store : public sql_store {
public:
  /// Connects; throws std::runtime_error when the server cannot be reached.
  explicit postgres_store(std::string url);

  const char* dialect() const override { return "postgresql"; }

  /// The whole batch in as few statements as its ops allow (usually one, so one round trip):
  /// see commit_batch in sql_postgres.cpp.
  caf::expected<std::vector<write_result>> commit(const std::vector<write_op>& ops) override;

protected:
  std::size_t execute(const std::string& sql, params values) override;
  std::unique_ptr<query_result> query(const std::string& sql, params values) override;
  void execute_once(const std::string& sql) override;
  caf::error translate(const std::exception& e, const std::string& what) override;
  void reconnect_if_lost() override;

private:
  using result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;
  using conn_ptr = std::unique_ptr<PGconn, decltype(&PQfinish)>;

  result_ptr run(const std::string& sql, params values);
  const std::string& prepared_name(const std::string& sql, std::size_t param_count);
  std::vector<write_result> write_batch(const std::vector<write_op>& ops);
  bool connection_lost() const;

  std::string url_;
  conn_ptr conn_;
  /// Server-side prepared statement names, keyed by the address of the SQL text in
  /// postgres_sql(), which lives as long as the program.
  std::unordered_map<const std::string*, std::string> statements_;
  int next_statement_ = 0;
};

/// Connects to the database of a postgresql:// URL.
caf::expected<std::unique_ptr<store>> open_postgres_store(const std::string& url);

} // namespace smsd

#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "persistence/postgres_url.hpp"
#include "persistence/sql_store.hpp"

namespace smsd {

/// The store on one PostgreSQL session (Poco::Data::PostgreSQL, synchronous_commit on).
/// After the server dropped the connection, the next operation opens a new session.
class postgres_store : public sql_store {
public:
  /// Connects; throws when the server cannot be reached.
  explicit postgres_store(postgres_connection connection);
  ~postgres_store() override;

  const char* dialect() const override { return "postgresql"; }

  void reads_by_key_only() override;

  /// The whole batch in as few statements as its ops allow (usually one, so one round trip):
  /// see commit_batch in sql_postgres.cpp.
  caf::expected<std::vector<write_result>> commit(const std::vector<write_op>& ops) override;

protected:
  caf::error translate(const std::exception& e, const std::string& what) override;
  void reconnect_if_lost() override;
  void discard(std::unique_ptr<poco_statement> s) override;
  void begin_transaction() override;
  void commit_now() override;
  void rollback_now() override;

private:
  std::vector<write_result> write_batch(const std::vector<write_op>& ops);
  /// The exception's text without the connection string (Poco puts it in some messages, and it
  /// may hold the password).
  std::string redacted(const std::exception& e) const;

  postgres_connection connection_;
  /// Set when a ROLLBACK failed: Poco's transaction flag may be stuck, so open a new session.
  bool reopen_ = false;
  /// reads_by_key_only() was called: every session of this store gets enable_seqscan off.
  bool key_reads_only_ = false;
  /// A failed connect leaks its connection inside Poco 1.11: at most one attempt per second.
  std::chrono::steady_clock::time_point next_connect_{};
};

/// Opens a Poco PostgreSQL session (connect, then SET synchronous_commit = on and
/// client_min_messages = error); a password holding a space goes through a password file that
/// exists only while connecting. Throws on failure.
std::unique_ptr<Poco::Data::Session> open_postgres_session(const postgres_connection& c);

/// Runs one statement on a session on a statement of its own: destroyed after it succeeded,
/// leaked if it threw (leak_statement).
void run_postgres_once(Poco::Data::Session& session, const std::string& sql);

/// The SQLSTATE Poco's PostgreSQL connector wrote into an exception's text ("State: 23505"), or
/// "" when there is none (client-side errors, a failed COMMIT).
std::string postgres_sqlstate(const std::exception& e);

/// Connects to the database of a postgresql:// URL.
caf::expected<std::unique_ptr<store>> open_postgres_store(const std::string& url);

} // namespace smsd

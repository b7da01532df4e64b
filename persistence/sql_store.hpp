#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <Poco/Data/Session.h>
#include <Poco/Dynamic/Var.h>

#include "common/errors.hpp"
#include "persistence/dialect_sql.hpp"
#include "persistence/poco_statement.hpp"
#include "persistence/store.hpp"

namespace smsd {

/// Reads one row of a query_result by column name.
class row_view {
public:
  row_view(const query_result& rs, std::size_t row) : rs_(rs), row_(row) {}

  std::string text(const char* column) const;
  std::optional<std::string> opt_text(const char* column) const;
  std::int64_t int64(const char* column) const;
  std::optional<std::int64_t> opt_int64(const char* column) const;
  bool flag(const char* column) const;

private:
  std::size_t position(const char* column) const;

  const query_result& rs_;
  std::size_t row_;
};

/// What SQLite and PostgreSQL share: every store method but commit(), written once over the
/// dialect's SQL text (dialect_sql) on one Poco::Data::Session, with one long-lived
/// poco_statement per SQL text. Parameters are typed values (text, integers, or empty for NULL);
/// booleans travel as 0/1.
class sql_store : public store {
public:
  caf::expected<migration_status> migrate() override;
  caf::expected<migration_status> migrations() override;
  caf::error ping() override;

  caf::error insert_message(const message_record& m) override;
  caf::expected<std::optional<message_record>> find_message_by_id(const std::string& id) override;
  caf::expected<std::optional<message_record>> find_message_by_sid(const std::string& sid) override;
  caf::expected<std::vector<std::string>>
  event_keys(const std::optional<std::string>& message_id, const std::string& sid) override;
  caf::expected<std::vector<status_event_record>> pending_events(const std::string& sid) override;
  caf::expected<std::vector<loaded_state>>
  load_messages(const std::vector<message_key>& keys) override;
  caf::expected<std::vector<std::string>> matchable_pending_sids(int limit) override;
  caf::expected<std::optional<message_timeline>> timeline(const std::string& id_or_sid) override;

  caf::expected<std::vector<message_entry>>
  attendee_messages(const std::string& event_id, const std::string& attendee_id) override;
  caf::expected<event_summary> summarize_event(const std::string& event_id,
                                               int failed_limit) override;
  caf::expected<std::vector<attendee_counts>>
  attendee_counts_of_event(const std::string& event_id) override;
  caf::expected<std::vector<attendee_counts>>
  attendee_counts_for(const std::string& event_id,
                      const std::vector<std::string>& attendee_ids) override;
  caf::expected<std::vector<viewable_event>> viewable_events(const std::string& user_id) override;
  caf::expected<std::vector<event_record>> all_events() override;
  caf::expected<std::vector<message_record>>
  reconcile_candidates(millis created_after, millis stale_before, millis unknown_before,
                       int limit) override;
  caf::expected<std::optional<std::int64_t>>
  start_job_run(const std::string& job, std::optional<millis> tick, millis started_at) override;
  caf::error finish_job_run(std::int64_t id, millis finished_at, const std::string& outcome,
                            const std::string& counts_json) override;
  caf::expected<std::vector<job_run_record>> last_job_runs() override;
  caf::expected<std::vector<job_run_record>> recent_job_runs(const std::string& job,
                                                             int limit) override;
  caf::expected<bool> try_lock_job(const std::string& job) override;
  caf::error unlock_job(const std::string& job) override;
  caf::expected<std::int64_t> delete_expired_status_events(millis cutoff, int limit) override;
  caf::expected<std::int64_t> delete_expired_messages(millis cutoff, int limit) override;
  caf::expected<std::optional<idempotency_record>>
  claim_idempotency_key(const std::string& scope, const std::string& key,
                        const std::string& request_hash, millis now) override;
  caf::error finish_idempotency_key(const std::string& scope, const std::string& key, int status,
                                    const std::string& response) override;
  caf::error release_idempotency_key(const std::string& scope, const std::string& key) override;

  caf::expected<upsert_outcome> upsert_event(const event_record& e) override;
  caf::expected<bool> delete_event(const std::string& id) override;
  caf::expected<upsert_outcome> upsert_attendee(const attendee_record& a) override;
  caf::expected<bool> delete_attendee(const std::string& event_id,
                                      const std::string& attendee_id) override;
  caf::expected<upsert_outcome> upsert_organizer(const organizer_record& o) override;
  caf::expected<bool> delete_organizer(const std::string& event_id,
                                       const std::string& user_id) override;
  caf::expected<std::optional<event_record>> find_event(const std::string& id) override;
  caf::expected<std::optional<event_role>> role_on_event(const std::string& event_id,
                                                         const std::string& user_id) override;
  caf::expected<std::optional<attendee_record>>
  find_attendee(const std::string& event_id, const std::string& attendee_id) override;
  caf::expected<std::vector<attendee_record>>
  attendees_of_event(const std::string& event_id) override;

protected:
  using params = std::initializer_list<Poco::Dynamic::Var>;

  /// `rows`: how kept statements read their rows (poco_statement).
  sql_store(const dialect_sql& sql, rows_mode rows) : sql_(sql), rows_(rows) {}
  ~sql_store() override;

  // -- what each driver provides; all may throw, guarded() catches -------------------------------

  /// Maps a driver exception to our error (see store.hpp).
  virtual caf::error translate(const std::exception& e, const std::string& what) = 0;
  /// Reopens a session the server dropped; called before each operation.
  virtual void reconnect_if_lost() {}
  /// Disposes of a statement that threw (SQLite: destroys it; PostgreSQL: leaks it).
  virtual void discard(std::unique_ptr<poco_statement> s) = 0;
  /// The rows of a query for many keys at once: `list_sql` takes them as one JSON array,
  /// `key_sql` (the same query for one key) one at a time. By default `list_sql`, one statement.
  virtual std::unique_ptr<query_result> query_keys(const std::string& list_sql,
                                                   const std::string& key_sql,
                                                   const std::vector<std::string>& keys);
  /// Transactions; by default the dialect's SQL as statements.
  virtual void begin_transaction() { execute(sql_.begin_write, {}); }
  virtual void commit_now() { execute(sql_.commit, {}); }
  virtual void rollback_now() { execute(sql_.rollback, {}); }

  // -- shared machinery ---------------------------------------------------------------------------

  /// Runs `sql` (a member of sql_) with its kept statement; returns the rows affected.
  std::size_t execute(const std::string& sql, params values);
  /// Runs the query `sql` (a member of sql_) with its kept statement.
  std::unique_ptr<query_result> query(const std::string& sql, params values);
  /// Runs SQL that runs once in a lifetime (a migration step) on a statement of its own.
  void execute_once(const std::string& sql);

  /// The open session; throws Poco::Data::NotConnectedException if there is none.
  Poco::Data::Session& session();
  /// Installs a newly opened session. The statements of the one before are destroyed first.
  void set_session(std::unique_ptr<Poco::Data::Session> s);
  bool has_session() const { return session_ != nullptr; }
  /// Destroys the kept statements (none of them ever threw: those were discarded) and the
  /// session; the next operation must open one.
  void close_session();

  void begin_write();
  /// A read transaction (sql_.begin_read), if the dialect has one; ended by end_read().
  void begin_read();
  void end_read();
  void commit_transaction();
  /// Rolls back an open transaction, ignoring errors (the connection may be gone).
  void abandon_transaction();
  /// Writes a send update (inside the caller's transaction); returns whether the row exists.
  bool write_send(const send_update& s);
  /// Forgets an open transaction (the session that held it is gone).
  void transaction_lost() { in_transaction_ = false; }

  /// Runs f, turning every exception into our error and rolling back what f left open.
  template <class F>
  auto guarded(const char* what, F&& f) -> decltype(f());

  const dialect_sql& sql_;

private:
  std::optional<message_record> load_message(const std::string& sql, const std::string& key);
  poco_statement& statement_for(const std::string& sql, std::size_t params);
  /// Takes `sql`'s statement out of the cache and discards it (it threw).
  void discard_statement(const std::string& sql);

  rows_mode rows_;
  // Declared before the statements: destroyed after them.
  std::unique_ptr<Poco::Data::Session> session_;
  /// Keyed by the address of the SQL text in the dialect's dialect_sql, which lives as long as
  /// the program.
  std::unordered_map<const std::string*, std::unique_ptr<poco_statement>> statements_;
  bool in_transaction_ = false;
};

/// [begin, end) ranges of ops in which no two updates target the same message and no two
/// resolutions the same event, so that all updates, then all inserts, then all resolutions of
/// a range write what its ops one by one would.
std::vector<std::pair<std::size_t, std::size_t>> batch_segments(const std::vector<write_op>& ops);

// -- parameters ---------------------------------------------------------------------------------

Poco::Dynamic::Var to_var(const std::string& v);
Poco::Dynamic::Var to_var(const std::optional<std::string>& v);
Poco::Dynamic::Var to_var(std::int64_t v);
Poco::Dynamic::Var to_var(const std::optional<std::int64_t>& v);
Poco::Dynamic::Var to_var(int v);
Poco::Dynamic::Var to_var(bool v);
/// A list of keys as one statement parameter: a JSON array of strings.
Poco::Dynamic::Var json_list(const std::vector<std::string>& values);

template <class F>
auto sql_store::guarded(const char* what, F&& f) -> decltype(f()) {
  try {
    reconnect_if_lost();
    return f();
  } catch (const std::exception& e) {
    auto err = translate(e, what);
    abandon_transaction();
    return err;
  }
}

} // namespace smsd

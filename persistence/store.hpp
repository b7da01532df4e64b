#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/records.hpp"

namespace smsd {

struct config;

/// Where the migrations of a database stand.
struct migration_status {
  int applied = 0; ///< highest version recorded in schema_migrations
  int latest = 0;  ///< highest version this build knows
};

/// A message with everything Twilio told us about it, oldest first.
struct message_timeline {
  message_record message;
  std::vector<status_event_record> events;
};

/// One row of job_runs.
struct job_run_record {
  std::int64_t id = 0;
  std::string job;
  std::optional<millis> tick;        ///< the scheduled time; none for runs started by hand
  millis started_at = 0;
  std::optional<millis> finished_at; ///< none while running (or when the process died)
  std::optional<std::string> outcome; ///< "ok", "failed", "skipped"
  std::string counts = "{}";          ///< JSON object text
};

/// Counts of what an upsert did.
enum class upsert_outcome { created, updated };

/// One connection to smsd's database. Not thread-safe: each thread or actor uses its own
/// (see store_pool). Every method catches the driver's exceptions and returns our errors:
/// errc::unavailable for connection loss and transient locks (the caller may retry),
/// errc::not_found / errc::conflict / errc::invalid_argument where the method says so,
/// errc::database otherwise.
/// What a WAL checkpoint found and did.
struct wal_frames {
  std::int64_t in_wal = 0;       ///< frames in the WAL
  std::int64_t checkpointed = 0; ///< of them, in the database file now
};

class store {
public:
  virtual ~store() = default;

  /// "sqlite" or "postgresql".
  virtual const char* dialect() const = 0;

  // -- schema ----------------------------------------------------------------------------------

  /// Applies every migration newer than the recorded version, each in its own transaction, and
  /// records it in schema_migrations. Safe to run from several processes at once.
  virtual caf::expected<migration_status> migrate() = 0;

  /// Reads the recorded and known versions without changing anything.
  virtual caf::expected<migration_status> migrations() = 0;

  /// A cheap round trip to the database.
  virtual caf::error ping() = 0;

  /// Says that this connection will only read rows by key (the message loads of a load worker:
  /// load_messages, pending_events), so that every plan it keeps must go through an index.
  /// PostgreSQL caches a generic plan after five executions and keeps it until the table's
  /// statistics change: planned while sms_status_events was nearly empty (a new deployment, or a
  /// table autovacuum has not analyzed yet), the pending-events lookup scanned the whole table
  /// once it had grown, 3.2 ms per load round instead of 0.05 (docs/performance.md, issue 15).
  /// PostgreSQL: enable_seqscan off on this session, now and after every reconnect. SQLite plans
  /// without statistics and keeps no plan across tables' growth: nothing to do.
  virtual void reads_by_key_only() {}

  /// SQLite: copies the WAL's committed frames into the database file (a PASSIVE checkpoint: it
  /// waits for no reader or writer) and says how many frames the WAL held and how many of them
  /// are now in the file. smsd's connections checkpoint on commit only as a fallback, once the
  /// WAL reaches 10,000 pages: the WAL checkpointer (actors/wal_checkpointer.hpp) calls this from
  /// a connection and thread of its own, so that the commit worker never copies pages while the
  /// next batch waits. PostgreSQL: nothing to do, {0, 0}.
  virtual caf::expected<wal_frames> checkpoint_wal() { return wal_frames{}; }

  // -- messages and status events ---------------------------------------------------------------

  /// Inserts a new sms_messages row (the sender's first write). conflict if the id or SID exists;
  /// not_found if its event or attendee does not exist.
  virtual caf::error insert_message(const message_record& m) = 0;

  virtual caf::expected<std::optional<message_record>> find_message_by_id(const std::string& id) = 0;
  virtual caf::expected<std::optional<message_record>> find_message_by_sid(const std::string& sid) = 0;

  /// The dedup keys of every status event stored for the message (or, with no message id,
  /// for the SID), so a message actor can tell a repeat from news.
  virtual caf::expected<std::vector<std::string>>
  event_keys(const std::optional<std::string>& message_id, const std::string& sid) = 0;

  /// Status events with disposition 'pending' for this SID, oldest first.
  virtual caf::expected<std::vector<status_event_record>> pending_events(const std::string& sid) = 0;

  /// What message actors load when they start, for many keys in one go (three queries however
  /// many keys): per key, in order, its row and the pending events of its SID (the row's SID,
  /// or without a row the key's own when it is a SID).
  virtual caf::expected<std::vector<loaded_state>>
  load_messages(const std::vector<message_key>& keys) = 0;

  /// SIDs that have pending events and, by now, a message row: the work of the pending sweep.
  virtual caf::expected<std::vector<std::string>> matchable_pending_sids(int limit) = 0;

  /// Writes all ops in one transaction (group commit) and reports each op's result, in order.
  /// On any failure nothing is written and the error is returned.
  virtual caf::expected<std::vector<write_result>> commit(const std::vector<write_op>& ops) = 0;

  /// The message (by id, else by SID) and its status events, oldest first.
  virtual caf::expected<std::optional<message_timeline>> timeline(const std::string& id_or_sid) = 0;

  // -- organizer reads (no actor in the way) -----------------------------------------------------

  /// The attendee's messages within the event, newest first, each with the retry made of it.
  virtual caf::expected<std::vector<message_entry>>
  attendee_messages(const std::string& event_id, const std::string& attendee_id) = 0;

  /// Counts by (notification type, status), with their sums by status and by type, and the
  /// newest `failed_limit` failed or undelivered messages.
  virtual caf::expected<event_summary> summarize_event(const std::string& event_id,
                                                       int failed_limit) = 0;

  /// Every attendee of the event (oldest first) with the counts of its messages.
  virtual caf::expected<std::vector<attendee_counts>> attendee_counts_of_event(
    const std::string& event_id) = 0;

  /// The same for the listed attendees of the event only (oldest first; ids that are no
  /// attendee of the event are left out), in one query however many ids: index lookups per id.
  virtual caf::expected<std::vector<attendee_counts>>
  attendee_counts_for(const std::string& event_id, const std::vector<std::string>& attendee_ids) = 0;

  /// The events the user may view (owner, or co-organizer with view or curate), with the role,
  /// newest first (event date descending, then id).
  virtual caf::expected<std::vector<viewable_event>> viewable_events(const std::string& user_id) = 0;

  /// Every event, newest first (event date descending, then id): what the admin token sees.
  virtual caf::expected<std::vector<event_record>> all_events() = 0;

  // -- reconciliation ------------------------------------------------------------------------------

  /// Messages reconciliation must look at, oldest first, at most `limit`: not final (rank < 4)
  /// with a SID, created in [created_after, stale_before); and sends without a SID whose outcome
  /// is unknown (send_state unknown, or still sending, i.e. its process died mid-request), created
  /// in [created_after, unknown_before).
  virtual caf::expected<std::vector<message_record>>
  reconcile_candidates(millis created_after, millis stale_before, millis unknown_before,
                       int limit) = 0;

  // -- jobs (scheduling/) -----------------------------------------------------------------------------

  /// Records the start of a run. With a tick: nullopt when a run of (job, tick) exists already,
  /// on any instance (the unique index on (job, tick) decides), so exactly one runs each tick.
  virtual caf::expected<std::optional<std::int64_t>>
  start_job_run(const std::string& job, std::optional<millis> tick, millis started_at) = 0;
  virtual caf::error finish_job_run(std::int64_t id, millis finished_at, const std::string& outcome,
                                    const std::string& counts_json) = 0;
  /// The newest run of each job, by job name.
  virtual caf::expected<std::vector<job_run_record>> last_job_runs() = 0;
  /// The job's newest runs first, at most `limit`.
  virtual caf::expected<std::vector<job_run_record>> recent_job_runs(const std::string& job,
                                                                     int limit) = 0;
  /// PostgreSQL: takes the job's session advisory lock on this connection without waiting;
  /// false when another session holds it. SQLite (one process): always true.
  virtual caf::expected<bool> try_lock_job(const std::string& job) = 0;
  virtual caf::error unlock_job(const std::string& job) = 0;

  /// Retention: deletes, in one transaction, at most `limit` status events of messages whose
  /// event is dated before `cutoff` (linked by message id, or unlinked with the message's SID).
  /// Returns how many were deleted.
  virtual caf::expected<std::int64_t> delete_expired_status_events(millis cutoff, int limit) = 0;
  /// Retention: deletes, in one transaction, at most `limit` messages whose event is dated
  /// before `cutoff`. Returns how many were deleted.
  virtual caf::expected<std::int64_t> delete_expired_messages(millis cutoff, int limit) = 0;

  // -- idempotency keys ------------------------------------------------------------------------------

  /// Claims (scope, key) for a request with this hash. Returns nullopt when the claim is new
  /// (the caller answers and then calls finish_idempotency_key); else what the key already holds.
  virtual caf::expected<std::optional<idempotency_record>>
  claim_idempotency_key(const std::string& scope, const std::string& key,
                        const std::string& request_hash, millis now) = 0;
  /// Stores the answer of a claimed key.
  virtual caf::error finish_idempotency_key(const std::string& scope, const std::string& key,
                                            int status, const std::string& response) = 0;
  /// Gives a claimed key up (the request failed before it changed anything).
  virtual caf::error release_idempotency_key(const std::string& scope, const std::string& key) = 0;

  // -- platform sync (admin) ----------------------------------------------------------------------

  virtual caf::expected<upsert_outcome> upsert_event(const event_record& e) = 0;
  /// Deletes the event with its attendees, organizers, messages and their status events.
  /// Returns whether it existed.
  virtual caf::expected<bool> delete_event(const std::string& id) = 0;

  /// not_found if the event does not exist; conflict if the attendee id belongs to another event.
  virtual caf::expected<upsert_outcome> upsert_attendee(const attendee_record& a) = 0;
  /// Deletes the attendee of that event with its messages. Returns whether it existed.
  virtual caf::expected<bool> delete_attendee(const std::string& event_id,
                                              const std::string& attendee_id) = 0;

  /// not_found if the event does not exist.
  virtual caf::expected<upsert_outcome> upsert_organizer(const organizer_record& o) = 0;
  virtual caf::expected<bool> delete_organizer(const std::string& event_id,
                                               const std::string& user_id) = 0;

  virtual caf::expected<std::optional<event_record>> find_event(const std::string& id) = 0;
  /// The user's role on the event (all false: none); nullopt when the event does not exist.
  virtual caf::expected<std::optional<event_role>> role_on_event(const std::string& event_id,
                                                                 const std::string& user_id) = 0;
  virtual caf::expected<std::optional<attendee_record>>
  find_attendee(const std::string& event_id, const std::string& attendee_id) = 0;
  /// The event's attendees, oldest first.
  virtual caf::expected<std::vector<attendee_record>>
  attendees_of_event(const std::string& event_id) = 0;
};

/// Opens a new connection to the configured database (sqlite:PATH or postgresql://...).
/// SQLite: WAL, synchronous=FULL, foreign_keys=ON, a busy timeout; the file's folder is created.
/// PostgreSQL: synchronous_commit=on.
caf::expected<std::unique_ptr<store>> open_store(const std::string& database_url);

} // namespace smsd

#pragma once

#include <string>
#include <vector>

namespace smsd {

/// One schema version: statements run in order, in one transaction.
struct migration {
  int version = 0;
  std::vector<std::string> statements;
};

/// Every SQL text one dialect needs. sql_sqlite.cpp and sql_postgres.cpp each fill one, so all
/// SQL of a dialect sits in one file. Both dialects number their parameters (?N / $N) in the
/// order given below, so sql_store binds them the same way on both; result columns are read
/// by name.
struct dialect_sql {
  std::vector<migration> migrations;

  // -- transactions and schema ------------------------------------------------------------------
  std::string begin_write; ///< starts a transaction that may write
  /// starts a read transaction around several queries (SQLite: one snapshot, and one read lock
  /// instead of one per statement); empty: none (PostgreSQL: each statement reads on its own)
  std::string begin_read;
  std::string commit;
  std::string rollback;
  std::string lock_migrations; ///< run first in each migration transaction; empty if not needed
  std::string create_schema_migrations;
  std::string schema_migrations_exists; ///< one row, column n: 1 if the table exists
  std::string latest_migration;         ///< one row, column version (0 when none)
  std::string record_migration;         ///< (version, applied_at)
  std::string ping;

  // -- messages and status events ---------------------------------------------------------------
  /// (id, message_sid, account_sid, messaging_service_sid, to_phone, from_phone, body,
  ///  num_segments, status, provider_status, status_rank, error_code, error_message, raw_payload,
  ///  created_at, sent_at, delivered_at, status_updated_at, event_id, attendee_id,
  ///  notification_type, retry_of_id, send_state)
  std::string insert_message;
  std::string message_by_id;  ///< (id) -> message columns
  std::string message_by_sid; ///< (sid) -> message columns
  /// (id) -> id, status, status_rank, status_updated_at while the message exists: what the
  /// group commit reads to tell what its guard did (SQLite; empty on PostgreSQL)
  std::string message_guard_state;
  /// (event_id, attendee_id) -> one row if the attendee belongs to the event; on PostgreSQL it
  /// also locks the attendee against a concurrent delete until the transaction ends.
  std::string attendee_of_event_locked;
  std::string event_keys_by_message;    ///< (message_id, sid) -> dedup_key
  std::string event_keys_by_sid;        ///< (sid) -> dedup_key
  std::string pending_events;           ///< (sid) -> status event columns, oldest first
  /// The same for many keys at once; the parameter is a JSON array of strings. (SQLite's store
  /// runs the one-key queries above once per key instead: sqlite_store::query_keys.)
  std::string messages_by_ids;         ///< (["id", ...]) -> message columns
  std::string messages_by_sids;        ///< (["sid", ...]) -> message columns
  std::string pending_events_of_sids;  ///< (["sid", ...]) -> status event columns, oldest first
  std::string matchable_pending_sids;   ///< (limit) -> message_sid
  std::string timeline_events;          ///< (message_id, sid) -> status event columns, oldest first

  // -- organizer reads -----------------------------------------------------------------------------
  /// (event_id, attendee_id) -> message columns + retried_by_id, newest first
  std::string attendee_messages;
  /// (event_id) -> notification_type, status, n
  std::string summary_counts;
  /// (event_id, limit) -> id, attendee_id, first_name, last_name, error_code, created_at,
  /// retried_by_id; newest first
  std::string summary_failed;
  /// (event_id) -> attendee_id, first_name, last_name, phone, total, delivered, pending, failed,
  /// open_failed; oldest attendee first
  std::string attendee_counts;
  /// (event_id, ["attendee_id", ...]) -> the same columns for the listed attendees only
  std::string attendee_counts_for;
  /// (user_id) -> event columns, can_view, can_curate: the events it owns or may view or curate;
  /// newest first (date descending, then id)
  std::string viewable_events;
  std::string all_events; ///< () -> event columns, newest first (date descending, then id)

  // -- reconciliation ------------------------------------------------------------------------------
  /// (created_after, stale_before, unknown_before, limit) -> message columns, oldest first
  std::string reconcile_candidates;

  // -- jobs (scheduling/) ------------------------------------------------------------------------
  /// (job, tick, started_at) -> id; no row when a run of that (job, tick) exists already
  std::string start_job_run;
  std::string finish_job_run;   ///< (id, finished_at, outcome, counts)
  std::string last_job_runs;    ///< () -> job run columns, the newest run of each job
  std::string recent_job_runs;  ///< (job, limit) -> job run columns, newest first
  /// (job) -> locked (1/0): takes the job's session lock; SQLite: always 1 (one process)
  std::string try_job_lock;
  std::string unlock_job;       ///< (job); empty on SQLite
  /// (cutoff, limit): at most `limit` status events of messages of events dated before cutoff,
  /// linked by message_id or, unlinked, by the message's SID
  std::string delete_expired_status_events;
  /// (cutoff, limit): at most `limit` messages of events dated before cutoff
  std::string delete_expired_messages;

  // -- idempotency keys ------------------------------------------------------------------------------
  std::string claim_idempotency_key;   ///< (scope, key, request_hash, created_at); no-op if taken
  std::string select_idempotency_key;  ///< (scope, key) -> request_hash, status, response
  std::string finish_idempotency_key;  ///< (scope, key, status, response)
  std::string release_idempotency_key; ///< (scope, key); only while unanswered
  std::string purge_idempotency_keys;  ///< (older_than)

  // -- group commit -------------------------------------------------------------------------------
  /// Run once per op of a batch segment (SQLite). (id, message_sid, status, provider_status,
  /// status_rank, error_code, error_message, sent_at, delivered_at, raw_payload,
  /// status_updated_at)
  std::string update_message_guarded;
  /// Unguarded: what the Twilio request of a message came to. (id, send_state, message_sid,
  /// account_sid, messaging_service_sid, from_phone, num_segments); nulls keep what is stored.
  std::string update_message_send;
  /// (message_id, message_sid, provider_status, error_code, source, dedup_key, payload,
  ///  received_at, applied, disposition, message_known_to_exist 0/1); SQLite only
  std::string insert_status_event;
  std::string resolve_status_event; ///< (event_id, message_id, applied, disposition)
  /// A whole segment of a batch in one statement (PostgreSQL): (updates, inserts, resolutions)
  /// as JSON arrays -> one row per update: op, updated, message_exists.
  std::string commit_batch;

  // -- platform sync ------------------------------------------------------------------------------
  std::string event_exists_locked; ///< (id) -> one row if the event exists; locks it on PostgreSQL
  std::string select_event;        ///< (id) -> event columns
  /// (event_id, user_id) -> one row if the event exists: owner_id, can_view, can_curate (0 when
  /// the user is no co-organizer)
  std::string role_on_event;
  std::string update_event;        ///< (id, name, date, owner_id, updated_at)
  std::string insert_event;        ///< (id, name, date, owner_id, created_at, updated_at); no-op if it exists
  std::string delete_event;        ///< (id)
  /// (event_id): status events not yet linked to a message whose SID is one of the event's
  /// messages; foreign keys cascade everything else.
  std::string delete_unlinked_events_of_event;
  std::string delete_unlinked_events_of_attendee; ///< (event_id, attendee_id)
  std::string select_attendee;                    ///< (event_id, attendee_id) -> attendee columns
  std::string select_attendees_of_event;          ///< (event_id) -> attendee columns, oldest first
  std::string attendee_event;                     ///< (attendee_id) -> event_id
  /// (id, event_id, first_name, last_name, phone, updated_at); only within the same event
  std::string update_attendee;
  /// (id, event_id, first_name, last_name, phone, created_at, updated_at); no-op if the id exists
  std::string insert_attendee;
  std::string delete_attendee;   ///< (event_id, attendee_id)
  std::string update_organizer;  ///< (event_id, user_id, can_view, can_curate)
  std::string insert_organizer;  ///< (event_id, user_id, can_view, can_curate); no-op if it exists
  std::string delete_organizer;  ///< (event_id, user_id)
};

const dialect_sql& sqlite_sql();
const dialect_sql& postgres_sql();

} // namespace smsd

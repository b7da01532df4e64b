// All SQL smsd runs on SQLite. Booleans are INTEGER 0/1, timestamps BIGINT milliseconds (UTC).
// Parameters are numbered (?N) in the order documented in dialect_sql.hpp.

#include "persistence/dialect_sql.hpp"

#include <string>

namespace smsd {

namespace {

#define SMSD_MESSAGE_COLUMNS                                                                    \
  "id, message_sid, account_sid, messaging_service_sid, to_phone, from_phone, body, "           \
  "num_segments, status, provider_status, status_rank, error_code, error_message, raw_payload, " \
  "created_at, sent_at, delivered_at, status_updated_at, event_id, attendee_id, "               \
  "notification_type, retry_of_id, send_state"

#define SMSD_MESSAGE_COLUMNS_OF_M                                                                \
  "m.id, m.message_sid, m.account_sid, m.messaging_service_sid, m.to_phone, m.from_phone, "      \
  "m.body, m.num_segments, m.status, m.provider_status, m.status_rank, m.error_code, "          \
  "m.error_message, m.raw_payload, m.created_at, m.sent_at, m.delivered_at, "                   \
  "m.status_updated_at, m.event_id, m.attendee_id, m.notification_type, m.retry_of_id, "        \
  "m.send_state"

#define SMSD_EVENT_COLUMNS                                                                   \
  "id, message_id, message_sid, provider_status, error_code, source, dedup_key, payload, "   \
  "received_at, applied, disposition"

// An attendee with the counts of its messages in the event (sms-status). Messages are found by
// attendee (a message's event is its attendee's); `+m.event_id` keeps SQLite, which has no
// statistics, from walking the whole event's index once per attendee instead.
std::string attendee_counts_sql(const std::string& where) {
  return R"(SELECT a.id AS attendee_id, a.first_name, a.last_name, a.phone,
           COUNT(m.id) AS total,
           COALESCE(SUM(CASE WHEN m.status = 'delivered' THEN 1 ELSE 0 END), 0) AS delivered,
           COALESCE(SUM(CASE WHEN m.status IN ('queued', 'sent') THEN 1 ELSE 0 END), 0) AS pending,
           COALESCE(SUM(CASE WHEN m.status IN ('failed', 'undelivered') THEN 1 ELSE 0 END), 0)
             AS failed,
           COALESCE(SUM(CASE WHEN m.status IN ('failed', 'undelivered')
                              AND NOT EXISTS (SELECT 1 FROM sms_messages r
                                              WHERE r.retry_of_id = m.id)
                             THEN 1 ELSE 0 END), 0) AS open_failed
    FROM attendees a
    LEFT JOIN sms_messages m ON m.attendee_id = a.id AND +m.event_id = a.event_id
    )" + where + " GROUP BY a.id ORDER BY a.created_at, a.id";
}

migration version_1() {
  return {1, {
    R"(CREATE TABLE events (
         id         TEXT PRIMARY KEY,
         name       TEXT NOT NULL,
         date       BIGINT NOT NULL,
         owner_id   TEXT NOT NULL,
         created_at BIGINT NOT NULL,
         updated_at BIGINT NOT NULL))",
    R"(CREATE INDEX events_owner_idx ON events (owner_id))",
    R"(CREATE INDEX events_date_idx ON events (date))",

    R"(CREATE TABLE attendees (
         id         TEXT PRIMARY KEY,
         event_id   TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
         first_name TEXT NOT NULL,
         last_name  TEXT,
         phone      TEXT,
         created_at BIGINT NOT NULL,
         updated_at BIGINT NOT NULL))",
    R"(CREATE INDEX attendees_event_idx ON attendees (event_id))",

    R"(CREATE TABLE event_organizers (
         event_id   TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
         user_id    TEXT NOT NULL,
         can_view   INTEGER NOT NULL DEFAULT 0 CHECK (can_view IN (0, 1)),
         can_curate INTEGER NOT NULL DEFAULT 0 CHECK (can_curate IN (0, 1)),
         PRIMARY KEY (event_id, user_id)))",
    R"(CREATE INDEX event_organizers_user_idx ON event_organizers (user_id))",

    R"(CREATE TABLE sms_messages (
         id                    TEXT PRIMARY KEY,
         message_sid           TEXT,
         account_sid           TEXT,
         messaging_service_sid TEXT,
         to_phone              TEXT NOT NULL,
         from_phone            TEXT NOT NULL,
         body                  TEXT,
         num_segments          INTEGER NOT NULL DEFAULT 1,
         status                TEXT NOT NULL DEFAULT 'queued',
         provider_status       TEXT,
         status_rank           INTEGER NOT NULL DEFAULT -1,
         error_code            TEXT,
         error_message         TEXT,
         raw_payload           TEXT,
         created_at            BIGINT NOT NULL,
         sent_at               BIGINT,
         delivered_at          BIGINT,
         status_updated_at     BIGINT NOT NULL,
         event_id              TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
         attendee_id           TEXT NOT NULL REFERENCES attendees (id) ON DELETE CASCADE,
         notification_type     TEXT NOT NULL,
         retry_of_id           TEXT))",
    // The seed's five indexes; the one on message_sid also enforces its uniqueness (NULLs allowed).
    R"(CREATE UNIQUE INDEX sms_messages_message_sid_idx ON sms_messages (message_sid))",
    R"(CREATE INDEX sms_messages_attendee_created_idx ON sms_messages (attendee_id, created_at))",
    R"(CREATE INDEX sms_messages_event_created_idx ON sms_messages (event_id, created_at))",
    R"(CREATE INDEX sms_messages_status_created_idx ON sms_messages (status, created_at))",
    R"(CREATE INDEX sms_messages_event_status_idx ON sms_messages (event_id, status))",
    R"(CREATE INDEX sms_messages_retry_of_idx ON sms_messages (retry_of_id))",

    R"(CREATE TABLE sms_status_events (
         id              INTEGER PRIMARY KEY AUTOINCREMENT,
         message_id      TEXT REFERENCES sms_messages (id) ON DELETE CASCADE,
         message_sid     TEXT,
         provider_status TEXT NOT NULL,
         error_code      TEXT,
         source          TEXT NOT NULL,
         dedup_key       TEXT NOT NULL UNIQUE,
         payload         TEXT NOT NULL DEFAULT '{}',
         received_at     BIGINT NOT NULL,
         applied         INTEGER NOT NULL DEFAULT 0 CHECK (applied IN (0, 1)),
         disposition     TEXT NOT NULL DEFAULT 'pending'))",
    R"(CREATE INDEX sms_status_events_message_idx ON sms_status_events (message_id))",
    R"(CREATE INDEX sms_status_events_sid_idx ON sms_status_events (message_sid))",
    R"(CREATE INDEX sms_status_events_pending_idx ON sms_status_events (message_sid, id)
         WHERE disposition = 'pending')",

    R"(CREATE TABLE job_runs (
         id          INTEGER PRIMARY KEY AUTOINCREMENT,
         job         TEXT NOT NULL,
         started_at  BIGINT NOT NULL,
         finished_at BIGINT,
         outcome     TEXT,
         counts      TEXT NOT NULL DEFAULT '{}'))",
    R"(CREATE INDEX job_runs_job_started_idx ON job_runs (job, started_at))",
  }};
}

// Sending (DESIGN §4): where the Twilio request of a message stands. Rows from before it were
// all accepted by Twilio. The partial index finds the sends reconciliation must settle.
migration version_2() {
  return {2, {
    R"(ALTER TABLE sms_messages ADD COLUMN send_state TEXT NOT NULL DEFAULT 'accepted')",
    R"(CREATE INDEX sms_messages_unsettled_send_idx ON sms_messages (send_state, created_at)
         WHERE send_state IN ('sending', 'unknown'))",
  }};
}

// Organizer reads and retries: a message is retried at most once (the unique index is what makes
// "already retried" hold under concurrent retries), counts by type for the event summary, and
// idempotency keys of retry requests.
migration version_3() {
  return {3, {
    R"(DROP INDEX sms_messages_retry_of_idx)",
    R"(CREATE UNIQUE INDEX sms_messages_retry_of_idx ON sms_messages (retry_of_id)
         WHERE retry_of_id IS NOT NULL)",
    R"(CREATE INDEX sms_messages_event_type_idx ON sms_messages (event_id, notification_type))",
    R"(CREATE TABLE idempotency_keys (
         scope        TEXT NOT NULL,
         idem_key     TEXT NOT NULL,
         request_hash TEXT NOT NULL,
         status       INTEGER,
         response     TEXT,
         created_at   BIGINT NOT NULL,
         PRIMARY KEY (scope, idem_key)))",
    R"(CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at))",
  }};
}

// Jobs (issue 5): the tick a scheduled run belongs to (null for runs started by hand). The unique
// index lets exactly one instance claim a tick (INSERT ... ON CONFLICT DO NOTHING).
migration version_4() {
  return {4, {
    R"(ALTER TABLE job_runs ADD COLUMN tick BIGINT)",
    R"(CREATE UNIQUE INDEX job_runs_job_tick_idx ON job_runs (job, tick))",
  }};
}

// The event summary counts by (notification type, status) in one index-only scan: one index on
// (event_id, status, notification_type) replaces (event_id, status), which it serves as its
// prefix (the summary's failed list), and (event_id, notification_type), which only the summary
// used. One index fewer for every insert.
migration version_5() {
  return {5, {
    R"(CREATE INDEX sms_messages_event_status_type_idx
         ON sms_messages (event_id, status, notification_type))",
    R"(DROP INDEX sms_messages_event_status_idx)",
    R"(DROP INDEX sms_messages_event_type_idx)",
  }};
}

dialect_sql make() {
  dialect_sql s;
  s.migrations = {version_1(), version_2(), version_3(), version_4(), version_5()};

  // BEGIN IMMEDIATE takes the write lock up front: two writers never deadlock upgrading a read
  // lock, and concurrent migrations queue behind each other (busy_timeout).
  s.begin_write = "BEGIN IMMEDIATE";
  s.begin_read = "BEGIN";
  s.commit = "COMMIT";
  s.rollback = "ROLLBACK";
  s.lock_migrations = "";
  s.create_schema_migrations = R"(CREATE TABLE IF NOT EXISTS schema_migrations (
                                    version    INTEGER PRIMARY KEY,
                                    applied_at BIGINT NOT NULL))";
  s.schema_migrations_exists =
    "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
  s.latest_migration = "SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations";
  s.record_migration = "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)";
  s.ping = "SELECT 1 AS ok";

  s.insert_message = "INSERT INTO sms_messages (" SMSD_MESSAGE_COLUMNS ") VALUES "
                     "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
                     "?18, ?19, ?20, ?21, ?22, ?23)";
  s.message_by_id = "SELECT " SMSD_MESSAGE_COLUMNS " FROM sms_messages WHERE id = ?1";
  s.message_by_sid = "SELECT " SMSD_MESSAGE_COLUMNS " FROM sms_messages WHERE message_sid = ?1";
  s.message_guard_state =
    "SELECT id, status, status_rank, status_updated_at FROM sms_messages WHERE id = ?1";
  s.attendee_of_event_locked = "SELECT 1 AS ok FROM attendees WHERE event_id = ?1 AND id = ?2";
  s.event_keys_by_message = R"(SELECT dedup_key FROM sms_status_events WHERE message_id = ?1
                               UNION
                               SELECT dedup_key FROM sms_status_events WHERE message_sid = ?2)";
  s.event_keys_by_sid = "SELECT dedup_key FROM sms_status_events WHERE message_sid = ?1";
  s.pending_events = "SELECT " SMSD_EVENT_COLUMNS " FROM sms_status_events "
                     "WHERE message_sid = ?1 AND disposition = 'pending' ORDER BY id";
  // json_each turns the array into rows; each is looked up in the index.
  s.messages_by_ids = "SELECT " SMSD_MESSAGE_COLUMNS " FROM sms_messages "
                      "WHERE id IN (SELECT value FROM json_each(?1))";
  s.messages_by_sids = "SELECT " SMSD_MESSAGE_COLUMNS " FROM sms_messages "
                       "WHERE message_sid IN (SELECT value FROM json_each(?1))";
  s.pending_events_of_sids = "SELECT " SMSD_EVENT_COLUMNS " FROM sms_status_events "
                             "WHERE message_sid IN (SELECT value FROM json_each(?1)) "
                             "AND disposition = 'pending' ORDER BY id";
  s.matchable_pending_sids = R"(SELECT e.message_sid FROM sms_status_events e
                                WHERE e.disposition = 'pending'
                                  AND EXISTS (SELECT 1 FROM sms_messages m
                                              WHERE m.message_sid = e.message_sid)
                                GROUP BY e.message_sid
                                ORDER BY MIN(e.id)
                                LIMIT ?1)";
  s.timeline_events = "SELECT " SMSD_EVENT_COLUMNS " FROM sms_status_events WHERE message_id = ?1 "
                      "UNION "
                      "SELECT " SMSD_EVENT_COLUMNS " FROM sms_status_events WHERE message_sid = ?2 "
                      "ORDER BY received_at, id";

  s.attendee_messages = "SELECT " SMSD_MESSAGE_COLUMNS_OF_M ", r.id AS retried_by_id "
                        "FROM sms_messages m "
                        "LEFT JOIN sms_messages r ON r.retry_of_id = m.id "
                        "WHERE m.event_id = ?1 AND m.attendee_id = ?2 "
                        "ORDER BY m.created_at DESC, m.id DESC";
  // Grouped in the index's order: one index-only scan, no sort.
  s.summary_counts = R"(SELECT notification_type, status, COUNT(*) AS n FROM sms_messages
                        WHERE event_id = ?1 GROUP BY status, notification_type)";
  s.summary_failed = R"(SELECT m.id, m.attendee_id, a.first_name, a.last_name, m.error_code,
                               m.created_at, r.id AS retried_by_id
                        FROM sms_messages m
                        JOIN attendees a ON a.id = m.attendee_id
                        LEFT JOIN sms_messages r ON r.retry_of_id = m.id
                        WHERE m.event_id = ?1 AND m.status IN ('failed', 'undelivered')
                        ORDER BY m.created_at DESC, m.id DESC
                        LIMIT ?2)";
  s.attendee_counts = attendee_counts_sql("WHERE a.event_id = ?1");
  // Each listed id is a primary-key lookup, then its messages by the (attendee_id, created_at) index.
  s.attendee_counts_for =
    attendee_counts_sql("WHERE a.event_id = ?1 AND a.id IN (SELECT value FROM json_each(?2))");
  s.reconcile_candidates = "SELECT " SMSD_MESSAGE_COLUMNS " FROM sms_messages "
    "WHERE created_at >= ?1 AND ("
    "  (status IN ('queued', 'sent') AND message_sid IS NOT NULL AND created_at < ?2)"
    "  OR (message_sid IS NULL AND send_state IN ('unknown', 'sending') AND created_at < ?3))"
    " ORDER BY created_at, id LIMIT ?4";
  // Jobs. The (job, tick) index makes a claimed tick a no-op for every other instance.
  s.start_job_run = R"(INSERT INTO job_runs (job, tick, started_at, counts)
                       VALUES (?1, ?2, ?3, '{}')
                       ON CONFLICT (job, tick) DO NOTHING
                       RETURNING id)";
  s.finish_job_run = R"(UPDATE job_runs SET finished_at = ?2, outcome = ?3, counts = ?4
                        WHERE id = ?1)";
  s.last_job_runs = R"(SELECT id, job, tick, started_at, finished_at, outcome, counts FROM job_runs
                       WHERE id IN (SELECT MAX(id) FROM job_runs GROUP BY job)
                       ORDER BY job)";
  s.recent_job_runs = R"(SELECT id, job, tick, started_at, finished_at, outcome, counts FROM job_runs
                         WHERE job = ?1 ORDER BY id DESC LIMIT ?2)";
  // One process per SQLite file: the runner's in-process flag is the lock.
  s.try_job_lock = "SELECT CASE WHEN ?1 IS NULL THEN 1 ELSE 1 END AS locked";
  s.unlock_job = "";
  // Retention: small batches, each its own transaction, each selecting what is still there.
  s.delete_expired_status_events = R"(DELETE FROM sms_status_events WHERE id IN (
      SELECT se.id FROM sms_status_events se
      JOIN sms_messages m ON m.id = se.message_id
      JOIN events e ON e.id = m.event_id
      WHERE e.date < ?1
      UNION ALL
      SELECT se.id FROM sms_status_events se
      JOIN sms_messages m ON m.message_sid = se.message_sid
      JOIN events e ON e.id = m.event_id
      WHERE se.message_id IS NULL AND e.date < ?1
      LIMIT ?2))";
  s.delete_expired_messages = R"(DELETE FROM sms_messages WHERE id IN (
      SELECT m.id FROM sms_messages m
      JOIN events e ON e.id = m.event_id
      WHERE e.date < ?1
      LIMIT ?2))";

  s.claim_idempotency_key = R"(INSERT INTO idempotency_keys (scope, idem_key, request_hash, created_at)
                               VALUES (?1, ?2, ?3, ?4)
                               ON CONFLICT (scope, idem_key) DO NOTHING)";
  s.select_idempotency_key = R"(SELECT request_hash, status, response FROM idempotency_keys
                                WHERE scope = ?1 AND idem_key = ?2)";
  s.finish_idempotency_key = R"(UPDATE idempotency_keys SET status = ?3, response = ?4
                                WHERE scope = ?1 AND idem_key = ?2)";
  s.release_idempotency_key = R"(DELETE FROM idempotency_keys
                                 WHERE scope = ?1 AND idem_key = ?2 AND status IS NULL)";
  s.purge_idempotency_keys = "DELETE FROM idempotency_keys WHERE created_at < ?1";

  s.update_message_send = R"(UPDATE sms_messages SET
                               send_state = ?2,
                               message_sid = COALESCE(message_sid, ?3),
                               account_sid = COALESCE(?4, account_sid),
                               messaging_service_sid = COALESCE(?5, messaging_service_sid),
                               from_phone = COALESCE(NULLIF(?6, ''), from_phone),
                               num_segments = COALESCE(?7, num_segments)
                             WHERE id = ?1)";
  // The guard (status_rank < ?5 AND ...) decides; sqlite_store::write_batch tells which ops it
  // let through from the row count, the rows' state after it, or their state before it.
  s.update_message_guarded = R"(UPDATE sms_messages SET
                                  status = ?3,
                                  provider_status = COALESCE(?4, provider_status),
                                  status_rank = ?5,
                                  error_code = COALESCE(?6, error_code),
                                  error_message = COALESCE(?7, error_message),
                                  sent_at = COALESCE(sent_at, ?8),
                                  delivered_at = COALESCE(delivered_at, ?9),
                                  raw_payload = COALESCE(?10, raw_payload),
                                  status_updated_at = ?11,
                                  message_sid = COALESCE(message_sid, ?2)
                                WHERE id = ?1 AND status_rank < ?5
                                  AND (?5 < 5 OR status = 'delivered'))";
  // message_id only if the message still exists: a message deleted meanwhile must not fail the
  // whole batch on its foreign key.
  // ?11 = 1: the caller knows the message exists (its update in this transaction found it),
  // which saves the lookup.
  s.insert_status_event = R"(INSERT INTO sms_status_events
                               (message_id, message_sid, provider_status, error_code, source,
                                dedup_key, payload, received_at, applied, disposition)
                             VALUES (CASE WHEN ?11 = 1 THEN ?1
                                          ELSE (SELECT id FROM sms_messages WHERE id = ?1) END,
                                     ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                             ON CONFLICT (dedup_key) DO NOTHING)";
  s.resolve_status_event = R"(UPDATE sms_status_events SET
                                message_id = (SELECT id FROM sms_messages WHERE id = ?2),
                                applied = ?3,
                                disposition = ?4
                              WHERE id = ?1 AND disposition = 'pending')";
  s.commit_batch = "";

  s.event_exists_locked = "SELECT 1 AS ok FROM events WHERE id = ?1";
  s.role_on_event = R"(SELECT e.owner_id, COALESCE(o.can_view, 0) AS can_view,
                              COALESCE(o.can_curate, 0) AS can_curate
                       FROM events e
                       LEFT JOIN event_organizers o ON o.event_id = e.id AND o.user_id = ?2
                       WHERE e.id = ?1)";
  // Owned or granted: each side by its own index (events.owner_id, event_organizers.user_id).
  s.viewable_events = R"(SELECT e.id, e.name, e.date, e.owner_id, e.created_at, e.updated_at,
                                COALESCE(o.can_view, 0) AS can_view,
                                COALESCE(o.can_curate, 0) AS can_curate
                         FROM events e
                         LEFT JOIN event_organizers o ON o.event_id = e.id AND o.user_id = ?1
                         WHERE e.id IN (SELECT id FROM events WHERE owner_id = ?1
                                        UNION
                                        SELECT event_id FROM event_organizers
                                        WHERE user_id = ?1 AND (can_view = 1 OR can_curate = 1))
                         ORDER BY e.date DESC, e.id)";
  s.all_events = R"(SELECT id, name, date, owner_id, created_at, updated_at FROM events
                    ORDER BY date DESC, id)";
  s.select_event = "SELECT id, name, date, owner_id, created_at, updated_at FROM events WHERE id = ?1";
  s.update_event = "UPDATE events SET name = ?2, date = ?3, owner_id = ?4, updated_at = ?5 WHERE id = ?1";
  s.insert_event = R"(INSERT INTO events (id, name, date, owner_id, created_at, updated_at)
                      VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                      ON CONFLICT (id) DO NOTHING)";
  s.delete_event = "DELETE FROM events WHERE id = ?1";
  s.delete_unlinked_events_of_event = R"(DELETE FROM sms_status_events
                                         WHERE message_id IS NULL AND message_sid IN
                                           (SELECT message_sid FROM sms_messages
                                            WHERE event_id = ?1 AND message_sid IS NOT NULL))";
  s.delete_unlinked_events_of_attendee = R"(DELETE FROM sms_status_events
                                            WHERE message_id IS NULL AND message_sid IN
                                              (SELECT message_sid FROM sms_messages
                                               WHERE event_id = ?1 AND attendee_id = ?2
                                                 AND message_sid IS NOT NULL))";
  s.select_attendee = R"(SELECT id, event_id, first_name, last_name, phone, created_at, updated_at
                         FROM attendees WHERE event_id = ?1 AND id = ?2)";
  s.select_attendees_of_event = R"(SELECT id, event_id, first_name, last_name, phone, created_at,
                                          updated_at
                                   FROM attendees WHERE event_id = ?1 ORDER BY created_at, id)";
  s.attendee_event = "SELECT event_id FROM attendees WHERE id = ?1";
  s.update_attendee = R"(UPDATE attendees SET first_name = ?3, last_name = ?4, phone = ?5, updated_at = ?6
                         WHERE id = ?1 AND event_id = ?2)";
  s.insert_attendee = R"(INSERT INTO attendees (id, event_id, first_name, last_name, phone,
                                                created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT (id) DO NOTHING)";
  s.delete_attendee = "DELETE FROM attendees WHERE event_id = ?1 AND id = ?2";
  s.update_organizer = R"(UPDATE event_organizers SET can_view = ?3, can_curate = ?4
                          WHERE event_id = ?1 AND user_id = ?2)";
  s.insert_organizer = R"(INSERT INTO event_organizers (event_id, user_id, can_view, can_curate)
                          VALUES (?1, ?2, ?3, ?4)
                          ON CONFLICT (event_id, user_id) DO NOTHING)";
  s.delete_organizer = "DELETE FROM event_organizers WHERE event_id = ?1 AND user_id = ?2";
  return s;
}

#undef SMSD_MESSAGE_COLUMNS
#undef SMSD_MESSAGE_COLUMNS_OF_M
#undef SMSD_EVENT_COLUMNS

} // namespace

const dialect_sql& sqlite_sql() {
  static const dialect_sql sql = make();
  return sql;
}

} // namespace smsd

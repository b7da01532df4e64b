#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/time.hpp"

namespace smsd {

/// The status columns of one sms_messages row: what the state machine reads and writes.
struct status_fields {
  std::string status = "queued";              ///< ours: queued, sent, delivered, failed, undelivered
  std::optional<std::string> provider_status; ///< Twilio's own word; null before any status
  int status_rank = -1;                       ///< DESIGN §3; -1 before any status applied
  std::optional<std::string> error_code;
  std::optional<std::string> error_message;
  std::optional<millis> sent_at;
  std::optional<millis> delivered_at;
  std::optional<std::string> raw_payload; ///< JSON object text of the last applied callback
  millis status_updated_at = 0;
};

/// Where the Twilio request of a message stands (sms_messages.send_state, DESIGN §4).
namespace send_state {
constexpr const char* sending = "sending";   ///< row written; the request is (or was) in flight
constexpr const char* accepted = "accepted"; ///< Twilio answered with a SID
constexpr const char* rejected = "rejected"; ///< Twilio refused it (its code and message stored)
constexpr const char* not_sent = "not_sent"; ///< never sent: a bad number, or Twilio unreachable
constexpr const char* unknown = "unknown";   ///< it went out and no answer came: reconciliation
} // namespace send_state

/// One sms_messages row.
struct message_record {
  std::string id;
  std::optional<std::string> message_sid; ///< null while the request is in flight or when refused
  std::optional<std::string> account_sid;
  std::optional<std::string> messaging_service_sid;
  std::string to_phone;
  std::string from_phone;
  std::optional<std::string> body;
  int num_segments = 1;
  status_fields state;
  millis created_at = 0;
  std::string event_id;
  std::string attendee_id;
  std::string notification_type;
  std::optional<std::string> retry_of_id;
  std::string send_state = send_state::accepted;
};

/// What happened to one status report (callback, send result, poll); sms_status_events.disposition.
namespace disposition {
constexpr const char* applied = "applied";               ///< changed the message
constexpr const char* duplicate = "duplicate";           ///< same status again
constexpr const char* stale = "stale";                   ///< lower rank than the current one
constexpr const char* anomaly = "anomaly";               ///< a different final after a final
constexpr const char* superseded = "superseded";         ///< the SQL guard refused it (another instance won)
constexpr const char* unknown_status = "unknown_status"; ///< a status Twilio word we do not know
constexpr const char* pending = "pending";               ///< no row for its SID yet; applied later
constexpr const char* orphan = "orphan";                 ///< its message was deleted
constexpr const char* unanswered = "unanswered"; ///< a send that got no answer; left to reconcile
} // namespace disposition

/// One sms_status_events row: append-only log of everything Twilio told us.
struct status_event_record {
  std::int64_t id = 0; ///< assigned by the database
  std::optional<std::string> message_id;
  std::optional<std::string> message_sid;
  std::string provider_status;
  std::optional<std::string> error_code;
  std::string source = "webhook"; ///< send, webhook, reconcile
  std::string dedup_key;          ///< unique; a second report with the same key is not stored
  std::string payload = "{}";     ///< JSON object of every field received
  millis received_at = 0;
  bool applied = false;
  std::string disposition = disposition::pending;
};

/// How a message is looked up: by our id, or by Twilio's SID while the id is unknown. It is
/// also the key of the message's actor.
struct message_key {
  enum kind_t : std::uint8_t { by_id, by_sid } kind = by_id;
  std::string value;

  std::string text() const { return (kind == by_id ? "id:" : "sid:") + value; }
};

/// What a message actor reads when it starts: its row (if any) and, when the row (or, without a
/// row, the key) has a SID, the status events kept pending for that SID, oldest first.
struct loaded_state {
  std::optional<message_record> row;
  std::vector<status_event_record> pending;
};

struct event_record {
  std::string id;
  std::string name;
  millis date = 0; ///< the event's date; drives retention
  std::string owner_id;
  millis created_at = 0;
  millis updated_at = 0;
};

struct attendee_record {
  std::string id;
  std::string event_id;
  std::string first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> phone;
  millis created_at = 0;
  millis updated_at = 0;
};

struct organizer_record {
  std::string event_id;
  std::string user_id;
  bool can_view = false;
  bool can_curate = false;
};

/// A message as the organizer read endpoints show it: the row, and the retry made of it.
struct message_entry {
  message_record message;
  std::optional<std::string> retried_by_id; ///< the message that retried this one, if any
};

/// A failed or undelivered message of an event, for its summary.
struct failed_message {
  std::string id;
  std::string attendee_id;
  std::string attendee_name; ///< first name, and last name when known
  std::optional<std::string> error_code;
  millis created_at = 0;
  std::optional<std::string> retried_by_id;
};

/// How many messages of an event have one notification type and one status.
struct type_status_count {
  std::string notification_type;
  std::string status;
  std::int64_t n = 0;
};

/// An event's messages in numbers (the seed's sms-summary). by_status and by_type are sums of
/// by_type_and_status.
struct event_summary {
  std::vector<type_status_count> by_type_and_status;           ///< only pairs present
  std::vector<std::pair<std::string, std::int64_t>> by_status; ///< only statuses present
  std::vector<std::pair<std::string, std::int64_t>> by_type;   ///< only types present
  std::vector<failed_message> failed;                          ///< newest first, up to the limit
};

/// One attendee, and its messages in numbers (sms-status).
struct attendee_counts {
  std::string attendee_id;
  std::string first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> phone; ///< as stored
  std::int64_t total = 0;
  std::int64_t delivered = 0;
  std::int64_t pending = 0;      ///< queued or sent
  std::int64_t failed = 0;       ///< failed or undelivered
  std::int64_t open_failed = 0;  ///< of those, not retried yet
};

/// What an idempotency key holds: the request it was first used for and, once answered, the
/// answer.
struct idempotency_record {
  std::string request_hash;
  std::optional<int> status;     ///< null while the first request is still being answered
  std::optional<std::string> response;
};

/// What one user may do on one event (DESIGN §5): its owner views and curates; a co-organizer
/// as event_organizers grants.
struct event_role {
  bool owner = false;
  bool can_view = false;
  bool can_curate = false;
};

/// An event a user may view, with the user's role on it (owner, or the co-organizer's grants).
struct viewable_event {
  event_record event;
  event_role role;
};

/// A guarded change of one message's status columns. Written only while the stored
/// status_rank is lower than state.status_rank (and, for rank 5, only over 'delivered'):
/// the same guard as the state machine's, in SQL, so no writer ever moves a message back.
/// Stored sent_at/delivered_at/error_code/error_message are kept when the update has none.
struct message_update {
  std::string message_id;
  std::optional<std::string> message_sid; ///< attached if the row has none yet
  status_fields state;
};

/// What the Twilio request of a message came to. Written whatever the status rank (it describes
/// the request, not the delivery); a null keeps what is stored, a stored SID is never replaced.
struct send_update {
  std::string message_id;
  std::string send_state;
  std::optional<std::string> message_sid;
  std::optional<std::string> account_sid;
  std::optional<std::string> messaging_service_sid;
  std::optional<std::string> from_phone;
  std::optional<int> num_segments;
};

/// A pending status event that has now been matched to its message.
struct event_resolution {
  std::int64_t event_id = 0;
  std::string message_id;
  bool applied = false;
  std::string disposition;
};

/// One unit of a group commit: all of it is written, or none of it.
struct write_op {
  std::optional<send_update> send; ///< written before `update`
  std::optional<message_update> update;
  /// New status events. Inserted with ON CONFLICT (dedup_key) DO NOTHING; message_id is stored
  /// only if that message still exists. If `update` was refused by the guard, inserts marked
  /// applied are stored as applied = false, disposition 'superseded'.
  std::vector<status_event_record> inserts;
  std::vector<event_resolution> resolutions;
};

/// What the database did with one write_op.
struct write_result {
  bool updated = false;        ///< the message update was applied
  bool message_exists = true;  ///< the update's message row exists (false: it was deleted)
};

} // namespace smsd

#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "twilio/rest_client.hpp"

namespace smsd {

class status_intake;
class store_pool;

/// The seed's six kinds of notification; anything else is refused.
bool valid_notification_type(const std::string& type);
/// "invitation, rsvp_reminder, ..." for error messages.
const char* notification_types_text();

struct sender_settings {
  std::string public_app_url; ///< StatusCallback = this + /api/webhooks/twilio/status?mid=<id>
  std::optional<std::string> messaging_service_sid; ///< preferred over from_number
  std::optional<std::string> from_number;
  std::string default_region = "US"; ///< for numbers written without a country code
  int ack_timeout_ms = 10000;        ///< how long to wait for the send result to be durable
  int max_parallel = 8;              ///< sends of one notify in flight at once
};

/// One text to one attendee (the seed's SMSOptions, `to` optional).
struct send_request {
  std::string event_id;
  std::string attendee_id;
  std::optional<std::string> to; ///< defaults to the attendee's phone
  std::string body;
  std::string notification_type;
  std::optional<std::string> retry_of_id;
};

/// The seed's SMSResult.
struct send_result {
  bool success = false;
  std::optional<std::string> message_sid;  ///< messageId: Twilio's SID
  std::optional<std::string> db_record_id; ///< our sms_messages id, whenever a row was written
  std::optional<std::string> error;
  bool row_failed = false; ///< the row ended failed (refused, not sent); else it is queued
};

/// A bulk send to an event's attendees.
struct notify_request {
  std::string event_id;
  std::string notification_type;
  std::string body; ///< may hold {{firstName}} and {{eventName}}
  std::optional<std::vector<std::string>> attendee_ids; ///< all attendees with a phone if absent
};

struct notify_entry {
  std::string attendee_id;
  send_result result;
  bool skipped = false; ///< not sent: no phone, or no such attendee in the event
};

struct notify_result {
  int sent = 0;
  int failed = 0;
  int skipped = 0;
  std::vector<notify_entry> results; ///< in the order of the attendees
};

/// A retry of an attendee's failed texts (seed §3): one message, or all of them.
struct retry_request {
  std::string event_id;
  std::string attendee_id;
  std::optional<std::string> message_id; ///< this one; else every failed one (retryAll)
};

struct retry_entry {
  std::string original_id;
  send_result result; ///< db_record_id is the new message
};

/// Why a message is not retried (retry_skip::code).
namespace retry_skip_code {
constexpr const char* already_retried = "already_retried";
constexpr const char* not_retryable = "not_retryable"; ///< its error code is not (catalog)
constexpr const char* not_failed = "not_failed"; ///< a single retry of a message that did not fail
} // namespace retry_skip_code

struct retry_skip {
  std::string original_id;
  std::string reason; ///< in words
  std::optional<std::string> existing_retry_id;
  std::string code;                      ///< retry_skip_code
  std::optional<std::string> error_code; ///< not_retryable: the message's error code
};

struct retry_result {
  std::vector<retry_entry> results;
  std::vector<retry_skip> skipped;
  /// A single-message retry that cannot be done (already retried, not failed): the 409.
  std::optional<retry_skip> refused;
};

/// What retry() would do, sending nothing: the same choice, made by the same code.
struct retry_preview {
  std::vector<std::string> would_retry; ///< the originals it would retry, in its order
  std::vector<retry_skip> skipped;
  std::optional<retry_skip> refused;
};

/// Sends texts as DESIGN §4 says: the row first (queued, no SID, send_state sending), then
/// Twilio's create with a StatusCallback carrying our id, then the answer goes to the message's
/// actor as a send result (source "send") and is waited for until durable. Nothing is ever sent
/// twice automatically: an unanswered create leaves the row for reconciliation.
/// Thread-safe; every call blocks its caller (HTTP request threads).
class sender {
public:
  sender(sender_settings settings, store_pool& stores, twilio::twilio_api& twilio,
         status_intake& intake);

  /// not_found when the event or the attendee (within the event) does not exist;
  /// invalid_argument when there is no number to send to. Otherwise a row was written and the
  /// result says how the send went.
  caf::expected<send_result> send(const send_request& r);

  /// not_found when the event does not exist. Sends up to max_parallel texts at once.
  caf::expected<notify_result> notify(const notify_request& r);

  /// Retries failed or undelivered messages of the attendee as NEW messages (retry_of_id set;
  /// same body and notification type; the attendee's current phone); the originals stay as they
  /// were. A message is retried at most once. retryAll skips non-retryable error codes.
  /// not_found when the attendee (within the event) or the named message (of that attendee)
  /// does not exist.
  caf::expected<retry_result> retry(const retry_request& r);

  /// What retry(r) would retry and skip now, without sending or writing anything (the dry run
  /// of retryAll). The same errors as retry().
  caf::expected<retry_preview> preview_retry(const retry_request& r);

  /// `body` with {{firstName}} and {{eventName}} filled in.
  static std::string fill_template(const std::string& body, const std::string& first_name,
                                   const std::string& event_name);

private:
  sender_settings settings_;
  store_pool& stores_;
  twilio::twilio_api& twilio_;
  status_intake& intake_;
};

} // namespace smsd

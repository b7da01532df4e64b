#pragma once

#include <future>
#include <optional>
#include <string>

#include "common/time.hpp"
#include "persistence/records.hpp"

namespace smsd {

/// One status report about a message, already verified (signature checked, fields present).
struct status_report {
  std::optional<std::string> message_id; ///< our id, when the callback URL carried it (?mid=)
  std::string message_sid;     ///< empty only in a send result without a SID
  std::string provider_status; ///< Twilio's word, lower case ("delivered"); empty in a send
                               ///< result whose outcome is unknown
  std::optional<std::string> error_code;
  std::optional<std::string> error_message;
  std::optional<std::string> idempotency_token; ///< I-Twilio-Idempotency-Token
  std::string source = "webhook";               ///< webhook, send, reconcile
  std::string payload = "{}";                   ///< JSON object of every field received
  millis received_at = 0;
  /// A send result (source "send") also says what the Twilio request came to.
  std::optional<send_update> send;
};

/// The door from threads outside CAF (Poco's request threads) into the message actors.
class status_intake {
public:
  virtual ~status_intake() = default;

  /// Hands a report to its message's actor. The future becomes ready once the report, and any
  /// change it made, is committed to the database; it holds an exception if that failed (or
  /// the actor chain went away). Callers wait on it with a deadline.
  virtual std::future<void> submit(status_report report) = 0;
};

} // namespace smsd

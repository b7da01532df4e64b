#pragma once
// One way for every test to build a message row as the sender writes it.

#include <optional>
#include <string>

#include "persistence/records.hpp"

namespace smsd::test {

/// A queued message (status columns at their defaults), with or without its SID.
inline message_record sample_message(const std::string& id, std::optional<std::string> sid,
                                     const std::string& event_id, const std::string& attendee_id) {
  message_record m;
  m.id = id;
  m.message_sid = std::move(sid);
  m.account_sid = "AC1";
  m.messaging_service_sid = "MG1";
  m.to_phone = "+15551230000";
  m.from_phone = "+15559870000";
  m.body = "Hello";
  m.created_at = 1'000;
  m.state.status_updated_at = 1'000;
  m.event_id = event_id;
  m.attendee_id = attendee_id;
  m.notification_type = "event_reminder";
  return m;
}

} // namespace smsd::test

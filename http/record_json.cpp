#include "http/record_json.hpp"

#include "common/time.hpp"
#include "http/json_body.hpp"
#include "twilio/error_catalog.hpp"

namespace smsd {

namespace {

// Stored payloads are flat objects we wrote ourselves; this only guards against surprises.
constexpr int stored_json_depth = 64;

nlohmann::json opt(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json opt_time(const std::optional<millis>& v) {
  return v ? nlohmann::json(to_iso8601(*v)) : nlohmann::json(nullptr);
}

} // namespace

nlohmann::json stored_json(const std::string& text) {
  auto parsed = parse_json_body(text, stored_json_depth);
  if (!parsed)
    return text;
  return std::move(*parsed);
}

nlohmann::json event_json(const event_record& e) {
  return {{"id", e.id},
          {"name", e.name},
          {"date", to_iso8601(e.date)},
          {"ownerId", e.owner_id},
          {"createdAt", to_iso8601(e.created_at)},
          {"updatedAt", to_iso8601(e.updated_at)}};
}

nlohmann::json attendee_json(const attendee_record& a) {
  return {{"id", a.id},
          {"eventId", a.event_id},
          {"firstName", a.first_name},
          {"lastName", opt(a.last_name)},
          {"phone", opt(a.phone)},
          {"createdAt", to_iso8601(a.created_at)},
          {"updatedAt", to_iso8601(a.updated_at)}};
}

nlohmann::json organizer_json(const organizer_record& o) {
  nlohmann::json permissions = nlohmann::json::array();
  if (o.can_view)
    permissions.push_back("view");
  if (o.can_curate)
    permissions.push_back("curate");
  return {{"eventId", o.event_id}, {"userId", o.user_id}, {"permissions", permissions}};
}

nlohmann::json error_info_json(const std::optional<std::string>& code) {
  if (!code || code->empty())
    return nullptr;
  auto info = error_info_for(*code);
  return {{"title", info.title}, {"description", info.description}, {"retryable", info.retryable}};
}

nlohmann::json history_message_json(const message_record& m) {
  const status_fields& s = m.state;
  return {{"id", m.id},
          {"messageSid", opt(m.message_sid)},
          {"status", s.status},
          {"notificationType", m.notification_type},
          {"body", opt(m.body)},
          {"createdAt", to_iso8601(m.created_at)},
          {"sentAt", opt_time(s.sent_at)},
          {"deliveredAt", opt_time(s.delivered_at)},
          {"errorCode", opt(s.error_code)},
          {"errorMessage", opt(s.error_message)},
          {"errorInfo", error_info_json(s.error_code)},
          {"retryOfId", opt(m.retry_of_id)}};
}

nlohmann::json message_json(const message_record& m) {
  const status_fields& s = m.state;
  auto j = history_message_json(m);
  j.update({{"eventId", m.event_id},
            {"attendeeId", m.attendee_id},
            {"toPhone", m.to_phone},
            {"fromPhone", m.from_phone},
            {"accountSid", opt(m.account_sid)},
            {"messagingServiceSid", opt(m.messaging_service_sid)},
            {"numSegments", m.num_segments},
            {"providerStatus", opt(s.provider_status)},
            {"statusRank", s.status_rank},
            {"sendState", m.send_state},
            {"rawPayload", s.raw_payload ? stored_json(*s.raw_payload) : nlohmann::json(nullptr)},
            {"statusUpdatedAt", s.status_updated_at
                                  ? nlohmann::json(to_iso8601(s.status_updated_at))
                                  : nlohmann::json(nullptr)}});
  return j;
}

nlohmann::json status_event_json(const status_event_record& e) {
  return {{"id", e.id},
          {"messageId", opt(e.message_id)},
          {"messageSid", opt(e.message_sid)},
          {"providerStatus", e.provider_status},
          {"errorCode", opt(e.error_code)},
          {"source", e.source},
          {"receivedAt", to_iso8601(e.received_at)},
          {"applied", e.applied},
          {"disposition", e.disposition},
          {"payload", stored_json(e.payload)}};
}

} // namespace smsd

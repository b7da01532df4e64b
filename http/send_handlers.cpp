#include "http/send_handlers.hpp"

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "config/config.hpp"
#include "http/errors.hpp"
#include "http/event_access.hpp"
#include "http/request_json.hpp"
#include "sending/sender.hpp"

namespace smsd {

namespace {

constexpr std::size_t max_body_chars = 1600; // Twilio's limit for one message body
constexpr std::size_t max_phone_length = 32;
constexpr std::size_t max_type_length = 64;
constexpr std::size_t max_attendee_ids = 10000;

std::size_t utf8_chars(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

std::string read_body_text(field_reader& f) {
  auto body = f.text("body", max_body_chars * 4);
  if (!f.error() && utf8_chars(body) > max_body_chars)
    f.fail("body must be at most " + std::to_string(max_body_chars) + " characters");
  return body;
}

std::string read_notification_type(field_reader& f) {
  auto type = f.text("notificationType", max_type_length);
  if (!f.error() && !valid_notification_type(type))
    f.fail(std::string("notificationType must be one of ") + notification_types_text());
  return type;
}

http_response not_configured() {
  return error_response(503, "sending is not configured: set TWILIO_ACCOUNT_SID, "
                             "TWILIO_AUTH_TOKEN and TWILIO_MESSAGING_SERVICE_SID or "
                             "TWILIO_FROM_NUMBER");
}

nlohmann::json result_json(const send_result& r) {
  nlohmann::json j = {{"success", r.success}};
  if (r.message_sid)
    j["messageId"] = *r.message_sid;
  if (r.db_record_id)
    j["dbRecordId"] = *r.db_record_id;
  if (r.error)
    j["error"] = *r.error;
  return j;
}

http_response post_send(const handler_env& env, const request_context& req) {
  if (auto r = require_bearer(req))
    return *r;
  nlohmann::json body;
  if (auto r = read_json_object(env, req, body))
    return *r;
  field_reader f{body};
  send_request s;
  s.event_id = f.text("eventId", max_id_length);
  s.attendee_id = f.text("attendeeId", max_id_length);
  s.to = f.optional_text("to", max_phone_length);
  s.body = read_body_text(f);
  s.notification_type = read_notification_type(f);
  if (f.error())
    return error_response(400, *f.error());
  auto access = authorize_event(env, req, s.event_id, event_permission::curate);
  if (access.denied)
    return *access.denied;
  if (!env.sms_sender)
    return not_configured();
  auto res = env.sms_sender->send(s);
  if (!res)
    return error_response(res.error());
  return json_response(200, result_json(*res));
}

http_response post_notify(const handler_env& env, const request_context& req) {
  if (auto r = require_bearer(req))
    return *r;
  if (auto r = check_id(req, "eventId", "event id"))
    return *r;
  nlohmann::json body;
  if (auto r = read_json_object(env, req, body))
    return *r;
  field_reader f{body};
  notify_request n;
  n.event_id = req.param("eventId");
  n.notification_type = read_notification_type(f);
  n.body = read_body_text(f);
  if (const auto* ids = f.value("attendeeIds"); ids && !ids->is_null()) {
    if (!ids->is_array()) {
      f.fail("attendeeIds must be an array of attendee ids");
    } else if (ids->size() > max_attendee_ids) {
      f.fail("attendeeIds must list at most " + std::to_string(max_attendee_ids) + " attendees");
    } else {
      n.attendee_ids.emplace();
      for (const auto& id : *ids) {
        if (!id.is_string() || id.get_ref<const std::string&>().empty()
            || id.get_ref<const std::string&>().size() > max_id_length) {
          f.fail("attendeeIds must hold non-empty attendee ids of at most "
                 + std::to_string(max_id_length) + " bytes");
          break;
        }
        n.attendee_ids->push_back(id.get<std::string>());
      }
    }
  }
  if (f.error())
    return error_response(400, *f.error());
  auto access = authorize_event(env, req, n.event_id, event_permission::curate);
  if (access.denied)
    return *access.denied;
  if (!env.sms_sender)
    return not_configured();
  auto res = env.sms_sender->notify(n);
  if (!res)
    return error_response(res.error());
  auto results = nlohmann::json::array();
  for (const auto& e : res->results) {
    auto j = result_json(e.result);
    j["attendeeId"] = e.attendee_id;
    j["skipped"] = e.skipped;
    results.push_back(std::move(j));
  }
  spdlog::info("notify {} ({}): {} sent, {} failed, {} skipped", n.event_id, n.notification_type,
               res->sent, res->failed, res->skipped);
  return json_response(200, {{"sent", res->sent},
                             {"failed", res->failed},
                             {"skipped", res->skipped},
                             {"results", std::move(results)}});
}

} // namespace

void add_send_routes(router& routes, const handler_env& env) {
  routes.add("POST", "/api/sms/send",
             [env](const request_context& req) { return post_send(env, req); });
  routes.add("POST", "/api/events/{eventId}/notify",
             [env](const request_context& req) { return post_notify(env, req); });
}

} // namespace smsd

#include "http/admin_sync_handlers.hpp"

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "common/time.hpp"
#include "config/config.hpp"
#include "http/admin_auth.hpp"
#include "http/errors.hpp"
#include "http/json_body.hpp"
#include "http/request_json.hpp"
#include "http/record_json.hpp"
#include "http/store_access.hpp"

namespace smsd {

namespace {

constexpr int acquire_timeout_ms = 5000;
constexpr std::size_t max_name_length = 500;
constexpr std::size_t max_phone_length = 32;

// Digits with the usual separators and an optional leading '+': "+15551234567", "(555) 123-4567".
bool looks_like_phone(const std::string& s) {
  int digits = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9')
      ++digits;
    else if (c == '+' ? i != 0 : std::string_view(" -().").find(c) == std::string_view::npos)
      return false;
  }
  return digits >= 7 && digits <= 15;
}

// Admin token, then the body size and JSON, for PUT. On success `body` is a JSON object.
std::optional<http_response> admit_put(const handler_env& env, const request_context& req,
                                       nlohmann::json& body) {
  if (auto denied = require_admin(req, env.cfg->admin_token))
    return denied;
  return read_json_object(env, req, body);
}

int status_of(upsert_outcome o) {
  return o == upsert_outcome::created ? 201 : 200;
}

http_response deleted(bool existed, const char* what) {
  if (existed)
    return empty_response(204);
  return error_response(404, std::string(what) + " not found");
}

// -- events --------------------------------------------------------------------------------------

http_response put_event(const handler_env& env, const request_context& req) {
  nlohmann::json body;
  if (auto r = admit_put(env, req, body))
    return *r;
  if (auto r = check_id(req, "eventId", "event id"))
    return *r;
  field_reader f{body};
  event_record e;
  e.id = req.param("eventId");
  e.name = f.text("name", max_name_length);
  const std::string date = f.text("date", 64);
  e.owner_id = f.text("ownerId", max_id_length);
  if (!f.error() && !date.empty()) {
    if (auto t = parse_iso8601(date))
      e.date = *t;
    else
      f.fail("date must be an ISO-8601 date-time with a zone, e.g. 2026-12-01T19:00:00Z");
  }
  if (f.error())
    return error_response(400, *f.error());
  e.created_at = e.updated_at = now_millis();
  return with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
    auto outcome = db.upsert_event(e);
    if (!outcome)
      return outcome.error();
    auto stored = db.find_event(e.id);
    if (!stored)
      return stored.error();
    spdlog::info("admin: event {} {}", e.id,
                 *outcome == upsert_outcome::created ? "created" : "updated");
    return json_response(status_of(*outcome), event_json(stored->value_or(e)));
  });
}

http_response delete_event(const handler_env& env, const request_context& req) {
  if (auto denied = require_admin(req, env.cfg->admin_token))
    return *denied;
  if (auto r = check_id(req, "eventId", "event id"))
    return *r;
  return with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
    auto existed = db.delete_event(req.param("eventId"));
    if (!existed)
      return existed.error();
    if (*existed)
      spdlog::info("admin: event {} deleted", req.param("eventId"));
    return deleted(*existed, "event");
  });
}

// -- attendees -----------------------------------------------------------------------------------

http_response put_attendee(const handler_env& env, const request_context& req) {
  nlohmann::json body;
  if (auto r = admit_put(env, req, body))
    return *r;
  if (auto r = check_id(req, "eventId", "event id"))
    return *r;
  if (auto r = check_id(req, "attendeeId", "attendee id"))
    return *r;
  field_reader f{body};
  attendee_record a;
  a.id = req.param("attendeeId");
  a.event_id = req.param("eventId");
  a.first_name = f.text("firstName", max_name_length);
  a.last_name = f.optional_text("lastName", max_name_length);
  a.phone = f.optional_text("phone", max_phone_length);
  if (!f.error() && a.phone && !looks_like_phone(*a.phone))
    f.fail("phone must be a phone number, e.g. +15551234567");
  if (f.error())
    return error_response(400, *f.error());
  a.created_at = a.updated_at = now_millis();
  return with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
    auto outcome = db.upsert_attendee(a);
    if (!outcome)
      return outcome.error();
    auto stored = db.find_attendee(a.event_id, a.id);
    if (!stored)
      return stored.error();
    spdlog::info("admin: attendee {} of event {} {} (phone {})", a.id, a.event_id,
                 *outcome == upsert_outcome::created ? "created" : "updated",
                 a.phone ? mask_phone(*a.phone) : std::string("none"));
    return json_response(status_of(*outcome), attendee_json(stored->value_or(a)));
  });
}

http_response delete_attendee(const handler_env& env, const request_context& req) {
  if (auto denied = require_admin(req, env.cfg->admin_token))
    return *denied;
  if (auto r = check_id(req, "eventId", "event id"))
    return *r;
  if (auto r = check_id(req, "attendeeId", "attendee id"))
    return *r;
  return with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
    auto existed = db.delete_attendee(req.param("eventId"), req.param("attendeeId"));
    if (!existed)
      return existed.error();
    if (*existed)
      spdlog::info("admin: attendee {} of event {} deleted", req.param("attendeeId"),
                   req.param("eventId"));
    return deleted(*existed, "attendee");
  });
}

// -- organizers ----------------------------------------------------------------------------------

http_response put_organizer(const handler_env& env, const request_context& req) {
  nlohmann::json body;
  if (auto r = admit_put(env, req, body))
    return *r;
  if (auto r = check_id(req, "eventId", "event id"))
    return *r;
  if (auto r = check_id(req, "userId", "user id"))
    return *r;
  organizer_record o;
  o.event_id = req.param("eventId");
  o.user_id = req.param("userId");
  auto p = body.find("permissions");
  if (p == body.end() || p->is_null())
    return error_response(400, "permissions is required");
  if (!p->is_array())
    return error_response(400, "permissions must be an array of strings");
  for (const auto& item : *p) {
    if (!item.is_string())
      return error_response(400, "permissions must be an array of strings");
    const auto& word = item.get_ref<const std::string&>();
    if (word == "view")
      o.can_view = true;
    else if (word == "curate")
      o.can_curate = true;
    else
      return error_response(400, "permissions: unknown permission '" + word.substr(0, 40)
                                   + "' (known: view, curate)");
  }
  return with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
    auto outcome = db.upsert_organizer(o);
    if (!outcome)
      return outcome.error();
    spdlog::info("admin: organizer {} of event {} {}", o.user_id, o.event_id,
                 *outcome == upsert_outcome::created ? "created" : "updated");
    return json_response(status_of(*outcome), organizer_json(o));
  });
}

http_response delete_organizer(const handler_env& env, const request_context& req) {
  if (auto denied = require_admin(req, env.cfg->admin_token))
    return *denied;
  if (auto r = check_id(req, "eventId", "event id"))
    return *r;
  if (auto r = check_id(req, "userId", "user id"))
    return *r;
  return with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
    auto existed = db.delete_organizer(req.param("eventId"), req.param("userId"));
    if (!existed)
      return existed.error();
    if (*existed)
      spdlog::info("admin: organizer {} of event {} deleted", req.param("userId"),
                   req.param("eventId"));
    return deleted(*existed, "organizer");
  });
}

} // namespace

void add_admin_sync_routes(router& routes, const handler_env& env) {
  auto bind = [env](http_response (*f)(const handler_env&, const request_context&)) {
    return [env, f](const request_context& req) { return f(env, req); };
  };
  routes.add("PUT", "/api/admin/events/{eventId}", bind(put_event));
  routes.add("DELETE", "/api/admin/events/{eventId}", bind(delete_event));
  routes.add("PUT", "/api/admin/events/{eventId}/attendees/{attendeeId}", bind(put_attendee));
  routes.add("DELETE", "/api/admin/events/{eventId}/attendees/{attendeeId}", bind(delete_attendee));
  routes.add("PUT", "/api/admin/events/{eventId}/organizers/{userId}", bind(put_organizer));
  routes.add("DELETE", "/api/admin/events/{eventId}/organizers/{userId}", bind(delete_organizer));
}

} // namespace smsd

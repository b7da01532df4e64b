#include "http/event_handlers.hpp"

#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "common/time.hpp"
#include "http/errors.hpp"
#include "http/event_access.hpp"
#include "http/request_json.hpp"
#include "http/store_access.hpp"

namespace smsd {

namespace {

constexpr int acquire_timeout_ms = 5000;

nlohmann::json event_entry_json(const event_record& e, const event_permissions& p) {
  auto permissions = nlohmann::json::array({"view"});
  if (p.curate)
    permissions.push_back("curate");
  return {{"id", e.id},
          {"name", e.name},
          {"date", to_iso8601(e.date)},
          {"role", p.role},
          {"permissions", std::move(permissions)}};
}

http_response list_events(const handler_env& env, const request_context& req) {
  const auto who = authenticate(env, req);
  if (who.denied)
    return *who.denied;
  return with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
    auto list = nlohmann::json::array();
    if (who.caller.is_admin) {
      auto all = db.all_events();
      if (!all)
        return all.error();
      for (const auto& e : *all)
        list.push_back(event_entry_json(e, admin_permissions()));
    } else {
      auto mine = db.viewable_events(who.caller.user_id);
      if (!mine)
        return mine.error();
      for (const auto& v : *mine)
        if (auto p = permissions_of(v.role))
          list.push_back(event_entry_json(v.event, *p));
    }
    return json_response(200, {{"events", std::move(list)}});
  });
}

http_response get_event(const handler_env& env, const request_context& req) {
  if (auto r = require_bearer(req))
    return *r;
  if (auto r = check_id(req, "eventId", "event id"))
    return *r;
  const auto& event_id = req.param("eventId");
  const auto access = authorize_event(env, req, event_id, event_permission::view);
  if (access.denied)
    return *access.denied;
  return with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
    // Organizers without a role were answered 404 already; the admin token reaches here for any id.
    auto ev = db.find_event(event_id);
    if (!ev)
      return ev.error();
    if (!*ev)
      return error_response(404, "Event not found");
    return json_response(200, event_entry_json(**ev, access.permissions));
  });
}

} // namespace

void add_event_routes(router& routes, const handler_env& env) {
  routes.add("GET", "/api/events",
             [env](const request_context& req) { return list_events(env, req); });
  routes.add("GET", "/api/events/{eventId}",
             [env](const request_context& req) { return get_event(env, req); });
}

} // namespace smsd

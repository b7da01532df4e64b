#include "http/admin_message_handler.hpp"

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "http/admin_auth.hpp"
#include "http/request_json.hpp"
#include "http/errors.hpp"
#include "http/record_json.hpp"
#include "http/store_access.hpp"

namespace smsd {

namespace {

constexpr int acquire_timeout_ms = 5000;

http_response get_message(const handler_env& env, const request_context& req) {
  if (auto denied = require_admin(req, env.cfg->admin_token))
    return *denied;
  if (auto r = check_id(req, "idOrSid", "message id"))
    return *r;
  const std::string& key = req.param("idOrSid");
  return with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
    auto found = db.timeline(key);
    if (!found)
      return found.error();
    if (!*found)
      return error_response(404, "message not found");
    const message_timeline& t = **found;
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : t.events)
      events.push_back(status_event_json(e));
    return json_response(200, nlohmann::json{{"message", message_json(t.message)},
                                             {"events", std::move(events)}});
  });
}

} // namespace

void add_admin_message_routes(router& routes, const handler_env& env) {
  routes.add("GET", "/api/admin/messages/{idOrSid}",
             [env](const request_context& req) { return get_message(env, req); });
}

} // namespace smsd

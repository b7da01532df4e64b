#include "http/event_access.hpp"

#include <chrono>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "config/config.hpp"
#include "http/admin_auth.hpp"
#include "http/errors.hpp"
#include "http/organizer_token.hpp"
#include "persistence/store.hpp"
#include "persistence/store_pool.hpp"

namespace smsd {

namespace {

constexpr int acquire_timeout_ms = 5000;

http_response unauthorized(const std::string& why) {
  auto r = error_response(401, why);
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

event_access deny(http_response r) {
  event_access a;
  a.denied = std::move(r);
  return a;
}

/// The user's role on the event from a pooled connection, or the error response.
caf::expected<std::optional<event_role>> lookup_role(store_pool* pool, const std::string& event_id,
                                                     const std::string& user_id) {
  if (!pool)
    return make_error(errc::unavailable, "no database configured");
  auto lease = pool->acquire(acquire_timeout_ms);
  if (!lease)
    return lease.error();
  auto role = (*lease)->role_on_event(event_id, user_id);
  if (!role && code_of(role.error()) == errc::unavailable)
    lease->discard();
  return role;
}

} // namespace

std::optional<event_permissions> permissions_of(const event_role& role) {
  event_permissions p;
  if (role.owner) {
    p.role = "owner";
    p.view = p.curate = true;
    return p;
  }
  if (!role.can_view && !role.can_curate)
    return std::nullopt;
  p.view = true;
  p.curate = role.can_curate;
  return p;
}

event_permissions admin_permissions() {
  return {"admin", true, true};
}

role_decision decide_role(const std::optional<event_role>& role, event_permission needed) {
  const auto p = role ? permissions_of(*role) : std::nullopt;
  if (!p)
    return role_decision::hidden;
  return needed == event_permission::view || p->curate ? role_decision::allowed
                                                      : role_decision::forbidden;
}

std::string to_string(const event_caller& caller) {
  return caller.is_admin ? std::string("admin") : "user " + caller.user_id;
}

caf::error require_event(store& db, const std::string& event_id) {
  auto ev = db.find_event(event_id);
  if (!ev)
    return ev.error();
  if (!*ev)
    return make_error(errc::not_found, "Event not found");
  return {};
}

std::optional<http_response> require_bearer(const request_context& req) {
  if (!req.has_header("Authorization"))
    return unauthorized("missing Authorization: Bearer token");
  if (!bearer_token(req.header("Authorization")))
    return unauthorized("Authorization must be a Bearer token");
  return std::nullopt;
}

event_access authenticate(const handler_env& env, const request_context& req) {
  if (auto r = require_bearer(req))
    return deny(std::move(*r));
  const auto token = *bearer_token(req.header("Authorization"));
  event_access a;
  if (token_matches(token, env.cfg->admin_token)) {
    a.caller.is_admin = true;
    return a;
  }
  auto identity = verify_organizer_token(token, env.cfg->jwt_secret, now_seconds());
  if (!identity) {
    // The reason names what was wrong, never the token or its claims.
    spdlog::info("{} {} from {}: token refused: {}", req.method, req.path, req.peer,
                 message_of(identity.error()));
    return deny(unauthorized("invalid or expired token"));
  }
  a.caller.user_id = std::move(identity->user_id);
  a.caller.expires_at = identity->expires_at;
  return a;
}

event_access authorize_event(const handler_env& env, const request_context& req,
                             const std::string& event_id, event_permission needed) {
  auto a = authenticate(env, req);
  if (a.denied)
    return a;
  if (a.caller.is_admin) {
    a.permissions = admin_permissions();
    return a;
  }

  const auto& user = a.caller.user_id;
  auto role = lookup_role(env.stores, event_id, user);
  if (!role)
    return deny(error_response(role.error()));
  const char* perm = needed == event_permission::view ? "view" : "curate";
  switch (decide_role(*role, needed)) {
    case role_decision::hidden:
      spdlog::info("{} {}: user {} has no role on event {}", req.method, req.path, user, event_id);
      return deny(error_response(404, "Event not found"));
    case role_decision::forbidden:
      spdlog::info("{} {}: user {} lacks {} on event {}", req.method, req.path, user, perm,
                   event_id);
      return deny(error_response(403, std::string("you may not ") + perm + " this event"));
    case role_decision::allowed:
      break;
  }
  a.permissions = *permissions_of(**role);
  return a;
}

} // namespace smsd

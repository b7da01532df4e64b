#include "http/event_access.hpp"

#include "config/config.hpp"
#include "http/admin_auth.hpp"
#include "http/errors.hpp"

namespace smsd {

namespace {

http_response unauthorized(const std::string& why) {
  auto r = error_response(401, why);
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

} // namespace

std::optional<http_response> require_bearer(const request_context& req) {
  if (!req.has_header("Authorization"))
    return unauthorized("missing Authorization: Bearer token");
  if (!bearer_token(req.header("Authorization")))
    return unauthorized("Authorization must be a Bearer token");
  return std::nullopt;
}

std::optional<http_response> authorize_event(const handler_env& env, const request_context& req,
                                             const std::string& event_id,
                                             event_permission needed) {
  if (auto r = require_bearer(req))
    return r;
  auto token = bearer_token(req.header("Authorization"));
  if (token_matches(*token, env.cfg->admin_token))
    return std::nullopt;
  return unauthorized("invalid token");
}

} // namespace smsd

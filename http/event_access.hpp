#pragma once

#include <optional>
#include <string>

#include "http/handler_env.hpp"
#include "http/response.hpp"
#include "http/router.hpp"

namespace smsd {

/// What a caller may do on an event (DESIGN §5): organizers view and curate as granted.
enum class event_permission { view, curate };

/// nullopt when the caller may act on the event with `needed`; otherwise the answer:
/// 401 without a valid token, 404 when the caller has no role on the event (its existence is
/// not revealed), 403 when the role lacks the permission. The admin token may do everything.
/// Organizer tokens are not accepted yet (401); they plug in here.
std::optional<http_response> authorize_event(const handler_env& env, const request_context& req,
                                             const std::string& event_id,
                                             event_permission needed);

/// nullopt when the request carries some bearer token (checked later, per event); else the 401.
std::optional<http_response> require_bearer(const request_context& req);

} // namespace smsd

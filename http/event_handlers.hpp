#pragma once

#include "http/handler_env.hpp"
#include "http/router.hpp"

namespace smsd {

/// The events an organizer sees, for the organizer page:
///  GET /api/events            (any valid token) the events the caller may view, newest first
///  GET /api/events/{eventId}  (view)            one of them
/// Each event is {"id", "name", "date", "role", "permissions"}: role "owner", "organizer" or
/// "admin"; permissions ["view"] or ["view", "curate"] (event_access.hpp: permissions_of).
void add_event_routes(router& routes, const handler_env& env);

} // namespace smsd

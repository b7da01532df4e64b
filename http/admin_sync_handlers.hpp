#pragma once

#include "http/handler_env.hpp"
#include "http/router.hpp"

namespace smsd {

/// The platform's sync endpoints (admin token):
///   PUT/DELETE /api/admin/events/{eventId}
///   PUT/DELETE /api/admin/events/{eventId}/attendees/{attendeeId}
///   PUT/DELETE /api/admin/events/{eventId}/organizers/{userId}
/// PUT upserts and answers the stored object (201 created, 200 updated); DELETE answers 204, or
/// 404 if there was nothing to delete. Deleting an event or attendee cascades.
void add_admin_sync_routes(router& routes, const handler_env& env);

} // namespace smsd

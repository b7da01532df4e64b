#pragma once

#include "http/handler_env.hpp"
#include "http/router.hpp"

namespace smsd {

/// GET /api/admin/messages/{idOrSid} (admin token): one message, found by our id or by its
/// Twilio SID, with every status event recorded for it, oldest first:
/// {"message": {...}, "events": [{...}]}; 404 if neither matches.
void add_admin_message_routes(router& routes, const handler_env& env);

} // namespace smsd

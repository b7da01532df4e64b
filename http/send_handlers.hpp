#pragma once

#include "http/handler_env.hpp"
#include "http/router.hpp"

namespace smsd {

/// POST /api/sms/send (the seed's sendSMS) and POST /api/events/{eventId}/notify (bulk), both
/// needing curate on the event. Checks, in order: a bearer token (401), the body size (413),
/// JSON and fields (400), the caller's rights on the event (401/403/404), then sends through the
/// sender (503 when sending is not configured). A send that reached the point of writing a row
/// answers 200 with the seed's SMSResult, success or not; nothing is written for a 4xx.
void add_send_routes(router& routes, const handler_env& env);

} // namespace smsd

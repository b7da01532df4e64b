#pragma once

#include "http/handler_env.hpp"
#include "http/router.hpp"

namespace smsd {

/// GET /api/events/{eventId}/sms-stream (view): Server-Sent Events of the event's committed
/// message changes (http/sms_stream_hub.hpp), from env.streams. The stream closes when the
/// organizer token that opened it expires, and at shutdown. A `Last-Event-ID` header resumes
/// after that event, or gets `event: resync`.
void add_stream_routes(router& routes, const handler_env& env);

} // namespace smsd

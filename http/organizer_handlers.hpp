#pragma once

#include "http/handler_env.hpp"
#include "http/router.hpp"

namespace smsd {

/// The organizer endpoints of the seed (§2–4) and DESIGN §5, each checking the caller's rights on
/// the event in the path first (authorize_event: 401/403/404), and looking attendees and
/// messages up only within that event:
///  GET  /api/events/{eventId}/attendees/{attendeeId}/sms-history  (view)
///  GET  /api/events/{eventId}/sms-summary[?failedLimit=N]          (view)
///  GET  /api/events/{eventId}/attendees/sms-status                 (view)
///  POST /api/events/{eventId}/attendees/{attendeeId}/sms-retry     (curate; Idempotency-Key;
///       {"retryAll": true, "dryRun": true} previews, sending nothing and claiming no key)
///  GET  /api/events/{eventId}/attendees/{attendeeId}/messages/{messageId}/timeline  (view)
/// Reads go straight to the store, no actor in the way.
void add_organizer_routes(router& routes, const handler_env& env);

} // namespace smsd

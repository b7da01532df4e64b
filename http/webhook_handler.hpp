#pragma once

#include "http/handler_env.hpp"
#include "http/router.hpp"

namespace smsd {

/// POST /api/webhooks/twilio/status: Twilio's signed status callbacks (DESIGN §4, spec §1).
/// Checks, in order: a signature header (403), the body size (413), the form (400), the
/// signature under every configured token (403, nothing else done), MessageSid/MessageStatus
/// (400). Then hands a status_report to the intake and answers 200 {"success":true} once it is
/// durable, or 503 if that failed or took longer than callback_ack_timeout_ms (Twilio retries).
void add_webhook_routes(router& routes, const handler_env& env);

/// The handler itself, for the router.
http_response handle_status_callback(const handler_env& env, const request_context& req);

} // namespace smsd

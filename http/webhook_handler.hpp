#pragma once

#include <variant>

#include "actors/status_intake.hpp"
#include "http/form.hpp"
#include "http/handler_env.hpp"
#include "http/router.hpp"

namespace smsd {

/// POST /api/webhooks/twilio/status: Twilio's signed status callbacks (DESIGN §4, spec §1).
/// Checks, in order: a signature header (403), the body size (413), the form (400), the
/// signature under every configured token (403, nothing else done), MessageSid/MessageStatus
/// (400). Then hands a status_report to the intake and answers 200 {"success":true} once it is
/// durable, or 503 if that failed or took longer than callback_ack_timeout_ms (Twilio retries).
/// An async route: it runs on the event loop and never blocks.
void add_webhook_routes(router& routes, const handler_env& env);

/// The checks above: the answer that refuses the request, or the report to store.
std::variant<http_response, status_report> check_status_callback(const handler_env& env,
                                                                 const request_context& req);

/// Every body parameter as one JSON object (the raw payload stored with the report): names in
/// byte order, a repeated name's values as an array in the order received. The same text as
/// nlohmann/json's dump of that object.
std::string callback_payload_json(const form_params& params);

/// The handler itself: answers through `respond`, once the report is durable or refused.
void handle_status_callback(const handler_env& env, const request_context& req,
                            responder respond);

} // namespace smsd

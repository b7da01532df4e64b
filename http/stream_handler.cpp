#include "http/stream_handler.hpp"

#include <chrono>

#include "http/errors.hpp"
#include "http/event_access.hpp"
#include "http/organizer_token.hpp"
#include "http/request_json.hpp"
#include "http/response_stream.hpp"
#include "http/sms_stream_hub.hpp"
#include "http/store_access.hpp"

namespace smsd {

namespace {

constexpr int acquire_timeout_ms = 5000;

// Longer Last-Event-ID values are not ours: they get a resync like any unknown id.
constexpr std::size_t max_last_event_id = 64;

// When a stream opened with this caller's token must end: when the token stops being accepted
// (its exp, plus the leeway every organizer endpoint allows), on our clock. Ending it earlier
// would only make the page reconnect with a token that still works.
std::chrono::steady_clock::time_point stream_end(const event_caller& caller) {
  if (caller.is_admin || caller.expires_at <= 0)
    return std::chrono::steady_clock::time_point::max();
  const auto left =
    std::chrono::duration<double>(caller.expires_at + organizer_token_leeway_seconds)
    - std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::steady_clock::now()
         + std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
}

http_response open_stream(const handler_env& env, const request_context& req) {
  if (auto r = require_bearer(req))
    return *r;
  if (auto r = check_id(req, "eventId", "event id"))
    return *r;
  const auto& event_id = req.param("eventId");
  auto access = authorize_event(env, req, event_id, event_permission::view);
  if (access.denied)
    return *access.denied;
  if (access.caller.is_admin) {
    auto found = with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
      if (auto err = require_event(db, event_id))
        return err;
      return empty_response(200);
    });
    if (found.status != 200)
      return found;
  }
  if (!env.streams)
    return error_response(503, "event streams are not available");
  std::string last_id = req.header("Last-Event-ID");
  if (last_id.size() > max_last_event_id)
    last_id = "?";
  auto stream = env.streams->subscribe(event_id, last_id, stream_end(access.caller));
  if (!stream)
    return error_response(503, "smsd is stopping");
  http_response r;
  r.status = 200;
  r.content_type = "text/event-stream; charset=utf-8";
  r.headers.emplace_back("X-Accel-Buffering", "no"); // proxies must not hold events back
  r.stream = std::move(stream);
  return r;
}

} // namespace

void add_stream_routes(router& routes, const handler_env& env) {
  routes.add("GET", "/api/events/{eventId}/sms-stream",
             [env](const request_context& req) { return open_stream(env, req); });
}

} // namespace smsd

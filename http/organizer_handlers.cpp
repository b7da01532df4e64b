#include "http/organizer_handlers.hpp"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>
#include <nlohmann/json.hpp>

#include "actors/status_machine.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "config/config.hpp"
#include "http/attendee_dot.hpp"
#include "http/errors.hpp"
#include "http/event_access.hpp"
#include "http/form.hpp"
#include "http/record_json.hpp"
#include "http/request_json.hpp"
#include "http/store_access.hpp"
#include "sending/sender.hpp"

namespace smsd {

namespace {

constexpr int acquire_timeout_ms = 5000;
constexpr int default_failed_limit = 100;
constexpr int max_failed_limit = 1000;
constexpr std::size_t max_idempotency_key = 200;

const char* const statuses[] = {"queued", "sent", "delivered", "failed", "undelivered"};
const char* const types[] = {"invitation",     "rsvp_reminder", "match_reveal",
                             "event_reminder", "new_rsvps",     "question_set"};

nlohmann::json opt(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

/// A path parameter that names an id, and how a 400 calls it.
struct path_id {
  const char* name;
  const char* label;
};
constexpr path_id attendee_param{"attendeeId", "attendee id"};
constexpr path_id message_param{"messageId", "message id"};

// A bearer token, the ids in the path (eventId and `more`), then the caller's rights.
std::optional<http_response> admit(const handler_env& env, const request_context& req,
                                   event_permission needed, std::initializer_list<path_id> more) {
  if (auto r = require_bearer(req))
    return r;
  if (auto r = check_id(req, "eventId", "event id"))
    return r;
  for (const auto& id : more)
    if (auto r = check_id(req, id.name, id.label))
      return r;
  return authorize_event(env, req, req.param("eventId"), needed).denied;
}

// -- sms-history -------------------------------------------------------------------------------

http_response get_history(const handler_env& env, const request_context& req) {
  if (auto r = admit(env, req, event_permission::view, {attendee_param}))
    return *r;
  const auto& event_id = req.param("eventId");
  const auto& attendee_id = req.param("attendeeId");
  return with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
    auto at = db.find_attendee(event_id, attendee_id);
    if (!at)
      return at.error();
    if (!*at) {
      if (auto err = require_event(db, event_id))
        return err;
      return error_response(404, "Attendee not found");
    }
    auto messages = db.attendee_messages(event_id, attendee_id);
    if (!messages)
      return messages.error();
    auto list = nlohmann::json::array();
    std::int64_t delivered = 0, failed = 0, pending = 0;
    for (const auto& e : *messages) {
      const auto& st = e.message.state.status;
      if (st == "delivered")
        ++delivered;
      else if (st == "failed" || st == "undelivered")
        ++failed;
      else
        ++pending;
      auto j = history_message_json(e.message);
      j["retriedById"] = opt(e.retried_by_id);
      list.push_back(std::move(j));
    }
    const auto& a = **at;
    nlohmann::json body = {
      {"attendee",
       {{"id", a.id}, {"firstName", a.first_name}, {"lastName", opt(a.last_name)},
        {"phone", opt(a.phone)}}},
      {"messages", std::move(list)},
      {"summary",
       {{"total", static_cast<std::int64_t>(messages->size())},
        {"delivered", delivered},
        {"failed", failed},
        {"pending", pending}}}};
    return json_response(200, body);
  });
}

// -- message timeline ----------------------------------------------------------------------------

/// One status report as the timeline shows it: `status` is ours for Twilio's word, or null.
nlohmann::json timeline_event_json(const status_event_record& e) {
  const auto ours = map_twilio_status(e.provider_status);
  return {{"receivedAt", to_iso8601(e.received_at)},
          {"providerStatus", e.provider_status},
          {"status", ours ? nlohmann::json(ours->ours) : nlohmann::json(nullptr)},
          {"errorCode", opt(e.error_code)},
          {"source", e.source},
          {"applied", e.applied},
          {"disposition", e.disposition},
          {"payload", stored_json(e.payload)}};
}

http_response get_timeline(const handler_env& env, const request_context& req) {
  if (auto r = admit(env, req, event_permission::view, {attendee_param, message_param}))
    return *r;
  const auto& event_id = req.param("eventId");
  const auto& attendee_id = req.param("attendeeId");
  const auto& message_id = req.param("messageId");
  return with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
    auto found = db.timeline(message_id);
    if (!found)
      return found.error();
    // Only by our id (timeline() also takes a SID), and only that attendee's in that event.
    const bool theirs = *found && (*found)->message.id == message_id
                        && (*found)->message.event_id == event_id
                        && (*found)->message.attendee_id == attendee_id;
    if (!theirs) {
      if (auto err = require_event(db, event_id))
        return err;
      return error_response(404, "Message not found");
    }
    const auto& t = **found;
    auto events = nlohmann::json::array();
    for (const auto& e : t.events)
      events.push_back(timeline_event_json(e));
    return json_response(200, {{"messageId", t.message.id},
                               {"status", t.message.state.status},
                               {"events", std::move(events)}});
  });
}

// -- sms-summary ---------------------------------------------------------------------------------

http_response get_summary(const handler_env& env, const request_context& req) {
  if (auto r = admit(env, req, event_permission::view, {}))
    return *r;
  int failed_limit = default_failed_limit;
  if (!req.query.empty()) {
    auto q = parse_form(req.query);
    if (!q)
      return error_response(q.error());
    if (auto v = first_value(*q, "failedLimit")) {
      int n = 0;
      bool digits = !v->empty() && v->size() <= 4
                    && std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; });
      if (digits)
        n = std::stoi(*v);
      if (!digits || n < 1 || n > max_failed_limit)
        return error_response(400, "failedLimit must be an integer from 1 to "
                                     + std::to_string(max_failed_limit));
      failed_limit = n;
    }
  }
  const auto& event_id = req.param("eventId");
  return with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
    if (auto err = require_event(db, event_id))
      return err;
    auto sum = db.summarize_event(event_id, failed_limit);
    if (!sum)
      return sum.error();
    auto count_of = [](const auto& pairs, const char* key) {
      for (const auto& [k, n] : pairs)
        if (k == key)
          return n;
      return std::int64_t{0};
    };
    nlohmann::json by_status = nlohmann::json::object();
    std::int64_t total = 0;
    for (const auto& [k, n] : sum->by_status)
      total += n;
    for (auto s : statuses)
      by_status[s] = count_of(sum->by_status, s);
    nlohmann::json by_type = nlohmann::json::object();
    nlohmann::json by_type_and_status = nlohmann::json::object();
    for (auto t : types) {
      by_type[t] = count_of(sum->by_type, t);
      auto& row = by_type_and_status[t];
      for (auto s : statuses)
        row[s] = 0;
    }
    for (const auto& c : sum->by_type_and_status)
      if (auto row = by_type_and_status.find(c.notification_type); row != by_type_and_status.end())
        if (auto cell = row->find(c.status); cell != row->end())
          *cell = c.n;
    const auto delivered = count_of(sum->by_status, "delivered");
    const auto failed = count_of(sum->by_status, "failed");
    const auto undelivered = count_of(sum->by_status, "undelivered");
    const auto final_count = delivered + failed + undelivered;
    const double rate = final_count == 0 ? 0.0 : double(delivered) / double(final_count);
    auto failed_list = nlohmann::json::array();
    for (const auto& f : sum->failed)
      failed_list.push_back({{"id", f.id},
                             {"attendeeId", f.attendee_id},
                             {"attendeeName", f.attendee_name},
                             {"errorCode", opt(f.error_code)},
                             {"createdAt", to_iso8601(f.created_at)},
                             {"errorInfo", error_info_json(f.error_code)},
                             {"retried", f.retried_by_id.has_value()},
                             {"retriedById", opt(f.retried_by_id)}});
    nlohmann::json body = {{"total", total},
                           {"byStatus", std::move(by_status)},
                           {"byType", std::move(by_type)},
                           {"byTypeAndStatus", std::move(by_type_and_status)},
                           {"deliveryRate", rate},
                           {"failedMessages", std::move(failed_list)},
                           {"failedMessagesTotal", failed + undelivered}};
    return json_response(200, body);
  });
}

// -- sms-status ----------------------------------------------------------------------------------

http_response get_attendee_status(const handler_env& env, const request_context& req) {
  if (auto r = admit(env, req, event_permission::view, {}))
    return *r;
  const auto& event_id = req.param("eventId");
  return with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
    if (auto err = require_event(db, event_id))
      return err;
    auto counts = db.attendee_counts_of_event(event_id);
    if (!counts)
      return counts.error();
    auto list = nlohmann::json::array();
    for (const auto& c : *counts) {
      auto j = attendee_counts_json(c);
      j.update({{"attendeeId", c.attendee_id},
                {"firstName", c.first_name},
                {"lastName", opt(c.last_name)},
                {"phone", opt(c.phone)},
                {"dot", attendee_dot(c)}});
      list.push_back(std::move(j));
    }
    return json_response(200, {{"attendees", std::move(list)}});
  });
}

// -- sms-retry -----------------------------------------------------------------------------------

std::string sha256_hex(const std::string& text) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(text);
  return Poco::DigestEngine::digestToHex(engine.digest());
}

// Who is asking, for the scope of an idempotency key: the admin, or the organizer's user id.
std::string scope_of(const event_caller& caller) {
  return caller.is_admin ? "admin" : "user:" + caller.user_id;
}

nlohmann::json skipped_json(const std::vector<retry_skip>& skipped) {
  auto out = nlohmann::json::array();
  for (const auto& s : skipped) {
    nlohmann::json j = {{"originalMessageId", s.original_id}, {"reason", s.reason},
                        {"code", s.code}};
    if (s.existing_retry_id)
      j["existingRetryId"] = *s.existing_retry_id;
    if (s.error_code)
      j["errorCode"] = *s.error_code;
    out.push_back(std::move(j));
  }
  return out;
}

http_response retry_answer(const retry_result& res) {
  if (res.refused) {
    nlohmann::json body = {{"error", res.refused->reason}};
    if (res.refused->existing_retry_id)
      body["existingRetryId"] = *res.refused->existing_retry_id;
    return json_response(409, body);
  }
  auto results = nlohmann::json::array();
  int retried = 0;
  bool all_ok = true;
  for (const auto& e : res.results) {
    nlohmann::json j = {{"originalMessageId", e.original_id},
                        {"newMessageId", opt(e.result.db_record_id)},
                        {"status", e.result.row_failed ? "failed" : "queued"}};
    if (e.result.message_sid)
      j["messageId"] = *e.result.message_sid;
    if (e.result.error)
      j["error"] = *e.result.error;
    if (e.result.db_record_id)
      ++retried;
    all_ok = all_ok && e.result.success;
    results.push_back(std::move(j));
  }
  return json_response(200, {{"success", all_ok},
                             {"retried", retried},
                             {"results", std::move(results)},
                             {"skipped", skipped_json(res.skipped)}});
}

/// The dry run's answer: the retry's shape, nothing retried, and what would be.
http_response preview_answer(const retry_preview& p) {
  return json_response(200, {{"dryRun", true},
                             {"success", true},
                             {"retried", 0},
                             {"results", nlohmann::json::array()},
                             {"wouldRetry", p.would_retry},
                             {"skipped", skipped_json(p.skipped)}});
}

http_response post_retry(const handler_env& env, const request_context& req) {
  if (auto r = require_bearer(req))
    return *r;
  if (auto r = check_id(req, "eventId", "event id"))
    return *r;
  if (auto r = check_id(req, "attendeeId", "attendee id"))
    return *r;
  nlohmann::json body;
  if (auto r = read_json_object(env, req, body))
    return *r;
  retry_request rr;
  rr.event_id = req.param("eventId");
  rr.attendee_id = req.param("attendeeId");
  const auto* message_id = body.contains("messageId") ? &body["messageId"] : nullptr;
  const auto* retry_all = body.contains("retryAll") ? &body["retryAll"] : nullptr;
  const auto* dry_run = body.contains("dryRun") ? &body["dryRun"] : nullptr;
  const bool all = retry_all && retry_all->is_boolean() && retry_all->get<bool>();
  const bool single = message_id && message_id->is_string() && !message_id->get_ref<const std::string&>().empty()
                      && message_id->get_ref<const std::string&>().size() <= max_id_length;
  const bool bad_dry_run = dry_run && !dry_run->is_boolean();
  if (body.size() != (dry_run ? 2u : 1u) || (!all && !single) || bad_dry_run)
    return error_response(400, "the body must be {\"messageId\": \"...\"} or {\"retryAll\": true}"
                               " (with retryAll, \"dryRun\": true previews it)");
  const bool preview = dry_run && dry_run->get<bool>();
  if (preview && !all)
    return error_response(400, "dryRun previews retryAll only");
  if (single)
    rr.message_id = message_id->get<std::string>();
  std::optional<std::string> key;
  if (req.has_header("Idempotency-Key")) {
    key = req.header("Idempotency-Key");
    if (key->empty() || key->size() > max_idempotency_key)
      return error_response(400, "Idempotency-Key must be 1 to "
                                   + std::to_string(max_idempotency_key) + " characters");
  }
  auto access = authorize_event(env, req, rr.event_id, event_permission::curate);
  if (access.denied)
    return *access.denied;
  if (!env.sms_sender)
    return error_response(503, "sending is not configured: set TWILIO_ACCOUNT_SID, "
                               "TWILIO_AUTH_TOKEN and TWILIO_MESSAGING_SERVICE_SID or "
                               "TWILIO_FROM_NUMBER");

  // A dry run sends and writes nothing, so it claims no key either.
  if (preview) {
    auto p = env.sms_sender->preview_retry(rr);
    return p ? preview_answer(*p) : error_response(p.error());
  }

  // An Idempotency-Key makes a repeated request answer what the first one did, sending nothing.
  const std::string scope =
    "retry:" + rr.event_id + ":" + rr.attendee_id + ":" + scope_of(access.caller);
  const std::string request_hash = sha256_hex(body.dump());
  if (key) {
    auto claimed = with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
      auto c = db.claim_idempotency_key(scope, *key, request_hash, now_millis());
      if (!c)
        return c.error();
      if (!*c)
        return empty_response(100); // claimed: go on
      const auto& rec = **c;
      if (rec.request_hash != request_hash)
        return error_response(422, "Idempotency-Key was already used for a different request");
      if (!rec.status)
        return error_response(409, "a request with this Idempotency-Key is still being answered");
      http_response replay;
      replay.status = *rec.status;
      replay.body = rec.response.value_or("");
      replay.headers.emplace_back("Idempotent-Replayed", "true");
      return replay;
    });
    if (claimed.status != 100)
      return claimed;
  }

  auto res = env.sms_sender->retry(rr);
  http_response answer = res ? retry_answer(*res) : error_response(res.error());
  if (key) {
    // Final answers are kept for the key; a failure that changed nothing frees it again.
    auto lease = env.stores->acquire(acquire_timeout_ms);
    if (lease) {
      caf::error err = answer.status >= 500 ? (*lease)->release_idempotency_key(scope, *key)
                                            : (*lease)->finish_idempotency_key(scope, *key, answer.status, answer.body);
      if (err)
        spdlog::error("idempotency key of a retry on event {}: {}", rr.event_id, describe(err));
    }
  }
  return answer;
}

} // namespace

void add_organizer_routes(router& routes, const handler_env& env) {
  routes.add("GET", "/api/events/{eventId}/attendees/{attendeeId}/sms-history",
             [env](const request_context& req) { return get_history(env, req); });
  routes.add("GET", "/api/events/{eventId}/sms-summary",
             [env](const request_context& req) { return get_summary(env, req); });
  routes.add("GET", "/api/events/{eventId}/attendees/sms-status",
             [env](const request_context& req) { return get_attendee_status(env, req); });
  routes.add("POST", "/api/events/{eventId}/attendees/{attendeeId}/sms-retry",
             [env](const request_context& req) { return post_retry(env, req); });
  routes.add("GET", "/api/events/{eventId}/attendees/{attendeeId}/messages/{messageId}/timeline",
             [env](const request_context& req) { return get_timeline(env, req); });
}

} // namespace smsd

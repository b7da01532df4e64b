#include "http/webhook_handler.hpp"

#include <algorithm>
#include <chrono>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/status_intake.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "http/errors.hpp"
#include "http/form.hpp"
#include "http/twilio_signature.hpp"

namespace smsd {

namespace {

constexpr const char* callback_path = "/api/webhooks/twilio/status";

std::string lower_ascii(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return s;
}

// The public base without a trailing slash, so that base + "/api/..." has one slash.
std::string public_base(const std::string& url) {
  std::string base = url;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  return base;
}

// First non-empty value of `name`, else of `fallback`.
std::optional<std::string> field(const form_params& params, const char* name,
                                 const char* fallback = nullptr) {
  if (auto v = first_value(params, name); v && !v->empty())
    return v;
  if (fallback)
    if (auto v = first_value(params, fallback); v && !v->empty())
      return v;
  return std::nullopt;
}

} // namespace

std::variant<http_response, status_report> check_status_callback(const handler_env& env,
                                                                 const request_context& req) {
  const config& cfg = *env.cfg;
  const std::string& signature = req.header("X-Twilio-Signature");
  if (signature.empty()) {
    spdlog::warn("twilio callback from {} refused: no X-Twilio-Signature", req.peer);
    return error_response(403, "missing X-Twilio-Signature");
  }
  if (req.body_too_large)
    return error_response(413, "request body exceeds " + std::to_string(cfg.max_body_bytes)
                                 + " bytes");
  auto params = parse_form(req.body);
  if (!params)
    return error_response(params.error());

  // The URL Twilio signed: our public base and the request target exactly as received.
  const std::string target =
    !req.target.empty() && req.target.front() == '/'
      ? req.target
      : req.path + (req.query.empty() ? "" : "?" + req.query);
  const std::string url = public_base(cfg.public_app_url) + target;
  std::vector<std::string> tokens;
  if (!cfg.twilio_auth_token.empty())
    tokens.push_back(cfg.twilio_auth_token);
  if (!cfg.twilio_auth_token_secondary.empty())
    tokens.push_back(cfg.twilio_auth_token_secondary);
  if (tokens.empty()) {
    spdlog::error("twilio callback from {} refused: TWILIO_AUTH_TOKEN is not configured",
                  req.peer);
    return error_response(403, "invalid signature");
  }
  if (!twilio_signature_valid(tokens, url, *params, signature)) {
    spdlog::warn("twilio callback from {} refused: signature does not match {} with {} "
                 "parameter(s) under {} token(s), with and without the default port",
                 req.peer, req.path, params->size(), tokens.size());
    return error_response(403, "invalid signature");
  }

  auto sid = field(*params, "MessageSid", "SmsSid");
  auto status = field(*params, "MessageStatus", "SmsStatus");
  if (!sid)
    return error_response(400, "MessageSid (or SmsSid) is missing");
  if (!status)
    return error_response(400, "MessageStatus (or SmsStatus) is missing");
  auto query = parse_form(req.query);
  if (!query)
    return error_response(400, "malformed query string");

  status_report report;
  if (auto mid = first_value(*query, "mid"); mid && !mid->empty())
    report.message_id = std::move(*mid);
  report.message_sid = std::move(*sid);
  report.provider_status = lower_ascii(std::move(*status));
  report.error_code = field(*params, "ErrorCode");
  report.error_message = field(*params, "ErrorMessage");
  if (const auto& token = req.header("I-Twilio-Idempotency-Token"); !token.empty())
    report.idempotency_token = token;
  report.source = "webhook";
  report.payload = callback_payload_json(*params);
  report.received_at = now_millis();
  if (spdlog::should_log(spdlog::level::debug))
    spdlog::debug("twilio callback {} {} (mid {}, to {})", report.message_sid,
                  report.provider_status, report.message_id.value_or("-"),
                  mask_phone(first_value(*params, "To").value_or("")));

  return report;
}

void handle_status_callback(const handler_env& env, const request_context& req,
                            responder respond) {
  auto checked = check_status_callback(env, req);
  if (auto* refused = std::get_if<http_response>(&checked)) {
    count(counters().callbacks_refused);
    respond(std::move(*refused));
    return;
  }
  auto& report = std::get<status_report>(checked);
  if (!env.intake || (env.stopping && env.stopping->load())) {
    count(counters().callbacks_not_stored);
    respond(error_response(503, "status updates cannot be stored now; retry later"));
    return;
  }
  static const http_response stored = json_response(200, nlohmann::json{{"success", true}});
  std::string sid = report.message_sid;
  env.intake->submit(std::move(report), [respond = std::move(respond), sid = std::move(sid)](
                                          bool ok, const std::string& why) {
    if (ok) {
      count(counters().callbacks_durable);
      respond(stored);
      return;
    }
    count(counters().callbacks_not_stored);
    spdlog::warn("twilio callback {} not stored: {}; answering 503", sid, why);
    respond(error_response(503, "status update not stored; retry later"));
  });
}

std::string callback_payload_json(const form_params& params) {
  // Written directly: building the nlohmann object (a std::map) and dumping it cost about as
  // much as checking the signature. Keys in byte order, as std::map keeps them; a stable sort
  // keeps a repeated name's values in their order.
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(params.size());
  for (const auto& p : params)
    sorted.push_back(&p);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->first < b->first; });
  std::string out = "{";
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t end = i + 1;
    while (end < sorted.size() && sorted[end]->first == sorted[i]->first)
      ++end;
    if (i > 0)
      out += ',';
    append_json_string(out, sorted[i]->first);
    out += ':';
    if (end - i == 1) {
      append_json_string(out, sorted[i]->second);
    } else {
      out += '[';
      for (std::size_t k = i; k < end; ++k) {
        if (k > i)
          out += ',';
        append_json_string(out, sorted[k]->second);
      }
      out += ']';
    }
    i = end;
  }
  out += '}';
  return out;
}

void add_webhook_routes(router& routes, const handler_env& env) {
  async_route route;
  route.handler = [env](request_context& req, responder respond) {
    handle_status_callback(env, req, std::move(respond));
  };
  // Twilio waits 15 s for an answer, then retries: a report not durable in time gets a 503.
  route.timeout = std::chrono::milliseconds(env.cfg->callback_ack_timeout_ms);
  route.on_timeout = error_response(503, "status update not stored in time; retry later");
  routes.add_async("POST", callback_path, std::move(route));
}

} // namespace smsd

// smsd's real answers against docs/openapi.yaml: Prism in proxy mode with --errors stands in front
// of a real smsd (in process, SQLite, sending through the Twilio simulator), validates each
// request and forwards it, then validates smsd's answer. A response that breaks the description
// becomes Prism's 500 VIOLATIONS; a status the description does not list for the operation (which
// Prism only warns about) shows in its `sl-violations` header. The test fails on either.
//
// Each request is a row: what to send, the status smsd must answer, and which way it goes:
//  - through `strict` Prism (requests and answers checked): the request is one the description
//    accepts;
//  - through `lenient` Prism (--validate-request=false, answers checked): a request the
//    description itself refuses, so that smsd's own refusal (400, 413...) is checked too; the same
//    request sent to `strict` Prism must be refused there (422, or 401 without a token);
//  - `direct` to smsd: requests Prism answers itself whatever the mode (no bearer token: Prism's
//    401); smsd's answer is then checked here for the error shape.
// A new endpoint is a few more rows; tests/unit/http/openapi_routes_test.cpp makes sure it is in
// the description at all.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <Poco/Timespan.h>
#include <Poco/Timestamp.h>
#include <nlohmann/json.hpp>

#include "integration_support.hpp"
#include "tests/support/prism_process.hpp"
#include "tests/support/smsd_process.hpp"
#include "tests/support/twilio_sim_process.hpp"

using namespace smsd;
using namespace smsd::test;
using nlohmann::json;

namespace {

const std::string description = std::string(SMSD_SOURCE_DIR) + "/docs/openapi.yaml";
const std::string account_sid = "AC00000000000000000000000000000000";
const std::string jwt_secret = "openapi-proxy-jwt-secret-0123456789";
const header_list admin{bearer(admin_token)};
const header_list wrong_token{bearer("not-the-admin-token")};

/// An organizer token for `user`, HS256 under the test's secret, expiring in `ttl_s` seconds
/// (negative: already expired).
std::string organizer_jwt(const std::string& user, int ttl_s = 3600) {
  Poco::JWT::Token token;
  token.setType("JWT");
  token.setSubject(user);
  token.setExpiration(Poco::Timestamp() + Poco::Timespan(ttl_s, 0));
  Poco::JWT::Signer signer(jwt_secret);
  return signer.sign(token, Poco::JWT::Signer::ALGO_HS256);
}

enum class route { strict, lenient, direct };

/// One request and what smsd must answer to it.
struct api_call {
  std::string name;
  http_request_spec request;
  int status = 200;
  route via = route::strict;
  /// lenient and direct rows: what strict Prism answers to the same request (the description
  /// refuses it too).
  int refused_with = 0;
  /// A header smsd's answer must carry, with this value.
  std::optional<std::pair<std::string, std::string>> answer_header;

  api_call& as(header_list headers) {
    request.headers.insert(request.headers.end(), headers.begin(), headers.end());
    return *this;
  }
  api_call& json_body(const json& body) {
    request.body = body.dump();
    request.content_type = "application/json";
    return *this;
  }
  /// A body sent as is with Content-Type: application/json (malformed JSON, say).
  api_call& raw_json(std::string body) {
    request.body = std::move(body);
    request.content_type = "application/json";
    return *this;
  }
  api_call& form_body(std::string body) {
    request.body = std::move(body);
    request.content_type = "application/x-www-form-urlencoded";
    return *this;
  }
  api_call& expect(int s) {
    status = s;
    return *this;
  }
  /// Sent through lenient Prism; strict Prism must answer `prism_status` (422 by default).
  api_call& refused_by_description(int prism_status = 422) {
    via = route::lenient;
    refused_with = prism_status;
    return *this;
  }
  /// Sent straight to smsd: Prism answers this request itself (401 without a bearer token).
  api_call& bypassing_prism(int prism_status = 401) {
    via = route::direct;
    refused_with = prism_status;
    return *this;
  }
  api_call& expect_header(std::string name, std::string value) {
    answer_header.emplace(std::move(name), std::move(value));
    return *this;
  }
};

api_call call(std::string name, std::string method, std::string target) {
  api_call c;
  c.name = std::move(name);
  c.request.method = std::move(method);
  c.request.target = std::move(target);
  return c;
}

/// smsd and the simulator wired to each other (as in send_flow_test), and two Prism proxies in
/// front of smsd.
struct proxy_world {
  std::uint16_t smsd_port = free_port();
  twilio_sim_process sim;
  running_smsd smsd;
  prism_process strict;
  prism_process lenient;

  proxy_world()
    : sim({"--account-sid", account_sid, "--auth-token", auth_token, "--callback-base",
           "http://127.0.0.1:" + std::to_string(smsd_port)}),
      smsd(config_for(temp_sqlite_url(), smsd_port, sim.port())),
      strict(proxy_options({})),
      lenient(proxy_options({"--validate-request=false"})) {}

  static config config_for(const std::string& url, std::uint16_t port, std::uint16_t sim_port) {
    auto cfg = test_config(url);
    cfg.listen_port = port;
    cfg.jwt_secret = jwt_secret;
    cfg.twilio_api_base_url = "http://127.0.0.1:" + std::to_string(sim_port);
    cfg.twilio_messaging_service_sid = "MG00000000000000000000000000000000";
    cfg.twilio_backoff_ms = 10;
    cfg.twilio_backoff_max_ms = 200;
    cfg.twilio_read_timeout_ms = 3000;
    return cfg;
  }

  prism_options proxy_options(std::vector<std::string> extra) const {
    prism_options o;
    o.command = "proxy";
    o.spec = description;
    o.upstream = "http://127.0.0.1:" + std::to_string(smsd_port);
    o.errors = true;
    o.extra_args = std::move(extra);
    return o;
  }

  /// What Prism logged from `from` on. Prism writes its log asynchronously: when the request
  /// failed, wait (at most 3 s) until the log has grown and stopped growing, for the failure
  /// message.
  static std::string prism_log_since(const prism_process& prism, std::size_t from, bool settle) {
    std::string log = prism.log();
    if (settle) {
      eventually([&] { return prism.log().size() > from; }, std::chrono::seconds(2));
      eventually(
        [&] {
          auto before = prism.log().size();
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          return prism.log().size() == before;
        },
        std::chrono::seconds(1));
      log = prism.log();
    }
    return log.size() > from ? log.substr(from) : std::string();
  }

  /// Sends the row's request its way, checks the answer and returns it.
  http_reply check(const api_call& c) {
    INFO(c.name << ": " << c.request.method << " " << c.request.target);
    prism_process* prism = c.via == route::strict ? &strict
                           : c.via == route::lenient ? &lenient
                                                     : nullptr;
    const std::size_t log_from = prism ? prism->log().size() : 0;
    const http_reply r = http_send(prism ? prism->port() : smsd.port(), c.request);
    auto body = json::parse(r.body, nullptr, false);
    const bool error_shape =
      r.status < 400 || (body.is_object() && body.contains("error") && body.at("error").is_string());
    const bool passed = r.status == c.status && error_shape && !r.has_header("sl-violations")
                        && r.body.find("stoplight.io/prism/errors") == std::string::npos
                        && r.header("Content-Type").find("problem+json") == std::string::npos;
    const std::string log = prism ? prism_log_since(*prism, log_from, !passed) : "(direct)";
    INFO("answer " << r.status << " " << r.body << "\nsl-violations: " << r.header("sl-violations")
                   << "\nPrism's log of this request:\n" << log);
    CHECK(r.status == c.status);
    CHECK(r.body.find("stoplight.io/prism/errors") == std::string::npos);
    CHECK_FALSE(r.has_header("sl-violations"));
    CHECK(r.header("Content-Type").find("problem+json") == std::string::npos);
    // The one error shape (Prism checked it too, except on direct rows).
    CHECK(error_shape);
    if (r.status == 401)
      CHECK(r.has_header("WWW-Authenticate"));
    if (c.answer_header)
      CHECK(r.header(c.answer_header->first) == c.answer_header->second);
    if (c.refused_with != 0) {
      const http_reply refused = http_send(strict.port(), c.request);
      INFO("strict Prism answered " << refused.status << " " << refused.body);
      CHECK(refused.status == c.refused_with);
    }
    return r;
  }

  void check_all(const std::vector<api_call>& calls) {
    for (const auto& c : calls)
      check(c);
  }

  /// A status callback signed for smsd's public URL, posted to `target`.
  api_call signed_callback(std::string name, const std::string& target, const form_params& params,
                           const header_list& extra = {}) const {
    auto cb = sign_callback(auth_token, public_url, target, params);
    auto c = call(std::move(name), "POST", target).form_body(cb.body);
    c.as({{"X-Twilio-Signature", cb.signature}}).as(extra);
    return c;
  }
};

/// `base` with the members of `changes` set.
json patched(json base, const json& changes) {
  base.update(changes);
  return base;
}

json event_body(const std::string& name = "No Edges") {
  return {{"name", name}, {"date", "2026-12-01T19:00:00Z"}, {"ownerId", "owner1"}};
}

json send_body(const std::string& attendee, const std::string& event = "ev1") {
  return {{"eventId", event},
          {"attendeeId", attendee},
          {"body", "Doors open at 7"},
          {"notificationType", "event_reminder"}};
}

void require_node_tools() {
  if (!std::filesystem::exists(std::string(SMSD_SOURCE_DIR)
                               + "/tests/node/node_modules/.bin/prism"))
    FAIL("tests/node/node_modules is missing: run `npm ci` in tests/node (install-deps.sh does)");
}

} // namespace

TEST_CASE("through a validating Prism proxy, smsd answers as docs/openapi.yaml says",
          "[openapi][slow]") {
  require_node_tools();
  proxy_world w;
  const header_list viewer{bearer(organizer_jwt("viewer1"))};
  const header_list curator{bearer(organizer_jwt("curator1"))};
  const header_list stranger{bearer(organizer_jwt("stranger1"))};
  const header_list expired{bearer(organizer_jwt("curator1", -3600))};
  const std::string big(70 * 1024, 'x'); // over SMSD_MAX_BODY_BYTES (64 KiB)

  // -- health ------------------------------------------------------------------------------------
  w.check_all({
    call("liveness", "GET", "/livez"),
    call("readiness", "GET", "/readyz"),
  });

  // -- admin: platform sync ----------------------------------------------------------------------
  w.check_all({
    call("create an event", "PUT", "/api/admin/events/ev1").as(admin).json_body(event_body())
      .expect(201),
    call("update the event", "PUT", "/api/admin/events/ev1").as(admin).json_body(event_body("Edges"))
      .expect(200),
    call("create a second event", "PUT", "/api/admin/events/ev2").as(admin)
      .json_body({{"name", "Other"}, {"date", "2026-12-02"}, {"ownerId", "owner2"}}).expect(201),
    call("event without a name", "PUT", "/api/admin/events/ev3").as(admin)
      .json_body({{"date", "2026-12-01T19:00:00Z"}, {"ownerId", "u1"}}).expect(400)
      .refused_by_description(),
    call("event with a date that is none", "PUT", "/api/admin/events/ev3").as(admin)
      .json_body(patched(event_body(), {{"date", "next friday"}})).expect(400)
      .refused_by_description(),
    call("event body not an object", "PUT", "/api/admin/events/ev3").as(admin).json_body({1, 2})
      .expect(400).refused_by_description(),
    call("event id over 128 bytes", "PUT", "/api/admin/events/" + std::string(129, 'e')).as(admin)
      .json_body(event_body()).expect(400).refused_by_description(),
    call("event body over the cap", "PUT", "/api/admin/events/ev3").as(admin)
      .json_body(event_body(big)).expect(413).refused_by_description(),
    call("event with a wrong token", "PUT", "/api/admin/events/ev3").as(wrong_token)
      .json_body(event_body()).expect(401),
    call("event without a token", "PUT", "/api/admin/events/ev3").json_body(event_body())
      .expect(401).bypassing_prism(),

    call("create an attendee", "PUT", "/api/admin/events/ev1/attendees/at1").as(admin)
      .json_body({{"firstName", "John"}, {"lastName", "Smith"}, {"phone", "+15551234567"}})
      .expect(201),
    call("update the attendee", "PUT", "/api/admin/events/ev1/attendees/at1").as(admin)
      .json_body({{"firstName", "John"}, {"lastName", nullptr}, {"phone", "+15551234567"}}),
    call("attendee without a phone", "PUT", "/api/admin/events/ev1/attendees/nophone").as(admin)
      .json_body({{"firstName", "Ann"}}).expect(201),
    call("attendee whose number Twilio refuses", "PUT", "/api/admin/events/ev1/attendees/magic")
      .as(admin).json_body({{"firstName", "Max"}, {"phone", "+15005550002"}}).expect(201),
    call("attendee with a phone that is none", "PUT", "/api/admin/events/ev1/attendees/at9")
      .as(admin).json_body({{"firstName", "Bo"}, {"phone", "call me"}}).expect(400),
    call("attendee without a first name", "PUT", "/api/admin/events/ev1/attendees/at9").as(admin)
      .json_body({{"lastName", "Smith"}}).expect(400).refused_by_description(),
    call("attendee of an unknown event", "PUT", "/api/admin/events/nope/attendees/at9").as(admin)
      .json_body({{"firstName", "Bo"}}).expect(404),
    call("attendee id of another event", "PUT", "/api/admin/events/ev2/attendees/at1").as(admin)
      .json_body({{"firstName", "John"}}).expect(409),
    call("attendee with a wrong token", "PUT", "/api/admin/events/ev1/attendees/at9")
      .as(wrong_token).json_body({{"firstName", "Bo"}}).expect(401),

    call("co-organizer who may view", "PUT", "/api/admin/events/ev1/organizers/viewer1").as(admin)
      .json_body({{"permissions", {"view"}}}).expect(201),
    call("co-organizer who may curate", "PUT", "/api/admin/events/ev1/organizers/curator1")
      .as(admin).json_body({{"permissions", {"view", "curate"}}}).expect(201),
    call("co-organizer again, no rights", "PUT", "/api/admin/events/ev2/organizers/curator1")
      .as(admin).json_body({{"permissions", json::array()}}).expect(201),
    call("co-organizer with an unknown permission", "PUT", "/api/admin/events/ev1/organizers/u9")
      .as(admin).json_body({{"permissions", {"admin"}}}).expect(400).refused_by_description(),
    call("co-organizer of an unknown event", "PUT", "/api/admin/events/nope/organizers/u9")
      .as(admin).json_body({{"permissions", {"view"}}}).expect(404),
    call("co-organizer with a wrong token", "PUT", "/api/admin/events/ev1/organizers/u9")
      .as(wrong_token).json_body({{"permissions", {"view"}}}).expect(401),
  });

  // -- sending (through the simulator) -----------------------------------------------------------
  auto sent = w.check(call("send to an attendee", "POST", "/api/sms/send").as(admin)
                        .json_body(send_body("at1")));
  const auto sent_json = json::parse(sent.body);
  REQUIRE(sent_json.at("success") == true);
  const std::string message_id = sent_json.at("dbRecordId");
  const std::string message_sid = sent_json.at("messageId");

  w.check_all({
    call("send that Twilio refuses", "POST", "/api/sms/send").as(admin)
      .json_body(send_body("magic")),
    call("send by a curating co-organizer", "POST", "/api/sms/send").as(curator)
      .json_body(send_body("at1")),
    call("send to an attendee without a phone", "POST", "/api/sms/send").as(admin)
      .json_body(send_body("nophone")).expect(400),
    call("send with an unknown notificationType", "POST", "/api/sms/send").as(admin)
      .json_body(patched(send_body("at1"), {{"notificationType", "party"}})).expect(400)
      .refused_by_description(),
    call("send without a body", "POST", "/api/sms/send").as(admin)
      .json_body({{"eventId", "ev1"}, {"attendeeId", "at1"}, {"notificationType", "invitation"}})
      .expect(400).refused_by_description(),
    call("send with malformed JSON", "POST", "/api/sms/send").as(admin)
      .raw_json("{").expect(400).bypassing_prism(400), // Prism's own 400 for unparsable JSON
    call("send over the cap", "POST", "/api/sms/send").as(admin)
      .json_body(patched(send_body("at1"), {{"body", big}})).expect(413).refused_by_description(),
    call("send to an unknown attendee", "POST", "/api/sms/send").as(admin)
      .json_body(send_body("at9")).expect(404),
    call("send to an attendee of another event", "POST", "/api/sms/send").as(admin)
      .json_body(send_body("at1", "ev2")).expect(404),
    call("send for an unknown event", "POST", "/api/sms/send").as(admin)
      .json_body(send_body("at1", "nope")).expect(404),
    call("send by a viewing co-organizer", "POST", "/api/sms/send").as(viewer)
      .json_body(send_body("at1")).expect(403),
    // An empty grant is no role at all: the event is not revealed.
    call("send by a co-organizer without rights", "POST", "/api/sms/send").as(curator)
      .json_body(send_body("at1", "ev2")).expect(404),
    call("send by a stranger to the event", "POST", "/api/sms/send").as(stranger)
      .json_body(send_body("at1")).expect(404),
    call("send with an expired organizer token", "POST", "/api/sms/send").as(expired)
      .json_body(send_body("at1")).expect(401),
    call("send with a wrong token", "POST", "/api/sms/send").as(wrong_token)
      .json_body(send_body("at1")).expect(401),
    call("send without a token", "POST", "/api/sms/send").json_body(send_body("at1"))
      .expect(401).bypassing_prism(),

    call("notify some attendees", "POST", "/api/events/ev1/notify").as(admin)
      .json_body({{"notificationType", "invitation"},
                  {"body", "Hi {{firstName}}, {{eventName}}"},
                  {"attendeeIds", {"at1", "nophone", "magic", "at9"}}}),
    call("notify every attendee", "POST", "/api/events/ev1/notify").as(curator)
      .json_body({{"notificationType", "rsvp_reminder"}, {"body", "RSVP"}}),
    call("notify with attendeeIds not an array", "POST", "/api/events/ev1/notify").as(admin)
      .json_body({{"notificationType", "invitation"}, {"body", "Hi"}, {"attendeeIds", "at1"}})
      .expect(400).refused_by_description(),
    call("notify with an empty body", "POST", "/api/events/ev1/notify").as(admin)
      .json_body({{"notificationType", "invitation"}, {"body", ""}}).expect(400)
      .refused_by_description(),
    call("notify over the cap", "POST", "/api/events/ev1/notify").as(admin)
      .json_body({{"notificationType", "invitation"}, {"body", big}}).expect(413)
      .refused_by_description(),
    call("notify an unknown event", "POST", "/api/events/nope/notify").as(admin)
      .json_body({{"notificationType", "invitation"}, {"body", "Hi"}}).expect(404),
    call("notify by a viewing co-organizer", "POST", "/api/events/ev1/notify").as(viewer)
      .json_body({{"notificationType", "invitation"}, {"body", "Hi"}}).expect(403),
    call("notify with a wrong token", "POST", "/api/events/ev1/notify").as(wrong_token)
      .json_body({{"notificationType", "invitation"}, {"body", "Hi"}}).expect(401),
    call("notify without a token", "POST", "/api/events/ev1/notify")
      .json_body({{"notificationType", "invitation"}, {"body", "Hi"}}).expect(401)
      .bypassing_prism(),
  });

  // -- Twilio's status callback ------------------------------------------------------------------
  const std::string callback = "/api/webhooks/twilio/status";
  const std::string with_mid = callback + "?mid=" + message_id;
  auto params = status_params(message_sid, "delivered");
  auto without_status = params;
  without_status.erase(std::remove_if(without_status.begin(), without_status.end(),
                                      [](const auto& p) {
                                        return p.first == "MessageStatus"
                                               || p.first == "SmsStatus";
                                      }),
                       without_status.end());
  auto oversized = params;
  oversized.emplace_back("Padding", big);
  w.check_all({
    w.signed_callback("signed callback", with_mid, params,
                      {{"I-Twilio-Idempotency-Token", "openapi-proxy-1"}}),
    w.signed_callback("signed callback without mid", callback,
                      status_params("SM" + std::string(32, 'a'), "sent")),
    w.signed_callback("signed callback with an undelivered code", callback,
                      status_params("SM" + std::string(32, 'b'), "undelivered", "30003")),
    w.signed_callback("signed callback without a status", callback, without_status).expect(400)
      .refused_by_description(),
    w.signed_callback("signed callback over the cap", callback, oversized).expect(413),
    call("callback with a wrong signature", "POST", callback)
      .as({{"X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl"}}).form_body(form_encode(params))
      .expect(403),
    call("unsigned callback", "POST", callback).form_body(form_encode(params)).expect(403)
      .refused_by_description(),
  });

  // -- admin: inspect ----------------------------------------------------------------------------
  w.check_all({
    call("message by id", "GET", "/api/admin/messages/" + message_id).as(admin),
    call("message by SID", "GET", "/api/admin/messages/" + message_sid).as(admin),
    call("unknown message", "GET", "/api/admin/messages/msg_nope").as(admin).expect(404),
    call("message with a wrong token", "GET", "/api/admin/messages/" + message_id)
      .as(wrong_token).expect(401),
    call("message without a token", "GET", "/api/admin/messages/" + message_id).expect(401)
      .bypassing_prism(),
  });

  // -- organizer endpoints -----------------------------------------------------------------------
  // An undelivered message with a retryable code, to retry.
  auto undelivered = sample_message("msg_openapi_undelivered", "SM" + std::string(32, 'c'), "ev1",
                                    "at1");
  undelivered.state.status = "undelivered";
  undelivered.state.provider_status = "undelivered";
  undelivered.state.status_rank = 4;
  undelivered.state.error_code = "30003";
  undelivered.state.error_message = "Unreachable destination handset";
  REQUIRE_FALSE(w.smsd.db->insert_message(undelivered));
  const json retry_one = {{"messageId", undelivered.id}};
  const std::string history = "/api/events/ev1/attendees/at1/sms-history";
  const std::string retry = "/api/events/ev1/attendees/at1/sms-retry";
  const std::string timeline = "/api/events/ev1/attendees/at1/messages/" + message_id + "/timeline";
  w.check_all({
    call("event list", "GET", "/api/events").as(admin),
    call("event list of a viewing co-organizer", "GET", "/api/events").as(viewer),
    call("event list of a stranger (empty)", "GET", "/api/events").as(stranger),
    call("event list with a wrong token", "GET", "/api/events").as(wrong_token).expect(401),
    call("event list with an expired token", "GET", "/api/events").as(expired).expect(401),
    call("event list without a token", "GET", "/api/events").expect(401).bypassing_prism(),

    call("one event", "GET", "/api/events/ev1").as(curator),
    call("one event for the admin", "GET", "/api/events/ev2").as(admin),
    call("one event for a viewing co-organizer", "GET", "/api/events/ev1").as(viewer),
    call("one unknown event", "GET", "/api/events/nope").as(admin).expect(404),
    call("one event for a co-organizer without rights", "GET", "/api/events/ev2").as(curator)
      .expect(404),
    call("one event for a stranger", "GET", "/api/events/ev1").as(stranger).expect(404),
    call("one event with an id over 128 bytes", "GET", "/api/events/" + std::string(129, 'e'))
      .as(admin).expect(400).refused_by_description(),
    call("one event with a wrong token", "GET", "/api/events/ev1").as(wrong_token).expect(401),

    call("timeline", "GET", timeline).as(viewer),
    call("timeline for the admin", "GET", timeline).as(admin),
    call("timeline by Twilio's SID", "GET",
         "/api/events/ev1/attendees/at1/messages/" + message_sid + "/timeline")
      .as(admin).expect(404),
    call("timeline under another attendee", "GET",
         "/api/events/ev1/attendees/nophone/messages/" + message_id + "/timeline")
      .as(admin).expect(404),
    call("timeline of an unknown message", "GET",
         "/api/events/ev1/attendees/at1/messages/msg_nope/timeline").as(admin).expect(404),
    call("timeline for a stranger", "GET", timeline).as(stranger).expect(404),
    call("timeline with a message id over 128 bytes", "GET",
         "/api/events/ev1/attendees/at1/messages/" + std::string(129, 'm') + "/timeline")
      .as(admin).expect(400).refused_by_description(),
    call("timeline with a wrong token", "GET", timeline).as(wrong_token).expect(401),
    call("timeline without a token", "GET", timeline).expect(401).bypassing_prism(),

    call("history", "GET", history).as(admin),
    call("history for a viewing co-organizer", "GET", history).as(viewer),
    call("history of an unknown attendee", "GET", "/api/events/ev1/attendees/at9/sms-history")
      .as(admin).expect(404),
    call("history of another event's attendee", "GET", "/api/events/ev2/attendees/at1/sms-history")
      .as(admin).expect(404),
    call("history for a stranger", "GET", history).as(stranger).expect(404),
    call("history with a wrong token", "GET", history).as(wrong_token).expect(401),
    call("history without a token", "GET", history).expect(401).bypassing_prism(),

    call("summary", "GET", "/api/events/ev1/sms-summary").as(admin),
    call("summary with failedLimit", "GET", "/api/events/ev1/sms-summary?failedLimit=1").as(viewer),
    call("summary with failedLimit 0", "GET", "/api/events/ev1/sms-summary?failedLimit=0").as(admin)
      .expect(400).refused_by_description(),
    call("summary of an unknown event", "GET", "/api/events/nope/sms-summary").as(admin).expect(404),
    call("summary for a co-organizer without rights", "GET", "/api/events/ev2/sms-summary")
      .as(curator).expect(404),

    call("attendee dots", "GET", "/api/events/ev1/attendees/sms-status").as(admin),
    call("attendee dots of an unknown event", "GET", "/api/events/nope/attendees/sms-status")
      .as(admin).expect(404),
    call("attendee dots with a wrong token", "GET", "/api/events/ev1/attendees/sms-status")
      .as(wrong_token).expect(401),

    call("retry by a viewing co-organizer", "POST", retry).as(viewer).json_body(retry_one)
      .expect(403),
    call("retry with neither field", "POST", retry).as(admin).json_body(json::object()).expect(400)
      .refused_by_description(),
    call("retry with both fields", "POST", retry).as(admin)
      .json_body({{"messageId", undelivered.id}, {"retryAll", true}}).expect(400)
      .refused_by_description(),
    call("retry of an unknown attendee", "POST", "/api/events/ev1/attendees/at9/sms-retry")
      .as(admin).json_body(retry_one).expect(404),
    call("retry one message", "POST", retry).as(curator).json_body(retry_one)
      .as({{"Idempotency-Key", "openapi-proxy-retry-1"}}),
    call("the same retry again, same key", "POST", retry).as(curator).json_body(retry_one)
      .as({{"Idempotency-Key", "openapi-proxy-retry-1"}}).expect_header("Idempotent-Replayed", "true"),
    call("the same key with another body", "POST", retry).as(curator)
      .json_body({{"retryAll", true}}).as({{"Idempotency-Key", "openapi-proxy-retry-1"}})
      .expect(422),
    call("retry with an Idempotency-Key too long", "POST", retry).as(admin).json_body(retry_one)
      .as({{"Idempotency-Key", std::string(201, 'k')}}).expect(400).refused_by_description(),
    call("retry with an unknown field", "POST", retry).as(admin)
      .json_body(patched(retry_one, {{"note", "again"}})).expect(400).refused_by_description(),
    call("retry another attendee's message", "POST", "/api/events/ev1/attendees/nophone/sms-retry")
      .as(admin).json_body(retry_one).expect(404),
    call("retry a message already retried", "POST", retry).as(admin).json_body(retry_one)
      .expect(409),
    call("retry a delivered message", "POST", retry).as(admin)
      .json_body({{"messageId", message_id}}).expect(409),
    call("preview retry all", "POST", retry).as(curator)
      .json_body({{"retryAll", true}, {"dryRun", true}}),
    call("preview retry all with an Idempotency-Key", "POST", retry).as(admin)
      .json_body({{"retryAll", true}, {"dryRun", true}})
      .as({{"Idempotency-Key", "openapi-proxy-preview-1"}}),
    call("preview retry all by a viewing co-organizer", "POST", retry).as(viewer)
      .json_body({{"retryAll", true}, {"dryRun", true}}).expect(403),
    call("preview of one message", "POST", retry).as(admin)
      .json_body({{"messageId", undelivered.id}, {"dryRun", true}}).expect(400)
      .refused_by_description(),
    call("preview with a dryRun that is no boolean", "POST", retry).as(admin)
      .json_body({{"retryAll", true}, {"dryRun", "yes"}}).expect(400).refused_by_description(),
    call("retry all", "POST", retry).as(admin).json_body({{"retryAll", true}}),
    call("retry with a wrong token", "POST", retry).as(wrong_token).json_body(retry_one)
      .expect(401),
  });

  // -- admin: deletes ----------------------------------------------------------------------------
  w.check_all({
    call("remove a co-organizer", "DELETE", "/api/admin/events/ev1/organizers/viewer1").as(admin)
      .expect(204),
    call("remove it again", "DELETE", "/api/admin/events/ev1/organizers/viewer1").as(admin)
      .expect(404),
    call("remove with a wrong token", "DELETE", "/api/admin/events/ev1/organizers/curator1")
      .as(wrong_token).expect(401),
    call("delete an attendee", "DELETE", "/api/admin/events/ev1/attendees/magic").as(admin)
      .expect(204),
    call("delete it again", "DELETE", "/api/admin/events/ev1/attendees/magic").as(admin)
      .expect(404),
    call("delete an attendee without a token", "DELETE", "/api/admin/events/ev1/attendees/at1")
      .expect(401).bypassing_prism(),
    call("delete an event", "DELETE", "/api/admin/events/ev2").as(admin).expect(204),
    call("delete it again", "DELETE", "/api/admin/events/ev2").as(admin).expect(404),
    call("delete with a wrong token", "DELETE", "/api/admin/events/ev1").as(wrong_token)
      .expect(401),
  });
}

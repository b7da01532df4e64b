// The REST client against Twilio's own OpenAPI description, served by Prism as a validating mock:
// every request the client makes must be one the description accepts (no 401/422), and the client
// must read the description's example answers. Malformed requests sent with plain Poco show that
// Prism does refuse what breaks the description, so these tests can fail.
//
// Two things Prism does not check, found while writing these tests: the values of `DateSent>`
// and `DateSent<` (it validates a plain `DateSent`, not these two names), and, with --errors, it
// faults its own list example: Twilio's description declares the relative page URIs
// (`first_page_uri`, `next_page_uri`, `uri`) as `format: uri`, which needs a scheme. A list is
// therefore checked against a Prism with --errors (our request passes; only the response fails)
// and read from a second Prism without --errors.
#include <filesystem>
#include <memory>
#include <string>

#include <Poco/Net/HTTPBasicCredentials.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/prism_process.hpp"
#include "tests/support/stub_http_server.hpp"
#include "twilio/rest_client.hpp"

using namespace smsd;
using namespace smsd::twilio;
using smsd::test::prism_options;
using smsd::test::prism_process;

namespace {

// Shaped as the description demands: AC/MG/SM and 32 hex digits.
const std::string account_sid = "AC0123456789abcdef0123456789abcdef";
const std::string service_sid = "MG0123456789abcdef0123456789abcdef";
const std::string message_sid = "SM0123456789abcdef0123456789abcdef";
const std::string auth_token = "contract-test-token";
const std::string messages_path = "/2010-04-01/Accounts/" + account_sid + "/Messages.json";

void require_node_tools() {
  if (!std::filesystem::exists(smsd::test::twilio_api_spec()))
    FAIL("tests/node/node_modules is missing: run `npm ci` in tests/node (install-deps.sh does)");
}

/// One Prism per configuration for the whole run: it takes seconds to load the description.
prism_process& prism(bool errors) {
  require_node_tools();
  static std::unique_ptr<prism_process> with_errors, without_errors;
  auto& p = errors ? with_errors : without_errors;
  if (!p) {
    prism_options o;
    o.errors = errors;
    p = std::make_unique<prism_process>(o);
  }
  return *p;
}

rest_client_config config_for(const prism_process& p) {
  rest_client_config c;
  c.base_url = p.base_url();
  c.account_sid = account_sid;
  c.auth_token = auth_token;
  c.max_attempts = 2;
  c.backoff_initial_ms = 1;
  c.backoff_max_ms = 5;
  return c;
}

std::string explain(const call_result<message_resource>& r) {
  return "outcome " + std::to_string(static_cast<int>(r.outcome)) + ", " + r.detail
         + (r.error ? ", error: " + r.error->message : std::string());
}

struct plain_reply {
  int status = 0;
  std::string body;
};

/// A request sent with plain Poco, outside the client, exactly as given.
plain_reply send_plain(const prism_process& p, const std::string& method, const std::string& target,
                       const std::string& form_body, bool with_auth) {
  Poco::Net::HTTPClientSession session("127.0.0.1", p.port());
  session.setTimeout(Poco::Timespan(10, 0));
  Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
  if (with_auth)
    Poco::Net::HTTPBasicCredentials(account_sid, auth_token).authenticate(request);
  if (method == Poco::Net::HTTPRequest::HTTP_POST) {
    request.setContentType("application/x-www-form-urlencoded");
    request.setContentLength(static_cast<std::streamsize>(form_body.size()));
  }
  session.sendRequest(request) << form_body;
  Poco::Net::HTTPResponse response;
  auto& in = session.receiveResponse(response);
  plain_reply r;
  r.status = response.getStatus();
  Poco::StreamCopier::copyToString(in, r.body);
  return r;
}

} // namespace

TEST_CASE("Prism accepts the client's creates, with a Messaging Service, with From and with a "
          "StatusCallback, and the client reads its answers",
          "[contract]") {
  auto& p = prism(true);
  rest_client client(config_for(p));
  create_message_request via_service;
  via_service.to = "+15005550006";
  via_service.body = "Hello from smsd ✓ & co = 100%";
  via_service.messaging_service_sid = service_sid;
  create_message_request via_number = via_service;
  via_number.messaging_service_sid.reset();
  via_number.from = "+15005550006";
  create_message_request with_callback = via_service;
  with_callback.status_callback = "https://smsd.example.com/twilio/status?tenant=a";

  for (const auto* r : {&via_service, &via_number, &with_callback}) {
    auto result = client.create_message(*r);
    INFO(explain(result) << "\nprism's log:\n" << p.log());
    REQUIRE(result.outcome == call_outcome::ok);
    CHECK(result.attempts == 1);
    // The description's first example, "create".
    CHECK(result.value->sid == "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    CHECK(result.value->account_sid == "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    CHECK(result.value->status == "queued");
    CHECK(result.value->num_segments == 1);
    CHECK_FALSE(result.value->error_code);
    CHECK_FALSE(result.value->price);
    CHECK(result.value->date_created == parse_iso8601("2023-08-24T05:01:45Z"));
    CHECK(result.value->raw_json.find("\"sid\"") != std::string::npos);
  }
}

TEST_CASE("Prism accepts the client's fetch and the client reads the example message",
          "[contract]") {
  auto& p = prism(true);
  rest_client client(config_for(p));

  auto result = client.fetch_message(message_sid);

  INFO(explain(result) << "\nprism's log:\n" << p.log());
  REQUIRE(result.outcome == call_outcome::ok);
  CHECK(result.value->sid == "SMb7c0a2ce80504485a6f653a7110836f5");
  CHECK(result.value->status == "sent");
  CHECK(result.value->error_code == 30007);
  CHECK(result.value->error_message == "Carrier violation");
  CHECK(result.value->price == "-0.00750");
  CHECK(result.value->from == "+12019235161");
  CHECK(result.value->date_sent == parse_iso8601("2019-05-24T17:18:28Z"));
}

TEST_CASE("Prism finds nothing wrong with the client's list by To and DateSent>=, only with its "
          "own example's relative page URIs",
          "[contract]") {
  auto& p = prism(true);
  rest_client client(config_for(p));
  list_messages_query q;
  q.to = "+15005550006";
  q.date_sent_after = parse_iso8601("2024-03-05T10:00:00Z");
  q.date_sent_before = parse_iso8601("2024-03-07T10:00:00Z");
  q.page_size = 2;

  auto result = client.list_messages(q);

  INFO("detail: " << result.detail << "\nprism's log:\n" << p.log());
  REQUIRE(result.outcome == call_outcome::rejected);
  REQUIRE(result.error);
  CHECK(result.error->http_status == 500);
  auto body = nlohmann::json::parse(result.error->message);
  CHECK(body["type"] == "https://stoplight.io/prism/errors#VIOLATIONS");
  REQUIRE(body["validation"].is_array());
  REQUIRE_FALSE(body["validation"].empty());
  for (const auto& v : body["validation"]) {
    INFO(v.dump());
    CHECK(v["location"][0] == "response");
  }
}

TEST_CASE("the client follows Prism's next_page_uri and reads every example message",
          "[contract]") {
  auto& p = prism(false);
  rest_client client(config_for(p));
  list_messages_query q;
  q.to = "+15005550006";
  q.date_sent_after = parse_iso8601("2024-03-05T10:00:00Z");
  q.page_size = 2;
  q.max_pages = 2;

  auto result = client.list_messages(q);

  INFO("detail: " << result.detail << "\nprism's log:\n" << p.log());
  REQUIRE(result.outcome == call_outcome::ok);
  CHECK(result.attempts == 2);
  // The example page ("readFullPage1") twice: its next_page_uri leads to itself.
  REQUIRE(result.value->size() == 4);
  const auto& sent = result.value->at(0);
  CHECK(sent.sid == "SMded05904ccb347238880ca9264e8fe1c");
  CHECK(sent.status == "sent");
  CHECK_FALSE(sent.error_code);
  CHECK(sent.date_sent == parse_iso8601("2019-05-24T17:44:50Z"));
  const auto& blocked = result.value->at(1);
  CHECK(blocked.error_code == 30004);
  CHECK(blocked.status == "received");
  CHECK(blocked.raw_json.find("MMc26223853f8c46b4ab7dfaa6abba0a26") != std::string::npos);
  CHECK(p.log().find("Request did not pass the validation rules") == std::string::npos);
}

TEST_CASE("Prism refuses requests that break the description, so the contract tests can fail",
          "[contract]") {
  auto& p = prism(true);
  const std::string fetch_path =
    "/2010-04-01/Accounts/" + account_sid + "/Messages/" + message_sid + ".json";

  SECTION("the checks pass for well-formed requests") {
    CHECK(send_plain(p, "POST", messages_path, "To=%2B15005550006&Body=hi", true).status == 201);
    CHECK(send_plain(p, "GET", fetch_path, "", true).status == 200);
  }
  SECTION("a create without To") {
    auto r = send_plain(p, "POST", messages_path, "Body=hi&From=%2B15005550006", true);
    INFO(r.body);
    CHECK(r.status == 422);
    CHECK(r.body.find("'To'") != std::string::npos);
  }
  SECTION("a create without Basic auth") {
    CHECK(send_plain(p, "POST", messages_path, "To=%2B15005550006&Body=hi", false).status == 401);
  }
  SECTION("a fetch without Basic auth") {
    CHECK(send_plain(p, "GET", fetch_path, "", false).status == 401);
  }
  SECTION("a fetch of a SID that is not one") {
    CHECK(send_plain(p, "GET", "/2010-04-01/Accounts/" + account_sid + "/Messages/XX12.json", "",
                     true)
            .status
          == 422);
  }
  SECTION("a list with a PageSize that is not a number, even without --errors") {
    CHECK(send_plain(prism(false), "GET", messages_path + "?PageSize=many", "", true).status == 422);
  }
  SECTION("the client's own create with a malformed Messaging Service SID: rejected, not retried") {
    rest_client client(config_for(p));
    create_message_request r;
    r.to = "+15005550006";
    r.body = "hi";
    r.messaging_service_sid = "MGnot-a-sid";
    auto result = client.create_message(r);
    CHECK(result.outcome == call_outcome::rejected);
    CHECK(result.attempts == 1);
    REQUIRE(result.error);
    CHECK(result.error->http_status == 422);
  }
}

TEST_CASE("through Prism as a validating proxy, the client's create reaches the upstream and its "
          "answer comes back",
          "[contract]") {
  require_node_tools();
  smsd::test::stub_http_server upstream;
  const std::string created =
    R"({"account_sid": ")" + account_sid + R"(", "api_version": "2010-04-01", "body": "hi",
        "date_created": "Tue, 05 Mar 2024 10:00:00 +0000", "date_sent": null,
        "date_updated": "Tue, 05 Mar 2024 10:00:00 +0000", "direction": "outbound-api",
        "error_code": null, "error_message": null, "from": null, "messaging_service_sid": ")"
    + service_sid + R"(", "num_media": "0", "num_segments": "0", "price": null,
        "price_unit": null, "sid": ")" + message_sid + R"(", "status": "accepted",
        "subresource_uris": {}, "to": "+15005550006",
        "uri": "/2010-04-01/Accounts/)" + account_sid + "/Messages/" + message_sid + R"(.json"})";
  upstream.fallback(smsd::test::stub_reply::json(201, created));
  prism_options o;
  o.command = "proxy";
  o.upstream = upstream.base_url();
  prism_process p(o);
  rest_client client(config_for(p));
  create_message_request r;
  r.to = "+15005550006";
  r.body = "hi";
  r.messaging_service_sid = service_sid;

  auto result = client.create_message(r);

  INFO(explain(result) << "\nprism's log:\n" << p.log());
  REQUIRE(result.outcome == call_outcome::ok);
  CHECK(result.value->sid == message_sid);
  CHECK(result.value->status == "accepted");
  CHECK(result.value->num_segments == 0);
  auto seen = upstream.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].path == messages_path);
  CHECK(seen[0].body.find("To=%2B15005550006") == 0);

  SECTION("and refuses a malformed one without forwarding it") {
    auto bad = send_plain(p, "POST", messages_path, "Body=no-recipient", true);
    CHECK(bad.status == 422);
    CHECK(upstream.request_count() == 1);
  }
}

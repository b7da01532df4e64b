// The simulator's answers against Twilio's own OpenAPI description: Prism, as a validating proxy
// with --errors in front of the real twilio_sim binary, checks every request (ours) and every
// response (the simulator's) against the description and answers 500 with the violations when a
// response breaks it.
//
// One known gap of the description itself: it declares a list page's relative URIs
// (first_page_uri, next_page_uri, previous_page_uri, uri) as `format: uri`, which needs a scheme;
// Twilio (and so the simulator) writes them relative. Lists are checked for no OTHER violation.
#include <filesystem>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/time.hpp"
#include "tests/support/prism_process.hpp"
#include "tests/support/twilio_sim_process.hpp"
#include "twilio/rest_client.hpp"

using namespace smsd;
using namespace smsd::twilio;
using smsd::test::prism_options;
using smsd::test::prism_process;
using smsd::test::twilio_sim_process;

namespace {

// Shaped as the description demands: AC/MG and 32 hex digits.
const std::string account_sid = "AC0123456789abcdef0123456789abcdef";
const std::string service_sid = "MG0123456789abcdef0123456789abcdef";
const std::string auth_token = "sim-contract-token";

struct proxied_sim {
  twilio_sim_process sim{{"--account-sid", account_sid, "--auth-token", auth_token}};
  prism_process prism{options(sim.port())};

  static prism_options options(std::uint16_t sim_port) {
    if (!std::filesystem::exists(smsd::test::twilio_api_spec()))
      FAIL("tests/node/node_modules is missing: run `npm ci` in tests/node (install-deps.sh does)");
    prism_options o;
    o.command = "proxy";
    o.upstream = "http://127.0.0.1:" + std::to_string(sim_port);
    o.errors = true;
    return o;
  }

  rest_client client() const {
    rest_client_config c;
    c.base_url = prism.base_url();
    c.account_sid = account_sid;
    c.auth_token = auth_token;
    c.max_attempts = 1;
    return rest_client(c);
  }
};

std::string explain(const call_result<message_resource>& r) {
  return "outcome " + std::to_string(static_cast<int>(r.outcome)) + ", " + r.detail
         + (r.error ? ", error " + std::to_string(r.error->http_status) + ": " + r.error->message
                    : std::string());
}

} // namespace

TEST_CASE("the simulator's create and fetch answers match Twilio's description", "[contract][slow]") {
  proxied_sim p;
  auto client = p.client();

  create_message_request with_service;
  with_service.to = "+14155550100";
  with_service.body = "Hello from the contract test";
  with_service.messaging_service_sid = service_sid;
  with_service.status_callback = "http://127.0.0.1:9/api/webhooks/twilio/status?mid=msg_1";
  auto a = client.create_message(with_service);
  INFO(explain(a) << "\nprism's log:\n" << p.prism.log());
  REQUIRE(a.outcome == call_outcome::ok);
  CHECK(a.value->status == "accepted");
  CHECK(a.value->messaging_service_sid == service_sid);

  create_message_request with_from;
  with_from.to = "+14155550101";
  with_from.body = "Hello";
  with_from.from = "+15005550006";
  auto b = client.create_message(with_from);
  INFO(explain(b));
  REQUIRE(b.outcome == call_outcome::ok);
  CHECK(b.value->status == "queued");
  CHECK(b.value->from == "+15005550006");

  auto f = client.fetch_message(b.value->sid);
  INFO(explain(f));
  REQUIRE(f.outcome == call_outcome::ok);
  CHECK(f.value->sid == b.value->sid);
  CHECK(f.value->to == "+14155550101");
}

TEST_CASE("the simulator's error answers come through the description unchanged",
          "[contract][slow]") {
  proxied_sim p;
  auto client = p.client();
  create_message_request unsubscribed;
  unsubscribed.to = "+15005550004";
  unsubscribed.body = "Hello";
  unsubscribed.from = "+15005550006";
  auto r = client.create_message(unsubscribed);
  INFO(explain(r) << "\nprism's log:\n" << p.prism.log());
  REQUIRE(r.outcome == call_outcome::rejected);
  CHECK(r.error->http_status == 400);
  CHECK(r.error->code == 21610);
  auto missing = client.fetch_message("SM0123456789abcdef0123456789abcdef");
  REQUIRE(missing.outcome == call_outcome::rejected);
  CHECK(missing.error->http_status == 404);
  CHECK(missing.error->code == 20404);
}

TEST_CASE("the simulator's list answer breaks the description only where Twilio does",
          "[contract][slow]") {
  proxied_sim p;
  auto client = p.client();
  create_message_request c;
  c.to = "+14155550102";
  c.body = "Hello";
  c.from = "+15005550006";
  REQUIRE(client.create_message(c).outcome == call_outcome::ok);

  list_messages_query q;
  q.to = "+14155550102";
  q.date_sent_after = now_millis() - 86'400'000;
  auto result = client.list_messages(q);
  INFO("detail: " << result.detail << "\nprism's log:\n" << p.prism.log());
  if (result.outcome == call_outcome::ok) {
    CHECK(result.value->size() == 1);
    return;
  }
  REQUIRE(result.outcome == call_outcome::rejected);
  REQUIRE(result.error->http_status == 500);
  auto body = nlohmann::json::parse(result.error->message);
  REQUIRE(body["type"] == "https://stoplight.io/prism/errors#VIOLATIONS");
  const std::set<std::string> relative_uris = {"first_page_uri", "next_page_uri",
                                               "previous_page_uri", "uri"};
  for (const auto& v : body["validation"]) {
    INFO(v.dump());
    CHECK(v["location"][0] == "response");
    REQUIRE(v["location"].size() >= 2);
    CHECK(relative_uris.count(v["location"].back().get<std::string>()) == 1);
  }
}

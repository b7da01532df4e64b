// GET /metrics against the real server: the admin token, Prometheus text format 0.0.4 that a
// strict reading accepts, and counters that move with the requests the server answers.
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "http/twilio_signature.hpp"
#include "server_fixture.hpp"
#include "tests/support/prometheus_text.hpp"
#include "tests/support/signed_callbacks.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

const header_list admin{{"Authorization", std::string("Bearer ") + test_admin_token}};

std::map<std::string, double> scrape(const server_fixture& f) {
  auto r = f.client().get("/metrics", admin);
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  return parse_exposition(r.body);
}

} // namespace

TEST_CASE("metrics need the admin token", "[metrics]") {
  server_fixture f;
  CHECK(f.client().get("/metrics").status == 401);
  CHECK(f.client().get("/metrics", {{"Authorization", "Bearer wrong"}}).status == 401);
  CHECK(f.client().get("/metrics", admin).status == 200);
}

TEST_CASE("metrics are valid Prometheus text and count responses by status", "[metrics]") {
  server_fixture f;
  const auto before = scrape(f);
  CHECK(before.count("smsd_build_info{version=\"" SMSD_VERSION "\"}") == 1);
  REQUIRE(f.client().get("/livez").status == 200);
  REQUIRE(f.client().get("/livez").status == 200);
  REQUIRE(f.client().get("/no/such/thing").status == 404);
  const auto after = scrape(f);
  // The first scrape's own 200 counts too.
  CHECK(sample_value(after, "smsd_http_responses_total{code=\"200\"}")
        - sample_value(before, "smsd_http_responses_total{code=\"200\"}")
        == 3);
  CHECK(sample_value(after, "smsd_http_responses_total{code=\"404\"}")
        - sample_value(before, "smsd_http_responses_total{code=\"404\"}")
        == 1);
  // The scrape's own connection is open while it is answered.
  CHECK(sample_value(after, "smsd_http_connections") >= 1);
}

TEST_CASE("metrics count callbacks stored, refused and not stored", "[metrics]") {
  server_fixture f;
  const std::string target = std::string(callback_path) + "?mid=msg_0001";
  const form_params params{{"MessageSid", "SM0001"}, {"MessageStatus", "delivered"}};
  const header_list signed_headers{
    {"X-Twilio-Signature", twilio_signature(test_auth_token, test_public_url + target, params)}};
  const auto before = scrape(f);
  REQUIRE(f.client().post_form(target, form_encode(params), signed_headers).status == 200);
  REQUIRE(f.client().post_form(target, form_encode(params)).status == 403);
  REQUIRE(f.client().post_form(target, form_encode(params), {{"X-Twilio-Signature", "AAAA"}}).status
          == 403);
  f.intake.set_answer(fake_status_intake::answer::failure);
  REQUIRE(f.client().post_form(target, form_encode(params), signed_headers).status == 503);
  const auto after = scrape(f);
  auto delta = [&](const std::string& result) {
    const std::string key = "smsd_callbacks_total{result=\"" + result + "\"}";
    return sample_value(after, key) - sample_value(before, key);
  };
  CHECK(delta("durable") == 1);
  CHECK(delta("refused") == 2);
  CHECK(delta("not_stored") == 1);
}

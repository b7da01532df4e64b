#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "http/twilio_signature.hpp"
#include "server_fixture.hpp"
#include "tests/support/signed_callbacks.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

const std::string target = std::string(callback_path) + "?mid=msg_0001";

form_params delivered_params() {
  return {{"AccountSid", "AC0123"},     {"ApiVersion", "2010-04-01"}, {"From", "+15005550006"},
          {"MessageSid", "SM0001"},     {"MessageStatus", "delivered"},
          {"SmsSid", "SM0001"},         {"SmsStatus", "delivered"},   {"To", "+15551234567"}};
}

// Posts a callback signed for `signed_url` with `token`; extra headers may be added.
http_reply post_signed(const server_fixture& f, const std::string& token, const std::string& path,
                       const form_params& params, header_list headers = {},
                       std::string signed_url = {}) {
  if (signed_url.empty())
    signed_url = std::string(test_public_url) + path;
  headers.emplace_back("X-Twilio-Signature", twilio_signature(token, signed_url, params));
  return f.client().post_form(path, form_encode(params), headers);
}

} // namespace

TEST_CASE("a callback without a signature is refused with 403 and nothing is submitted",
          "[webhook]") {
  server_fixture f;
  auto r = f.client().post_form(target, form_encode(delivered_params()));
  CHECK(r.status == 403);
  CHECK(r.json().at("error").is_string());
  r = f.client().post_form(target, form_encode(delivered_params()), {{"X-Twilio-Signature", ""}});
  CHECK(r.status == 403);
  CHECK(f.intake.count() == 0);
}

TEST_CASE("a callback with a wrong signature is refused with 403 and nothing is submitted",
          "[webhook]") {
  server_fixture f;
  SECTION("signed with another token") {
    CHECK(post_signed(f, "not-the-token", target, delivered_params()).status == 403);
  }
  SECTION("a garbage signature") {
    auto r = f.client().post_form(target, form_encode(delivered_params()),
                                  {{"X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl"}});
    CHECK(r.status == 403);
    CHECK(r.json().at("error") == "invalid signature");
  }
  SECTION("signed for another URL") {
    CHECK(post_signed(f, test_auth_token, target, delivered_params(), {},
                      std::string(test_public_url) + callback_path + "?mid=msg_0002")
            .status == 403);
  }
  SECTION("a parameter changed after signing") {
    auto params = delivered_params();
    header_list headers{{"X-Twilio-Signature",
                         twilio_signature(test_auth_token, test_public_url + target, params)}};
    params[4].second = "failed";
    CHECK(f.client().post_form(target, form_encode(params), headers).status == 403);
  }
  SECTION("no auth token configured") {
    f.cfg.twilio_auth_token.clear();
    CHECK(post_signed(f, test_auth_token, target, delivered_params()).status == 403);
  }
  CHECK(f.intake.count() == 0);
}

TEST_CASE("a correctly signed callback becomes one status report and a 200", "[webhook]") {
  server_fixture f;
  auto params = delivered_params();
  params[4].second = "Delivered";
  params.emplace_back("ErrorCode", "");
  params.emplace_back("Extra", "one");
  params.emplace_back("Extra", "two words");
  const auto before = now_millis();
  auto r = post_signed(f, test_auth_token, target, params,
                       {{"I-Twilio-Idempotency-Token", "idem-1"}});
  REQUIRE(r.status == 200);
  CHECK(r.json() == nlohmann::json{{"success", true}});
  REQUIRE(f.intake.count() == 1);
  const auto report = f.intake.reports().front();
  CHECK(report.message_id == "msg_0001");
  CHECK(report.message_sid == "SM0001");
  CHECK(report.provider_status == "delivered");
  CHECK_FALSE(report.error_code);
  CHECK_FALSE(report.error_message);
  CHECK(report.idempotency_token == "idem-1");
  CHECK(report.source == "webhook");
  CHECK(report.received_at >= before);
  CHECK(report.received_at <= now_millis());
  auto payload = nlohmann::json::parse(report.payload);
  CHECK(payload.at("To") == "+15551234567");
  CHECK(payload.at("MessageStatus") == "Delivered");
  CHECK(payload.at("ErrorCode") == "");
  CHECK(payload.at("Extra") == nlohmann::json::array({"one", "two words"}));
  CHECK_FALSE(payload.contains("mid")); // query parameters are not body parameters
}

TEST_CASE("error fields and the SmsSid/SmsStatus fallbacks reach the report", "[webhook]") {
  server_fixture f;
  form_params params{{"SmsSid", "SM0002"},
                     {"SmsStatus", "undelivered"},
                     {"ErrorCode", "30003"},
                     {"ErrorMessage", "Unreachable destination handset"}};
  auto r = post_signed(f, test_auth_token, callback_path, params);
  REQUIRE(r.status == 200);
  const auto report = f.intake.reports().at(0);
  CHECK_FALSE(report.message_id);
  CHECK(report.message_sid == "SM0002");
  CHECK(report.provider_status == "undelivered");
  CHECK(report.error_code == "30003");
  CHECK(report.error_message == "Unreachable destination handset");
  CHECK_FALSE(report.idempotency_token);
}

TEST_CASE("a signed callback without MessageSid or MessageStatus is a 400", "[webhook]") {
  server_fixture f;
  auto r = post_signed(f, test_auth_token, target, {{"MessageStatus", "sent"}});
  CHECK(r.status == 400);
  CHECK(r.json().at("error").get<std::string>().find("MessageSid") != std::string::npos);
  r = post_signed(f, test_auth_token, target, {{"MessageSid", "SM1"}, {"MessageStatus", ""}});
  CHECK(r.status == 400);
  CHECK(r.json().at("error").get<std::string>().find("MessageStatus") != std::string::npos);
  CHECK(f.intake.count() == 0);
}

TEST_CASE("a malformed form body is a 400", "[webhook]") {
  server_fixture f;
  auto r = f.client().post_form(target, "MessageSid=SM1&MessageStatus=%ZZ",
                                {{"X-Twilio-Signature", "c2lnbmF0dXJl"}});
  CHECK(r.status == 400);
  CHECK(r.json().at("error").is_string());
  CHECK(f.intake.count() == 0);
}

TEST_CASE("an oversized callback body is a 413, after the signature header check",
          "[webhook]") {
  server_fixture f;
  form_params big{{"MessageSid", "SM1"},
                  {"MessageStatus", "sent"},
                  {"Padding", std::string(f.cfg.max_body_bytes, 'x')}};
  auto r = post_signed(f, test_auth_token, target, big);
  CHECK(r.status == 413);
  CHECK(r.json().at("error").is_string());
  r = f.client().post_form(target, form_encode(big));
  CHECK(r.status == 403);
  CHECK(f.intake.count() == 0);
  CHECK(f.client().get("/livez").status == 200);
}

TEST_CASE("a chunked callback is read, capped and verified like any other", "[webhook]") {
  server_fixture f;
  auto params = delivered_params();
  http_request_spec spec;
  spec.method = "POST";
  spec.target = target;
  spec.content_type = "application/x-www-form-urlencoded";
  spec.chunked = true;
  spec.body = form_encode(params);
  spec.headers = {{"X-Twilio-Signature",
                   twilio_signature(test_auth_token, test_public_url + target, params)}};
  CHECK(http_send(f.port(), spec).status == 200);
  CHECK(f.intake.count() == 1);
  spec.body.append("&Padding=" + std::string(f.cfg.max_body_bytes, 'y'));
  CHECK(http_send(f.port(), spec).status == 413);
  CHECK(f.intake.count() == 1);
}

TEST_CASE("the secondary token is accepted during rotation, and the primary still is",
          "[webhook]") {
  auto cfg = http_test_config();
  cfg.twilio_auth_token_secondary = test_secondary_token;
  server_fixture f{cfg};
  CHECK(post_signed(f, test_secondary_token, target, delivered_params()).status == 200);
  CHECK(post_signed(f, test_auth_token, target, delivered_params()).status == 200);
  CHECK(post_signed(f, "third-token", target, delivered_params()).status == 403);
  CHECK(f.intake.count() == 2);
}

TEST_CASE("a signature over the URL with its default port is accepted", "[webhook]") {
  server_fixture f;
  CHECK(post_signed(f, test_auth_token, target, delivered_params(), {},
                    std::string("https://smsd.example.test:443") + target)
          .status == 200);
  CHECK(post_signed(f, test_auth_token, target, delivered_params(), {},
                    std::string("https://smsd.example.test:8443") + target)
          .status == 403);
}

TEST_CASE("the public URL may carry a path prefix and a trailing slash", "[webhook]") {
  auto cfg = http_test_config();
  cfg.public_app_url = "https://edge.example.test/sms/";
  server_fixture f{cfg};
  CHECK(post_signed(f, test_auth_token, target, delivered_params(), {},
                    "https://edge.example.test/sms" + target)
          .status == 200);
}

TEST_CASE("the request target is signed exactly as received", "[webhook]") {
  server_fixture f;
  // An escaped query is not normalised before validation.
  const std::string escaped = std::string(callback_path) + "?mid=msg%5F7";
  CHECK(post_signed(f, test_auth_token, escaped, delivered_params()).status == 200);
  CHECK(f.intake.reports().at(0).message_id == "msg_7");
  CHECK(post_signed(f, test_auth_token, escaped, delivered_params(), {},
                    std::string(test_public_url) + callback_path + "?mid=msg_7")
          .status == 403);
}

TEST_CASE("200 only once the intake's future succeeded, 503 on failure and on timeout",
          "[webhook]") {
  auto cfg = http_test_config();
  cfg.callback_ack_timeout_ms = 300;
  server_fixture f{cfg};
  SECTION("failure") {
    f.intake.set_answer(fake_status_intake::answer::failure);
    auto r = post_signed(f, test_auth_token, target, delivered_params());
    CHECK(r.status == 503);
    CHECK(r.json().at("error").is_string());
  }
  SECTION("no answer in time") {
    f.intake.set_answer(fake_status_intake::answer::never);
    const auto started = std::chrono::steady_clock::now();
    auto r = post_signed(f, test_auth_token, target, delivered_params());
    const auto waited = std::chrono::steady_clock::now() - started;
    CHECK(r.status == 503);
    CHECK(r.json().at("error").is_string());
    CHECK(waited >= std::chrono::milliseconds(300));
    CHECK(waited < std::chrono::seconds(5));
    f.intake.release_pending();
  }
  CHECK(f.intake.count() == 1);
}

TEST_CASE("the webhook path answers 405 to other methods", "[webhook]") {
  server_fixture f;
  auto r = f.client().get(callback_path);
  CHECK(r.status == 405);
  CHECK(r.header("Allow") == "POST");
  CHECK(r.json().at("error").is_string());
}

#include <regex>

#include <catch2/catch.hpp>

#include "http/twilio_signature.hpp"
#include "sim_fixture.hpp"
#include "twilio_sim/simulator.hpp"

using namespace smsd;
using namespace smsd::sim;
using namespace smsd::test;
using json = nlohmann::json;

namespace {

// A simulator on a clock the test moves by hand.
struct pure_fixture {
  explicit pure_fixture(behaviour b = {}, std::optional<std::string> callback_base = {})
    : sim({sim_account, sim_token, std::move(callback_base)}, std::move(b),
          [this] { return now; }) {
    spdlog::set_level(spdlog::level::warn);
  }

  rest_answer create(const create_fields& f) {
    return sim.handle({"POST", sim_messages_path, "", basic_auth(sim_account, sim_token),
                       create_body(f)});
  }

  json fetch(const std::string& sid) {
    return sim.handle({"GET", sim_message_path(sid), "", basic_auth(sim_account, sim_token), ""})
      .body;
  }

  millis now = 1438287153000;
  simulator sim;
};

std::vector<std::string> statuses_of(const std::vector<callback_job>& jobs) {
  std::vector<std::string> out;
  for (const auto& j : jobs)
    out.push_back(j.status);
  return out;
}

} // namespace

TEST_CASE("a message's status follows its timeline as time passes, without any callback",
          "[twilio_sim]") {
  pure_fixture f(*parse_behaviour(R"({"callback_delays_ms": [100, 200, 300]})"));
  auto a = f.create({"+15551230100", "hi", "", "MG0123", ""});
  REQUIRE(a.status == 201);
  CHECK(a.callbacks.empty()); // no StatusCallback
  const std::string sid = a.body.at("sid");
  CHECK(a.body.at("status") == "accepted");
  CHECK(a.body.at("from").is_null());
  f.now += 99;
  CHECK(f.fetch(sid).at("status") == "accepted");
  f.now += 1;
  auto m = f.fetch(sid);
  CHECK(m.at("status") == "queued");
  CHECK(m.at("from") == "+15005550006");
  CHECK(m.at("date_sent").is_null());
  f.now += 200;
  m = f.fetch(sid);
  CHECK(m.at("status") == "sent");
  CHECK(m.at("date_sent") == "Thu, 30 Jul 2015 20:12:33 +0000");
  f.now += 300;
  m = f.fetch(sid);
  CHECK(m.at("status") == "delivered");
  CHECK(m.at("date_updated") == "Thu, 30 Jul 2015 20:12:33 +0000");
  CHECK(m.at("error_code").is_null());
  f.now += 60000;
  CHECK(f.fetch(sid).at("status") == "delivered");
}

TEST_CASE("a timeline without a service starts queued and has two callbacks", "[twilio_sim]") {
  pure_fixture f;
  auto a = f.create({"+15551230100", "hi", "+15005550006", "", "https://smsd.example.test/cb"});
  REQUIRE(a.status == 201);
  CHECK(a.body.at("status") == "queued");
  CHECK(a.body.at("from") == "+15005550006");
  CHECK(statuses_of(a.callbacks) == std::vector<std::string>{"sent", "delivered"});
  CHECK(a.callbacks[0].delay == std::chrono::milliseconds(50));
  CHECK(a.callbacks[1].delay == std::chrono::milliseconds(100));
}

TEST_CASE("delivery failures end the timeline in failed or undelivered with the error code",
          "[twilio_sim]") {
  pure_fixture f(*parse_behaviour(R"({"delivery_failures": {
      "+15551230001": {"status": "undelivered", "error_code": 30003},
      "+15551230002": {"status": "failed", "error_code": 30007}}})"));
  auto u = f.create({"+15551230001", "hi", "", "MG0123", "https://smsd.example.test/cb"});
  CHECK(statuses_of(u.callbacks) == std::vector<std::string>{"queued", "sent", "undelivered"});
  CHECK(first_value(u.callbacks[2].params, "ErrorCode") == "30003");
  CHECK(first_value(u.callbacks[2].params, "RawDlrDoneDate") == "1507302012");
  auto x = f.create({"+15551230002", "hi", "", "MG0123", "https://smsd.example.test/cb"});
  CHECK(statuses_of(x.callbacks) == std::vector<std::string>{"queued", "failed"});
  CHECK(first_value(x.callbacks[1].params, "ErrorCode") == "30007");
  CHECK_FALSE(first_value(x.callbacks[1].params, "RawDlrDoneDate"));
  auto y = f.create({"+15551230002", "hi", "+15005550006", "", "https://smsd.example.test/cb"});
  CHECK(statuses_of(y.callbacks) == std::vector<std::string>{"failed"});
  f.now += 1000;
  auto m = f.fetch(u.body.at("sid"));
  CHECK(m.at("status") == "undelivered");
  CHECK(m.at("error_code") == 30003);
  CHECK(m.at("error_message") == "Unreachable destination handset");
  CHECK_FALSE(m.at("date_sent").is_null());
  m = f.fetch(x.body.at("sid"));
  CHECK(m.at("status") == "failed");
  CHECK(m.at("error_code") == 30007);
  CHECK(m.at("date_sent").is_null());
}

TEST_CASE("callback jobs carry Twilio's fields and a signature over the StatusCallback as given",
          "[twilio_sim]") {
  const std::string callback = "https://smsd.example.test/api/webhooks/twilio/status?mid=msg_1";
  pure_fixture f({}, std::string("http://127.0.0.1:9/"));
  auto a = f.create({"+15551230100", "hi", "", "MG0123", callback});
  REQUIRE(a.callbacks.size() == 3);
  const std::string sid = a.body.at("sid");
  for (const auto& job : a.callbacks) {
    INFO(job.status);
    CHECK(job.message_sid == sid);
    CHECK(job.target_url == "http://127.0.0.1:9/api/webhooks/twilio/status?mid=msg_1");
    CHECK(twilio_signature_valid({sim_token}, callback, job.params, job.signature));
    CHECK(first_value(job.params, "AccountSid") == sim_account);
    CHECK(first_value(job.params, "From") == "+15005550006");
    CHECK(first_value(job.params, "To") == "+15551230100");
    CHECK(first_value(job.params, "MessageSid") == sid);
    CHECK(first_value(job.params, "SmsSid") == sid);
    CHECK(first_value(job.params, "MessageStatus") == job.status);
    CHECK(first_value(job.params, "SmsStatus") == job.status);
    CHECK(first_value(job.params, "ApiVersion") == "2010-04-01");
    CHECK(first_value(job.params, "MessagingServiceSid") == "MG0123");
    CHECK_FALSE(first_value(job.params, "ErrorCode"));
    CHECK(first_value(job.params, "RawDlrDoneDate").has_value() == (job.status == "delivered"));
  }
  CHECK(a.callbacks[0].idempotency_token != a.callbacks[1].idempotency_token);
  CHECK(a.callbacks[1].idempotency_token != a.callbacks[2].idempotency_token);
}

TEST_CASE("reordered callbacks are planned newest first after the last one's time",
          "[twilio_sim]") {
  pure_fixture f(*parse_behaviour(R"({"reorder_callbacks": true})"));
  auto a = f.create({"+15551230100", "hi", "", "MG0123", "http://127.0.0.1:9/cb"});
  CHECK(statuses_of(a.callbacks) == std::vector<std::string>{"delivered", "sent", "queued"});
  CHECK(a.callbacks[0].delay == std::chrono::milliseconds(150));
  CHECK(a.callbacks[1].delay > a.callbacks[0].delay);
  CHECK(a.callbacks[2].delay > a.callbacks[1].delay);
}

TEST_CASE("duplicated callbacks are planned twice with the same token, shortly apart",
          "[twilio_sim]") {
  pure_fixture f(*parse_behaviour(R"({"duplicate_callbacks": true})"));
  auto a = f.create({"+15551230100", "hi", "+15005550006", "", "http://127.0.0.1:9/cb"});
  REQUIRE(statuses_of(a.callbacks)
          == std::vector<std::string>{"sent", "sent", "delivered", "delivered"});
  CHECK(a.callbacks[0].idempotency_token == a.callbacks[1].idempotency_token);
  CHECK(a.callbacks[0].signature == a.callbacks[1].signature);
  CHECK(a.callbacks[1].delay > a.callbacks[0].delay);
  CHECK(a.callbacks[2].idempotency_token == a.callbacks[3].idempotency_token);
  CHECK(a.callbacks[0].idempotency_token != a.callbacks[2].idempotency_token);
}

TEST_CASE("the seed makes drops and rate limiting repeatable", "[twilio_sim]") {
  const auto run = [](std::uint64_t seed) {
    behaviour b;
    b.drop_callbacks = 0.5;
    b.rate_limit_share = 0.3;
    b.seed = seed;
    pure_fixture f(b);
    std::string outcome;
    for (int i = 0; i < 40; ++i) {
      auto a = f.create({"+15551230100", "hi", "", "MG0123", "http://127.0.0.1:9/cb"});
      if (a.status == 429) {
        outcome += 'R';
        continue;
      }
      for (const auto& job : a.callbacks)
        outcome += job.status[0];
      outcome += '|';
    }
    return std::make_pair(outcome, f.sim.counts());
  };
  const auto [first, counts] = run(7);
  CHECK(run(7).first == first);
  CHECK(run(8).first != first);
  CHECK(counts.rate_limited > 0);
  CHECK(counts.rate_limited < 40);
  CHECK(counts.callbacks_dropped > 0);
  CHECK(counts.creates_received == 40);
  CHECK(counts.creates_accepted + counts.rate_limited == 40);
}

TEST_CASE("a reset forgets messages and counts, and results of older callbacks are ignored",
          "[twilio_sim]") {
  pure_fixture f;
  auto a = f.create({"+15551230100", "hi", "+15005550006", "", "http://127.0.0.1:9/cb"});
  REQUIRE(a.callbacks.size() == 2);
  f.sim.record_callback(a.callbacks[0], {true, 200, {}});
  CHECK(f.sim.counts().callbacks_sent == 1);
  f.sim.reset();
  f.sim.record_callback(a.callbacks[1], {true, 200, {}});
  CHECK(f.sim.counts().callbacks_sent == 0);
  CHECK(f.sim.counts().creates_received == 0);
  CHECK(f.sim.messages_json().empty());
  CHECK(f.fetch(a.body.at("sid")).at("status") == 404);
}

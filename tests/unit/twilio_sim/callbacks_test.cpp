#include <regex>
#include <set>

#include <catch2/catch.hpp>

#include "http/twilio_signature.hpp"
#include "sim_fixture.hpp"
#include "tests/support/smsd_process.hpp"

using namespace smsd;
using namespace smsd::test;
using json = nlohmann::json;

namespace {

std::vector<std::string> statuses(const std::vector<received_request>& requests) {
  std::vector<std::string> out;
  for (const auto& r : requests)
    out.push_back(r.param("MessageStatus"));
  return out;
}

} // namespace

TEST_CASE("a service's callbacks arrive queued, sent, delivered, signed, with Twilio's fields",
          "[twilio_sim][callbacks]") {
  callback_receiver receiver;
  sim_fixture f;
  const std::string callback = receiver.url("/api/webhooks/twilio/status?mid=msg_0001");
  auto created = f.create({"+15551230100", "hi", "", "MG0123", callback});
  REQUIRE(created.status == 201);
  const std::string sid = created.json().at("sid");
  REQUIRE(receiver.wait_for(3));
  REQUIRE(f.callbacks_settled());
  const auto got = receiver.received();
  REQUIRE(got.size() == 3);
  CHECK(statuses(got) == std::vector<std::string>{"queued", "sent", "delivered"});
  std::set<std::string> tokens;
  for (const auto& r : got) {
    INFO(r.body);
    CHECK(r.method == "POST");
    CHECK(r.target == "/api/webhooks/twilio/status?mid=msg_0001");
    CHECK(r.header("Content-Type") == "application/x-www-form-urlencoded");
    CHECK(r.header("User-Agent") == "TwilioProxy/1.1");
    CHECK(twilio_signature_valid({sim_token}, callback, r.params, r.header("X-Twilio-Signature")));
    CHECK_FALSE(twilio_signature_valid({"another-token"}, callback, r.params,
                                       r.header("X-Twilio-Signature")));
    tokens.insert(r.header("I-Twilio-Idempotency-Token"));
    CHECK(r.param("AccountSid") == sim_account);
    CHECK(r.param("From") == "+15005550006");
    CHECK(r.param("To") == "+15551230100");
    CHECK(r.param("MessageSid") == sid);
    CHECK(r.param("SmsSid") == sid);
    CHECK(r.param("SmsStatus") == r.param("MessageStatus"));
    CHECK(r.param("ApiVersion") == "2010-04-01");
    CHECK(r.param("MessagingServiceSid") == "MG0123");
    CHECK_FALSE(r.has_param("ErrorCode"));
  }
  CHECK(tokens.size() == 3);
  CHECK_FALSE(tokens.count(""));
  CHECK_FALSE(got[0].has_param("RawDlrDoneDate"));
  CHECK(std::regex_match(got[2].param("RawDlrDoneDate"), std::regex(R"(^\d{10}$)")));
  const json s = f.stats();
  CHECK(s.at("callbacks_sent") == 3);
  CHECK(s.at("callbacks_failed") == 0);
  CHECK(s.at("callbacks_pending") == 0);
  CHECK(f.fetch(sid).json().at("status") == "delivered");
}

TEST_CASE("without a service the callbacks are sent then delivered, from the given From",
          "[twilio_sim][callbacks]") {
  callback_receiver receiver;
  sim_fixture f;
  f.create({"+15551230100", "hi", "+15005550006", "", receiver.url("/cb")});
  REQUIRE(receiver.wait_for(2));
  REQUIRE(f.callbacks_settled());
  const auto got = receiver.received();
  CHECK(statuses(got) == std::vector<std::string>{"sent", "delivered"});
  CHECK(got[0].param("From") == "+15005550006");
  CHECK_FALSE(got[0].has_param("MessagingServiceSid"));
}

TEST_CASE("delivery_failures end in undelivered or failed with ErrorCode", "[twilio_sim][callbacks]") {
  callback_receiver receiver;
  sim_fixture f(*sim::parse_behaviour(R"({"callback_delays_ms": [10],
    "delivery_failures": {"+15551230001": {"status": "undelivered", "error_code": 30003},
                          "+15551230002": {"status": "failed", "error_code": 30007}}})"));
  const std::string u = f.create({"+15551230001", "hi", "", "MG0123", receiver.url("/u")})
                          .json().at("sid");
  const std::string x = f.create({"+15551230002", "hi", "", "MG0123", receiver.url("/x")})
                          .json().at("sid");
  REQUIRE(receiver.wait_for(5));
  REQUIRE(f.callbacks_settled());
  std::vector<received_request> to_u, to_x;
  for (const auto& r : receiver.received())
    (r.target == "/u" ? to_u : to_x).push_back(r);
  CHECK(statuses(to_u) == std::vector<std::string>{"queued", "sent", "undelivered"});
  CHECK(to_u.back().param("ErrorCode") == "30003");
  CHECK(to_u.back().has_param("RawDlrDoneDate"));
  CHECK_FALSE(to_u[1].has_param("ErrorCode"));
  CHECK(statuses(to_x) == std::vector<std::string>{"queued", "failed"});
  CHECK(to_x.back().param("ErrorCode") == "30007");
  auto m = f.fetch(u).json();
  CHECK(m.at("status") == "undelivered");
  CHECK(m.at("error_code") == 30003);
  CHECK(m.at("error_message").is_string());
  m = f.fetch(x).json();
  CHECK(m.at("status") == "failed");
  CHECK(m.at("error_code") == 30007);
}

TEST_CASE("reorder_callbacks posts delivered before sent before queued", "[twilio_sim][callbacks]") {
  callback_receiver receiver;
  sim_fixture f(*sim::parse_behaviour(R"({"reorder_callbacks": true, "callback_delays_ms": [10]})"));
  f.create({"+15551230100", "hi", "", "MG0123", receiver.url("/cb")});
  REQUIRE(receiver.wait_for(3));
  CHECK(statuses(receiver.received()) == std::vector<std::string>{"delivered", "sent", "queued"});
}

TEST_CASE("duplicate_callbacks posts every callback twice with the same idempotency token",
          "[twilio_sim][callbacks]") {
  callback_receiver receiver;
  sim_fixture f(*sim::parse_behaviour(R"({"duplicate_callbacks": true, "callback_delays_ms": [10]})"));
  const std::string callback = receiver.url("/cb");
  f.create({"+15551230100", "hi", "+15005550006", "", callback});
  REQUIRE(receiver.wait_for(4));
  REQUIRE(f.callbacks_settled());
  const auto got = receiver.received();
  REQUIRE(got.size() == 4);
  std::map<std::string, std::vector<std::string>> tokens_by_status;
  for (const auto& r : got) {
    CHECK(twilio_signature_valid({sim_token}, callback, r.params, r.header("X-Twilio-Signature")));
    tokens_by_status[r.param("MessageStatus")].push_back(r.header("I-Twilio-Idempotency-Token"));
  }
  REQUIRE(tokens_by_status["sent"].size() == 2);
  REQUIRE(tokens_by_status["delivered"].size() == 2);
  CHECK(tokens_by_status["sent"][0] == tokens_by_status["sent"][1]);
  CHECK(tokens_by_status["delivered"][0] == tokens_by_status["delivered"][1]);
  CHECK(tokens_by_status["sent"][0] != tokens_by_status["delivered"][0]);
  CHECK(f.stats().at("callbacks_sent") == 4);
}

TEST_CASE("drop_callbacks 1.0 posts nothing, counts the drops, and a fetch still shows delivered",
          "[twilio_sim][callbacks]") {
  callback_receiver receiver;
  sim_fixture f(*sim::parse_behaviour(R"({"drop_callbacks": 1.0, "callback_delays_ms": [10]})"));
  const std::string sid =
    f.create({"+15551230100", "hi", "", "MG0123", receiver.url("/cb")}).json().at("sid");
  const json s = f.stats();
  CHECK(s.at("callbacks_dropped") == 3);
  CHECK(s.at("callbacks_pending") == 0);
  CHECK(eventually([&] { return f.fetch(sid).json().at("status") == "delivered"; }));
  CHECK(receiver.received().empty());
  const json m = f.messages().at(0);
  CHECK(m.at("posted").empty());
  CHECK(m.at("callbacks").size() == 3);
  CHECK(m.at("callbacks").at(0).at("outcome") == "dropped");
}

TEST_CASE("drop_callbacks 0.5 drops some and posts the rest", "[twilio_sim][callbacks]") {
  callback_receiver receiver;
  sim_fixture f(*sim::parse_behaviour(
    R"({"drop_callbacks": 0.5, "callback_delays_ms": [5], "seed": 3})"));
  for (int i = 0; i < 10; ++i)
    f.create({"+15551230100", "hi", "", "MG0123", receiver.url("/cb")});
  REQUIRE(f.callbacks_settled());
  const json s = f.stats();
  const auto dropped = s.at("callbacks_dropped").get<int>();
  CHECK(dropped > 0);
  CHECK(dropped < 30);
  CHECK(s.at("callbacks_sent").get<int>() + dropped == 30);
  CHECK(receiver.received().size() == static_cast<std::size_t>(30 - dropped));
}

TEST_CASE("with a callback base the post goes there, signed over the StatusCallback as given",
          "[twilio_sim][callbacks]") {
  callback_receiver receiver;
  sim_fixture f({}, receiver.url(""));
  const std::string callback = "https://smsd.example.test/api/webhooks/twilio/status?mid=msg_9";
  f.create({"+15551230100", "hi", "+15005550006", "", callback});
  REQUIRE(receiver.wait_for(2));
  for (const auto& r : receiver.received()) {
    CHECK(r.target == "/api/webhooks/twilio/status?mid=msg_9");
    CHECK(twilio_signature_valid({sim_token}, callback, r.params, r.header("X-Twilio-Signature")));
    CHECK_FALSE(twilio_signature_valid({sim_token}, receiver.url(r.target), r.params,
                                       r.header("X-Twilio-Signature")));
  }
}

TEST_CASE("a receiver answering 500 counts failed callbacks that are not retried",
          "[twilio_sim][callbacks]") {
  callback_receiver receiver;
  receiver.answer_with(500);
  sim_fixture f(*sim::parse_behaviour(R"({"callback_delays_ms": [5]})"));
  f.create({"+15551230100", "hi", "+15005550006", "", receiver.url("/cb")});
  REQUIRE(f.callbacks_settled());
  const json s = f.stats();
  CHECK(s.at("callbacks_failed") == 2);
  CHECK(s.at("callbacks_sent") == 0);
  CHECK(s.at("callbacks_retried") == 0);
  CHECK(receiver.received().size() == 2);
  const json m = f.messages().at(0);
  CHECK(m.at("callbacks").at(0).at("http_status") == 500);
  CHECK(m.at("callbacks").at(0).at("outcome") == "failed");
}

TEST_CASE("a callback whose connection fails is tried once more with the same token",
          "[twilio_sim][callbacks]") {
  const std::uint16_t port = free_port();
  const std::string callback = "http://127.0.0.1:" + std::to_string(port) + "/cb";
  SECTION("nobody listens: both tries fail") {
    sim_fixture f(*sim::parse_behaviour(R"({"callback_delays_ms": [0]})"));
    f.create({"+15551230100", "hi", "+15005550006", "", callback});
    REQUIRE(f.callbacks_settled());
    const json s = f.stats();
    CHECK(s.at("callbacks_retried") == 2);
    CHECK(s.at("callbacks_failed") == 2);
  }
  SECTION("the receiver comes up before the retry: it gets the callback") {
    sim_fixture f(*sim::parse_behaviour(R"({"callback_delays_ms": [0, 60000]})"));
    f.create({"+15551230100", "hi", "+15005550006", "", callback});
    REQUIRE(eventually([&] { return f.stats().at("callbacks_retried") == 1; }));
    callback_receiver receiver(port);
    REQUIRE(receiver.wait_for(1));
    CHECK(receiver.received().at(0).param("MessageStatus") == "sent");
    REQUIRE(eventually([&] { return f.stats().at("callbacks_sent") == 1; }));
    const json m = f.messages().at(0);
    CHECK(m.at("callbacks").at(0).at("idempotency_token")
          == receiver.received().at(0).header("I-Twilio-Idempotency-Token"));
  }
}

TEST_CASE("stopping the simulator cancels callbacks still waiting", "[twilio_sim][callbacks]") {
  callback_receiver receiver;
  auto f = std::make_unique<sim_fixture>(*sim::parse_behaviour(R"({"callback_delays_ms": [60000]})"));
  f->create({"+15551230100", "hi", "+15005550006", "", receiver.url("/cb")});
  CHECK(f->stats().at("callbacks_pending") == 2);
  const auto start = std::chrono::steady_clock::now();
  f.reset();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK(receiver.received().empty());
}

#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "twilio_sim/behaviour.hpp"

using namespace smsd;
using namespace smsd::sim;

TEST_CASE("an empty behaviour object takes every default", "[twilio_sim]") {
  auto b = parse_behaviour("{}");
  REQUIRE(b);
  CHECK(b->callback_delays_ms == std::vector<int>{50, 50, 50});
  CHECK(b->create_failures.empty());
  CHECK(b->delivery_failures.empty());
  CHECK_FALSE(b->reorder_callbacks);
  CHECK_FALSE(b->duplicate_callbacks);
  CHECK(b->drop_callbacks == 0.0);
  CHECK(b->rate_limit_share == 0.0);
  CHECK(b->retry_after_s == 0);
  CHECK(b->response_delay_ms == 0);
  CHECK(b->drop_after_accept.empty());
  CHECK(b->seed == 1);
}

TEST_CASE("every behaviour key is read and written back the same", "[twilio_sim]") {
  const auto text = R"({
    "callback_delays_ms": [10, 20],
    "create_failures": {"+15551230000": 21610},
    "delivery_failures": {"+15551230001": {"status": "undelivered", "error_code": 30003},
                          "+15551230002": {"status": "failed", "error_code": 30007}},
    "reorder_callbacks": true,
    "duplicate_callbacks": true,
    "drop_callbacks": 0.25,
    "rate_limit_share": 0.5,
    "retry_after_s": 1,
    "response_delay_ms": 30,
    "drop_after_accept": ["+15551230003"],
    "seed": 42
  })";
  auto b = parse_behaviour(text);
  REQUIRE(b);
  CHECK(b->callback_delays_ms == std::vector<int>{10, 20});
  CHECK(b->callback_delay_ms(0) == 10);
  CHECK(b->callback_delay_ms(1) == 20);
  CHECK(b->callback_delay_ms(5) == 20);
  CHECK(b->create_failures.at("+15551230000") == 21610);
  CHECK(b->delivery_failures.at("+15551230001").status == "undelivered");
  CHECK(b->delivery_failures.at("+15551230001").error_code == 30003);
  CHECK(b->delivery_failures.at("+15551230002").status == "failed");
  CHECK(b->reorder_callbacks);
  CHECK(b->duplicate_callbacks);
  CHECK(b->drop_callbacks == 0.25);
  CHECK(b->rate_limit_share == 0.5);
  CHECK(b->retry_after_s == 1);
  CHECK(b->response_delay_ms == 30);
  CHECK(b->drop_after_accept.count("+15551230003") == 1);
  CHECK(b->seed == 42);
  auto again = behaviour_from_json(to_json(*b));
  REQUIRE(again);
  CHECK(to_json(*again) == to_json(*b));
}

TEST_CASE("a behaviour with an unknown key or a bad value is refused with the reason",
          "[twilio_sim]") {
  const char* bad[] = {
    R"({"callback_delay_ms": [50]})",
    R"({"callback_delays_ms": []})",
    R"({"callback_delays_ms": [-1]})",
    R"({"callback_delays_ms": "50"})",
    R"({"create_failures": {"+15551230000": "21610"}})",
    R"({"delivery_failures": {"+15551230001": {"status": "delivered", "error_code": 30003}}})",
    R"({"delivery_failures": {"+15551230001": {"status": "failed"}}})",
    R"({"delivery_failures": {"+15551230001": {"status": "failed", "error_code": 30003, "x": 1}}})",
    R"({"reorder_callbacks": 1})",
    R"({"drop_callbacks": 1.5})",
    R"({"rate_limit_share": -0.1})",
    R"({"retry_after_s": 1.5})",
    R"({"response_delay_ms": -5})",
    R"({"drop_after_accept": "+15551230003"})",
    R"({"seed": -1})",
    R"([])",
    R"({"a": [[[[[[[[[[[[1]]]]]]]]]]]})",
    R"({)",
    "",
  };
  for (const char* text : bad) {
    INFO(text);
    auto b = parse_behaviour(text);
    REQUIRE_FALSE(b);
    CHECK(code_of(b.error()) == errc::invalid_argument);
    CHECK_FALSE(message_of(b.error()).empty());
  }
  CHECK(message_of(parse_behaviour(R"({"nope": 1})").error()) == "unknown key nope");
}

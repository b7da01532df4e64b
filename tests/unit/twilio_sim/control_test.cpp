#include <catch2/catch.hpp>

#include "sim_fixture.hpp"

using namespace smsd;
using namespace smsd::test;
using json = nlohmann::json;

TEST_CASE("PUT /_sim/config replaces the behaviour and refuses unknown keys with 400",
          "[twilio_sim][control]") {
  sim_fixture f;
  CHECK(f.client().get("/_sim/config").json() == sim::to_json({}));
  auto r = f.configure({{"create_failures", {{"+15551230000", 21610}}}, {"seed", 9}});
  REQUIRE(r.status == 200);
  CHECK(r.json().at("seed") == 9);
  CHECK(r.json().at("callback_delays_ms") == json{50, 50, 50}); // absent keys: defaults
  CHECK(f.client().get("/_sim/config").json() == r.json());
  CHECK(f.create({"+15551230000", "hi", "+15005550006", "", ""}).status == 400);

  r = f.configure({{"no_such_knob", true}});
  CHECK(r.status == 400);
  CHECK(r.json().at("error") == "unknown key no_such_knob");
  CHECK(f.client().put_json("/_sim/config", "not json").status == 400);
  // A refused configuration changes nothing.
  CHECK(f.client().get("/_sim/config").json().at("seed") == 9);

  REQUIRE(f.configure(json::object()).status == 200);
  CHECK(f.create({"+15551230000", "hi", "+15005550006", "", ""}).status == 201);
}

TEST_CASE("POST /_sim/reset forgets messages and counts and keeps the behaviour",
          "[twilio_sim][control]") {
  sim_fixture f(*sim::parse_behaviour(R"({"callback_delays_ms": [60000], "seed": 5})"));
  const std::string sid =
    f.create({"+15551230100", "hi", "+15005550006", "", "http://127.0.0.1:9/cb"}).json().at("sid");
  CHECK(f.stats().at("callbacks_pending") == 2);
  auto r = f.client().post_json("/_sim/reset", "");
  REQUIRE(r.status == 200);
  const json s = f.stats();
  CHECK(s.at("creates_received") == 0);
  CHECK(s.at("creates_accepted") == 0);
  CHECK(s.at("callbacks_pending") == 0);
  CHECK(s.at("creates_by_to").empty());
  CHECK(f.messages().empty());
  CHECK(f.fetch(sid).status == 404);
  CHECK(f.client().get("/_sim/config").json().at("seed") == 5);
}

TEST_CASE("GET /_sim/messages shows every message with its timeline and posted callbacks",
          "[twilio_sim][control]") {
  callback_receiver receiver;
  sim_fixture f(*sim::parse_behaviour(R"({"callback_delays_ms": [5]})"));
  const std::string sid =
    f.create({"+15551230100", "hello", "", "MG0123", receiver.url("/cb")}).json().at("sid");
  f.create({"+15551230101", "no callback", "+15005550006", "", ""});
  REQUIRE(f.callbacks_settled());
  const json all = f.messages();
  REQUIRE(all.size() == 2);
  const json& m = all.at(0);
  CHECK(m.at("sid") == sid);
  CHECK(m.at("to") == "+15551230100");
  CHECK(m.at("body") == "hello");
  CHECK(m.at("status") == "delivered");
  CHECK(m.at("messaging_service_sid") == "MG0123");
  CHECK(m.at("posted") == json{"queued", "sent", "delivered"});
  REQUIRE(m.at("timeline").size() == 4);
  CHECK(m.at("timeline").at(0).at("status") == "accepted");
  CHECK(m.at("timeline").at(3).at("reached") == true);
  CHECK(m.at("callbacks").at(2).at("outcome") == "sent");
  CHECK(m.at("callbacks").at(2).at("http_status") == 200);
  CHECK(all.at(1).at("posted").empty());
  CHECK(all.at(1).at("status_callback").is_null());
}

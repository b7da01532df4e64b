// POST /api/sms/send and /api/events/{eventId}/notify over real HTTP, with the real sender on a
// real SQLite file and a fake Twilio on the real interface.
#include <catch2/catch.hpp>

#include "sending_server.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

const header_list admin{bearer(test_admin_token)};

struct send_fixture : sending_server {
  explicit send_fixture(bool with_sender = true)
    : sending_server(
        [](store& db) {
          REQUIRE(db.upsert_event({"ev1", "No Edges", 1'800'000'000'000, "u1", 0, 0}));
          REQUIRE(db.upsert_attendee({"at1", "ev1", "John", std::nullopt,
                                      std::string("+14158675309"), 0, 0}));
          REQUIRE(db.upsert_attendee({"at2", "ev1", "Jane", std::nullopt, std::nullopt, 0, 0}));
        },
        "", with_sender) {}
};

std::string send_body(const std::string& extra = "") {
  return R"({"eventId":"ev1","attendeeId":"at1","body":"Hello","notificationType":"invitation")"
         + extra + "}";
}

} // namespace

TEST_CASE("a send answers the seed's SMSResult", "[send]") {
  send_fixture f;
  auto r = f.client().post_json("/api/sms/send", send_body(), admin);
  REQUIRE(r.status == 200);
  auto j = r.json();
  CHECK(j.at("success") == true);
  CHECK(j.at("messageId") == "SM1");
  CHECK(j.at("dbRecordId").get<std::string>().rfind("msg_", 0) == 0);
  CHECK_FALSE(j.contains("error"));
  REQUIRE(f.tw->creates.size() == 1);
  CHECK(f.tw->creates[0].to == "+14158675309");
}

TEST_CASE("a send Twilio refuses answers success false with Twilio's message", "[send]") {
  send_fixture f;
  f.tw->outcome = twilio::call_outcome::rejected;
  auto r = f.client().post_json("/api/sms/send", send_body(), admin);
  REQUIRE(r.status == 200);
  auto j = r.json();
  CHECK(j.at("success") == false);
  CHECK(j.at("error") == "Attempt to send to unsubscribed recipient");
  CHECK(j.contains("dbRecordId"));
  CHECK_FALSE(j.contains("messageId"));
}

TEST_CASE("bad send requests get a clear 4xx and send nothing", "[send]") {
  send_fixture f;
  auto c = f.client();
  struct bad {
    const char* body;
    int status;
    const char* error_part;
  };
  const bad cases[] = {
    {"[]", 400, "JSON object"},
    {"{", 400, ""},
    {R"({"attendeeId":"at1","body":"x","notificationType":"invitation"})", 400, "eventId"},
    {R"({"eventId":"ev1","body":"x","notificationType":"invitation"})", 400, "attendeeId"},
    {R"({"eventId":"ev1","attendeeId":"at1","notificationType":"invitation"})", 400, "body"},
    {R"({"eventId":"ev1","attendeeId":"at1","body":"  ","notificationType":"invitation"})", 400, "body"},
    {R"({"eventId":"ev1","attendeeId":"at1","body":"x"})", 400, "notificationType"},
    {R"({"eventId":"ev1","attendeeId":"at1","body":"x","notificationType":"spam"})", 400,
     "notificationType must be one of invitation, rsvp_reminder"},
    {R"({"eventId":"ev1","attendeeId":"at1","body":"x","notificationType":"invitation","to":5})",
     400, "to"},
    {R"({"eventId":"ev1","attendeeId":"at2","body":"x","notificationType":"invitation"})", 400,
     "no phone number"},
    {R"({"eventId":"ev1","attendeeId":"nobody","body":"x","notificationType":"invitation"})", 404,
     "Attendee not found"},
    {R"({"eventId":"nope","attendeeId":"at1","body":"x","notificationType":"invitation"})", 404,
     "Event not found"},
  };
  for (const auto& b : cases) {
    INFO(b.body);
    auto r = c.post_json("/api/sms/send", b.body, admin);
    CHECK(r.status == b.status);
    CHECK_THAT(r.json().at("error").get<std::string>(), Catch::Contains(b.error_part));
  }
  std::string long_body(1601, 'x');
  auto r = c.post_json("/api/sms/send", send_body(), admin);
  CHECK(r.status == 200);
  r = c.post_json("/api/sms/send",
                  R"({"eventId":"ev1","attendeeId":"at1","body":")" + long_body
                    + R"(","notificationType":"invitation"})",
                  admin);
  CHECK(r.status == 400);
  CHECK(f.tw->creates.size() == 1); // only the one good request
}

TEST_CASE("send endpoints need a token the event accepts", "[send]") {
  send_fixture f;
  auto c = f.client();
  CHECK(c.post_json("/api/sms/send", send_body()).status == 401);
  CHECK(c.post_json("/api/sms/send", send_body(), {bearer("wrong")}).status == 401);
  CHECK(c.post_json("/api/events/ev1/notify",
                    R"({"notificationType":"invitation","body":"x"})")
          .status == 401);
  CHECK(c.post_json("/api/events/ev1/notify", R"({"notificationType":"invitation","body":"x"})",
                    {{"Authorization", "Basic abc"}})
          .status == 401);
  CHECK(f.tw->creates.empty());
  CHECK(f.intake.count() == 0);
}

TEST_CASE("without Twilio credentials sending answers 503 after checking the request", "[send]") {
  send_fixture f{false};
  auto c = f.client();
  auto r = c.post_json("/api/sms/send", send_body(), admin);
  CHECK(r.status == 503);
  CHECK_THAT(r.json().at("error").get<std::string>(), Catch::Contains("TWILIO_ACCOUNT_SID"));
  CHECK(c.post_json("/api/sms/send", "{}", admin).status == 400);
}

TEST_CASE("notify answers per attendee and counts", "[send]") {
  send_fixture f;
  auto r = f.client().post_json("/api/events/ev1/notify",
                                R"({"notificationType":"event_reminder","body":"Hi {{firstName}}"})",
                                admin);
  REQUIRE(r.status == 200);
  auto j = r.json();
  CHECK(j.at("sent") == 1);
  CHECK(j.at("failed") == 0);
  CHECK(j.at("skipped") == 1);
  REQUIRE(j.at("results").size() == 2);
  CHECK(j.at("results")[0].at("attendeeId") == "at1");
  CHECK(j.at("results")[0].at("success") == true);
  CHECK(j.at("results")[0].at("messageId") == "SM1");
  CHECK(j.at("results")[1].at("attendeeId") == "at2");
  CHECK(j.at("results")[1].at("success") == false);
  CHECK(j.at("results")[1].at("skipped") == true);
  CHECK(j.at("results")[1].at("error") == "Attendee has no phone number");
  CHECK(f.tw->creates.at(0).body == "Hi John");
}

TEST_CASE("bad notify requests get a clear 4xx and send nothing", "[send]") {
  send_fixture f;
  auto c = f.client();
  CHECK(c.post_json("/api/events/ev1/notify", R"({"notificationType":"invitation"})", admin).status
        == 400);
  CHECK(c.post_json("/api/events/ev1/notify", R"({"body":"x"})", admin).status == 400);
  CHECK(c.post_json("/api/events/ev1/notify",
                    R"({"notificationType":"invitation","body":"x","attendeeIds":"at1"})", admin)
          .status
        == 400);
  CHECK(c.post_json("/api/events/ev1/notify",
                    R"({"notificationType":"invitation","body":"x","attendeeIds":[1]})", admin)
          .status
        == 400);
  CHECK(c.post_json("/api/events/ev1/notify",
                    R"({"notificationType":"invitation","body":"x","attendeeIds":[""]})", admin)
          .status
        == 400);
  auto r = c.post_json("/api/events/nope/notify", R"({"notificationType":"invitation","body":"x"})",
                       admin);
  CHECK(r.status == 404);
  CHECK(r.json().at("error") == "Event not found");
  CHECK(f.tw->creates.empty());
}

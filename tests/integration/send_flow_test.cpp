// Sending end to end: smsd (in process, real database) sends through the real Twilio simulator
// (a child process) over HTTP, which posts signed status callbacks back to smsd.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "send_world.hpp"

using namespace smsd;
using namespace smsd::test;
using nlohmann::json;

namespace {

std::vector<std::string> record_ids(const json& notify_answer) {
  std::vector<std::string> ids;
  for (const auto& r : notify_answer.at("results"))
    if (r.contains("dbRecordId"))
      ids.push_back(r.at("dbRecordId").get<std::string>());
  return ids;
}

} // namespace

TEST_CASE("notify, simulator, signed callbacks: every text ends delivered", "[send][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  send_world w{database_url_of(dialect)};
  w.smsd.seed_event();
  for (int i = 0; i < 5; ++i)
    w.attendee("g" + std::to_string(i), "+1415555010" + std::to_string(i), "G" + std::to_string(i));
  auto r = w.notify({{"notificationType", "invitation"}, {"body", "Hi {{firstName}}, {{eventName}}"}});
  REQUIRE(r.status == 200);
  auto answer = r.json();
  CHECK(answer.at("sent") == 6); // five guests and the seeded attendee
  CHECK(answer.at("failed") == 0);
  auto ids = record_ids(answer);
  REQUIRE(ids.size() == 6);
  REQUIRE(eventually([&] { return w.all_final(ids); }));
  for (const auto& id : ids) {
    auto m = w.row(id);
    INFO(id);
    CHECK(m.state.status == "delivered");
    CHECK(m.send_state == "accepted");
    CHECK(m.message_sid.has_value());
    CHECK(m.state.sent_at.has_value());
    CHECK(m.state.delivered_at.has_value());
    CHECK(m.account_sid == std::optional<std::string>{sim_account_sid});
    auto evs = w.smsd.events(id);
    // The send result, then queued, sent and delivered from Twilio.
    CHECK(evs.size() == 4);
  }
  CHECK(w.row(ids[1]).body == std::optional<std::string>{"Hi G0, No Edges"});
  auto st = w.stats();
  CHECK(st.at("creates_accepted") == 6);
  CHECK(st.at("callbacks_failed") == 0);
  CHECK(eventually([&] { return w.stats().at("callbacks_sent") == 18; }));
}

TEST_CASE("reordered and duplicated callbacks change nothing", "[send][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  send_world w{database_url_of(dialect), {{"reorder_callbacks", true}, {"duplicate_callbacks", true}}};
  w.smsd.seed_event();
  for (int i = 0; i < 4; ++i)
    w.attendee("g" + std::to_string(i), "+1415555020" + std::to_string(i));
  auto r = w.notify({{"notificationType", "rsvp_reminder"}, {"body", "Reminder"}});
  REQUIRE(r.status == 200);
  auto ids = record_ids(r.json());
  REQUIRE(ids.size() == 5);
  REQUIRE(eventually([&] { return w.all_final(ids); }));
  // Every callback was posted twice, newest first; let them all land.
  REQUIRE(eventually([&] { return w.stats().at("callbacks_pending") == 0; }));
  for (const auto& id : ids) {
    INFO(id);
    auto m = w.row(id);
    CHECK(m.state.status == "delivered");
    CHECK(m.state.sent_at.has_value());
    CHECK(m.state.delivered_at.has_value());
    auto evs = w.smsd.events(id);
    // Duplicates (same idempotency token) are stored once: send + 3 statuses.
    CHECK(evs.size() == 4);
    int applied = 0;
    for (const auto& e : evs)
      applied += e.applied ? 1 : 0;
    // delivered came first and applied; queued and sent arrived late and were logged as stale.
    CHECK(applied == 2); // the send result (accepted) and delivered
  }
}

TEST_CASE("each magic number ends as a failed row with its code, and a bad number is never sent",
          "[send][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  send_world w{database_url_of(dialect)};
  w.smsd.seed_event();
  const std::map<std::string, std::string> magic = {{"+15005550001", "21211"},
                                                    {"+15005550002", "21612"},
                                                    {"+15005550003", "21408"},
                                                    {"+15005550004", "21610"},
                                                    {"+15005550009", "21614"}};
  int n = 0;
  for (const auto& [phone, code] : magic)
    w.attendee("m" + std::to_string(n++), phone);
  w.attendee("bad", "12345");
  REQUIRE(w.smsd.db->delete_attendee("ev1", "at1"));
  auto r = w.notify({{"notificationType", "invitation"}, {"body", "Hi"}});
  REQUIRE(r.status == 200);
  auto answer = r.json();
  CHECK(answer.at("sent") == 0);
  CHECK(answer.at("failed") == 6);
  for (const auto& res : answer.at("results")) {
    INFO(res.dump());
    CHECK(res.at("success") == false);
    CHECK_FALSE(res.at("error").get<std::string>().empty());
    auto m = w.row(res.at("dbRecordId").get<std::string>());
    CHECK(m.state.status == "failed");
    CHECK_FALSE(m.message_sid.has_value());
    REQUIRE(m.state.error_code);
    REQUIRE(m.state.error_message);
    if (m.to_phone == "12345") {
      CHECK(*m.state.error_code == "21211");
      CHECK_THAT(*m.state.error_message, Catch::Contains("not sent"));
      CHECK(m.send_state == "not_sent");
    } else {
      CHECK(*m.state.error_code == magic.at(m.to_phone));
      CHECK(m.send_state == "rejected");
    }
  }
  auto st = w.stats();
  CHECK(st.at("creates_received") == 5); // the bad number never reached Twilio
  CHECK(st.at("creates_rejected") == 5);
  CHECK(st.at("creates_accepted") == 0);
}

TEST_CASE("with 30% of creates answered 429 and slow answers, each text is sent exactly once",
          "[send][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  send_world w{database_url_of(dialect),
               {{"rate_limit_share", 0.3}, {"response_delay_ms", 150}, {"seed", 7}}};
  w.smsd.seed_event();
  REQUIRE(w.smsd.db->delete_attendee("ev1", "at1"));
  const int guests = 20;
  for (int i = 0; i < guests; ++i)
    w.attendee("g" + std::to_string(i), "+141555503" + std::to_string(10 + i));
  auto r = w.notify({{"notificationType", "match_reveal"}, {"body", "Your match"}});
  INFO(r.body); // a failure shows every attendee's result
  REQUIRE(r.status == 200);
  auto answer = r.json();
  CHECK(answer.at("sent") == guests);
  auto ids = record_ids(answer);
  REQUIRE(ids.size() == std::size_t(guests));
  auto st = w.stats();
  INFO(st.dump()); // and what the simulator saw
  CHECK(st.at("rate_limited").get<int>() > 0);
  CHECK(st.at("creates_accepted") == guests);
  for (const auto& [to, count] : st.at("creates_by_to").items()) {
    INFO(to);
    CHECK(count == 1);
  }
  CHECK(st.at("creates_by_to").size() == std::size_t(guests));
  REQUIRE(eventually([&] { return w.all_final(ids); }));
  for (const auto& id : ids)
    CHECK(w.row(id).state.status == "delivered");
}

TEST_CASE("a dropped answer leaves the row for reconciliation and is never sent again",
          "[send][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  // Twilio takes the message, the answer never comes, and no callback follows.
  send_world w{database_url_of(dialect),
               {{"drop_after_accept", {"+15551234567"}}, {"drop_callbacks", 1.0}}};
  w.smsd.seed_event();
  auto r = w.send("at1");
  REQUIRE(r.status == 200);
  auto j = r.json();
  CHECK(j.at("success") == false);
  CHECK_THAT(j.at("error").get<std::string>(), Catch::Contains("not sent again"));
  auto m = w.row(j.at("dbRecordId").get<std::string>());
  CHECK(m.send_state == "unknown");
  CHECK_FALSE(m.message_sid.has_value());
  CHECK(m.state.status == "queued");
  auto st = w.stats();
  CHECK(st.at("creates_received") == 1);
  CHECK(st.at("creates_accepted") == 1);
  CHECK(st.at("connections_dropped") == 1);
}

TEST_CASE("a dropped answer is settled by Twilio's own callbacks when they come", "[send][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  send_world w{database_url_of(dialect), {{"drop_after_accept", {"+15551234567"}}}};
  w.smsd.seed_event();
  auto r = w.send("at1");
  REQUIRE(r.status == 200);
  auto id = r.json().at("dbRecordId").get<std::string>();
  REQUIRE(eventually([&] { return w.row(id).state.status == "delivered"; }));
  auto m = w.row(id);
  CHECK(m.send_state == "accepted");
  CHECK(m.message_sid.has_value());
  CHECK(w.stats().at("creates_received") == 1);
}

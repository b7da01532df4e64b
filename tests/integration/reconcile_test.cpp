// Reconciliation end to end: smsd (in process, real database) and the real Twilio simulator (a
// child process); the job runs with an explicit `now`, asks the simulator over HTTP and reports
// through smsd's own intake, so the message actors and the state machine apply what it learns.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/status_intake.hpp"
#include "common/time.hpp"
#include "scheduling/reconcile_job.hpp"
#include "send_world.hpp"
#include "twilio/rest_client.hpp"

using namespace smsd;
using namespace smsd::test;
using nlohmann::json;

namespace {

constexpr millis hour_ms = 3600LL * 1000;
constexpr millis minute_ms = 60LL * 1000;

/// The job as the scheduler would build it, with a REST client of its own on the simulator.
struct job_rig {
  twilio::rest_client client;
  reconcile_job job;

  job_rig(send_world& w, int max_attempts = 8)
    : client(client_config(w, max_attempts)), job(reconcile_settings{}, client, w.smsd.app->intake()) {}

  static twilio::rest_client_config client_config(send_world& w, int max_attempts) {
    twilio::rest_client_config c;
    c.base_url = "http://127.0.0.1:" + std::to_string(w.sim.port());
    c.account_sid = sim_account_sid;
    c.auth_token = auth_token;
    c.read_timeout_ms = 3000;
    c.max_attempts = max_attempts;
    c.backoff_initial_ms = 10;
    c.backoff_max_ms = 100;
    return c;
  }

  reconcile_result run(send_world& w, millis now) {
    auto r = job.reconcile(*w.smsd.db, now);
    REQUIRE(r);
    INFO(r->counts_json().dump());
    return *r;
  }
};

std::string sent_id(send_world& w, const std::string& attendee) {
  auto r = w.send(attendee);
  REQUIRE(r.status == 200);
  return r.json().at("dbRecordId").get<std::string>();
}

/// Waits until the simulator's timeline of every message has reached its end.
void wait_simulator_final(send_world& w, std::size_t count) {
  REQUIRE(eventually([&] {
    auto r = http_send(w.sim.port(), {"GET", "/_sim/messages", {}, "", ""});
    if (r.status != 200)
      return false;
    auto all = r.json();
    if (all.size() < count)
      return false;
    for (const auto& m : all) {
      const auto s = m.at("status").get<std::string>();
      if (s != "delivered" && s != "undelivered" && s != "failed")
        return false;
    }
    return true;
  }));
}

message_record inserted(send_world& w, const std::string& id, std::optional<std::string> sid,
                        const std::string& to, millis created_at, const std::string& state) {
  auto m = sample_message(id, std::move(sid), "ev1", "at1");
  m.to_phone = to;
  m.created_at = created_at;
  m.state.status_updated_at = created_at;
  m.send_state = state;
  REQUIRE_FALSE(w.smsd.db->insert_message(m));
  return m;
}

} // namespace

TEST_CASE("a message whose callbacks were dropped reaches its real final status through "
          "reconciliation",
          "[reconcile][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  send_world w{database_url_of(dialect), {{"drop_callbacks", 1.0}}};
  w.smsd.seed_event();
  auto id = sent_id(w, "at1");
  wait_simulator_final(w, 1);
  auto before = w.row(id);
  REQUIRE(before.message_sid);
  CHECK(before.state.status == "queued");
  CHECK(before.state.provider_status == std::optional<std::string>{"accepted"});
  const auto creates = w.stats().at("creates_received").get<int>();

  job_rig rig{w};
  // Not stale yet: nothing is asked.
  auto early = rig.run(w, now_millis());
  CHECK(early.examined == 0);
  CHECK(w.stats().at("fetches") == 0);

  auto r = rig.run(w, now_millis() + 13 * hour_ms);
  CHECK(r.examined == 1);
  CHECK(r.fetched == 1);
  CHECK(r.updated == 1);
  CHECK(r.errors == 0);
  auto m = w.row(id);
  CHECK(m.state.status == "delivered");
  CHECK(m.state.provider_status == std::optional<std::string>{"delivered"});
  CHECK(m.state.sent_at.has_value());
  CHECK(m.state.delivered_at.has_value());
  CHECK(m.send_state == "accepted");
  bool reconciled = false;
  for (const auto& e : w.smsd.events(id))
    if (e.source == "reconcile" && e.provider_status == "delivered" && e.applied)
      reconciled = true;
  CHECK(reconciled);

  // Final now: no longer a candidate; a second run asks nothing and changes nothing.
  auto again = rig.run(w, now_millis() + 13 * hour_ms);
  CHECK(again.examined == 0);
  CHECK(w.stats().at("fetches") == 1);
  // Nothing is ever re-sent.
  CHECK(w.stats().at("creates_received") == creates);
}

TEST_CASE("a message Twilio has no record of fails with a clear error", "[reconcile][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  send_world w{database_url_of(dialect)};
  w.smsd.seed_event();
  const auto now = now_millis();
  const std::string sid = "SM0123456789abcdef0123456789abcdef";
  inserted(w, "msg_ghost", sid, "+15551239999", now - 13 * hour_ms, "accepted");
  // Too old for the window: left alone.
  inserted(w, "msg_ancient", std::string("SM" + std::string(32, 'e')), "+15551239998",
           now - 8 * 24 * hour_ms, "accepted");

  job_rig rig{w};
  auto r = rig.run(w, now);
  CHECK(r.examined == 1);
  CHECK(r.failed_unknown == 1);
  CHECK(r.updated == 1);
  CHECK(r.errors == 0);
  auto m = w.row("msg_ghost");
  CHECK(m.state.status == "failed");
  CHECK_FALSE(m.state.error_code.has_value());
  CHECK(m.state.error_message
        == std::optional<std::string>{"Twilio has no record of this message (reconciliation)"});
  CHECK(m.message_sid == std::optional<std::string>{sid});
  auto evs = w.smsd.events("msg_ghost");
  REQUIRE(evs.size() == 1);
  CHECK(evs[0].source == "reconcile");
  CHECK(evs[0].provider_status == "failed");
  CHECK(w.row("msg_ancient").state.status == "queued");
  CHECK(w.stats().at("fetches") == 1);
  CHECK(w.stats().at("creates_received") == 0);
}

TEST_CASE("an unknown-outcome send is resolved both ways: found and attached, or not sent",
          "[reconcile][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  // Twilio takes the message, the answer never comes, and no callback follows.
  send_world w{database_url_of(dialect),
               {{"drop_after_accept", {"+15551234567"}}, {"drop_callbacks", 1.0}}};
  w.smsd.seed_event();
  auto id = sent_id(w, "at1");
  auto before = w.row(id);
  REQUIRE(before.send_state == "unknown");
  REQUIRE_FALSE(before.message_sid.has_value());
  // A send whose answer never came, to a number Twilio never saw.
  const auto now = now_millis();
  inserted(w, "msg_lost", std::nullopt, "+15551230077", now - hour_ms, "unknown");
  wait_simulator_final(w, 1);
  const auto creates = w.stats().at("creates_received").get<int>();
  REQUIRE(creates == 1);

  job_rig rig{w};
  // Too young for the unknown send just made; the inserted one is old enough.
  auto first = rig.run(w, now_millis());
  CHECK(first.examined == 1);
  CHECK(first.not_sent == 1);
  CHECK(first.attached == 0);
  CHECK(w.row(id).send_state == "unknown");

  auto r = rig.run(w, now_millis() + 20 * minute_ms);
  CHECK(r.examined == 1);
  CHECK(r.attached == 1);
  CHECK(r.updated == 1);
  CHECK(r.errors == 0);

  auto sims = http_send(w.sim.port(), {"GET", "/_sim/messages", {}, "", ""}).json();
  REQUIRE(sims.size() == 1);
  auto found = w.row(id);
  CHECK(found.message_sid == std::optional<std::string>{sims[0].at("sid").get<std::string>()});
  CHECK(found.send_state == "accepted");
  CHECK(found.state.status == "delivered");
  CHECK(found.state.delivered_at.has_value());
  CHECK(found.account_sid == std::optional<std::string>{sim_account_sid});
  bool attached_event = false;
  for (const auto& e : w.smsd.events(id))
    if (e.source == "reconcile" && e.provider_status == "delivered" && e.applied)
      attached_event = true;
  CHECK(attached_event);

  auto lost = w.row("msg_lost");
  CHECK(lost.state.status == "failed");
  CHECK(lost.send_state == "not_sent");
  CHECK_FALSE(lost.message_sid.has_value());
  CHECK(lost.state.error_message
        == std::optional<std::string>{"Twilio never accepted this message; it was not sent"});
  auto lost_events = w.smsd.events("msg_lost");
  REQUIRE(lost_events.size() == 1);
  CHECK(lost_events[0].source == "reconcile");

  // Both settled: nothing left to look at, and nothing was ever sent again.
  auto last = rig.run(w, now_millis() + 20 * minute_ms);
  CHECK(last.examined == 0);
  auto st = w.stats();
  CHECK(st.at("creates_received") == creates);
  CHECK(st.at("lists").get<int>() >= 2);
}

TEST_CASE("429s from Twilio slow reconciliation but lose nothing", "[reconcile][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  send_world w{database_url_of(dialect), {{"drop_callbacks", 1.0}}};
  w.smsd.seed_event();
  const int guests = 12;
  std::vector<std::string> ids;
  for (int i = 0; i < guests; ++i) {
    w.attendee("g" + std::to_string(i), "+141555504" + std::to_string(10 + i));
    ids.push_back(sent_id(w, "g" + std::to_string(i)));
  }
  wait_simulator_final(w, guests);
  for (const auto& id : ids)
    REQUIRE(w.row(id).state.status == "queued");
  w.configure({{"drop_callbacks", 1.0}, {"rate_limit_share", 0.5}, {"seed", 11}});
  const auto creates = w.stats().at("creates_received").get<int>();

  job_rig rig{w, 30};
  auto r = rig.run(w, now_millis() + 13 * hour_ms);
  CHECK(r.examined == guests);
  CHECK(r.fetched == guests);
  CHECK(r.updated == guests);
  CHECK(r.errors == 0);
  for (const auto& id : ids) {
    INFO(id);
    CHECK(w.row(id).state.status == "delivered");
  }
  auto st = w.stats();
  CHECK(st.at("rate_limited").get<int>() > 0);
  CHECK(st.at("fetches").get<int>() >= guests);
  CHECK(st.at("creates_received") == creates);
}

TEST_CASE("a fetch that keeps failing leaves the message for the next run", "[reconcile][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  send_world w{database_url_of(dialect), {{"drop_callbacks", 1.0}}};
  w.smsd.seed_event();
  auto id = sent_id(w, "at1");
  wait_simulator_final(w, 1);
  w.configure({{"drop_callbacks", 1.0}, {"rate_limit_share", 1.0}});

  job_rig rig{w, 2};
  auto r = rig.run(w, now_millis() + 13 * hour_ms);
  CHECK(r.examined == 1);
  CHECK(r.errors == 1);
  CHECK(r.updated == 0);
  CHECK(w.row(id).state.status == "queued");

  w.configure({{"drop_callbacks", 1.0}});
  auto next = rig.run(w, now_millis() + 13 * hour_ms);
  CHECK(next.fetched == 1);
  CHECK(next.errors == 0);
  CHECK(w.row(id).state.status == "delivered");
}

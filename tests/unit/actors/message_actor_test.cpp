// The message actor, router and persistence actor together, deterministic on CAF's test
// coordinator, over a real SQLite file. The commit worker is a recording stand-in on the real
// commit_worker interface (it commits through the real store), so tests can see the batches.
#include "actors/message_actor.hpp"

#include <algorithm>
#include <chrono>
#include <future>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include "actors/persistence_actor.hpp"
#include "common/errors.hpp"
#include "tests/support/sample_records.hpp"
#include "tests/support/test_databases.hpp"

using namespace smsd;

namespace {

// A commit worker on the real interface that commits through the real store, inline (so the
// test coordinator stays deterministic), recording each batch's size; it can be told to fail.
struct recording_committer final : commit_worker {
  explicit recording_committer(const std::string& url) : db(std::move(*open_store(url))) {}

  void commit(write_batch batch, std::function<void(batch_outcome)> done) override {
    batch_sizes.push_back(batch.size());
    batch_outcome out(batch.size());
    if (fail) {
      for (auto& o : out)
        o.error = "disk on fire";
      return done(std::move(out));
    }
    auto res = db->commit(batch);
    REQUIRE(res);
    for (std::size_t i = 0; i < batch.size(); ++i)
      out[i] = {true, (*res)[i], {}};
    done(std::move(out));
  }

  std::unique_ptr<store> db;
  std::vector<std::size_t> batch_sizes;
  bool fail = false;
};

caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::string url = test::temp_sqlite_url();
  std::unique_ptr<store> db;
  std::shared_ptr<recording_committer> wlog;
  std::shared_ptr<store_worker> loader;
  persistence_actor persistence;
  std::unique_ptr<message_router> router;
  static constexpr int idle_ms = 1000;
  // What the change listener heard, each with the status the database held at that moment.
  struct heard_change {
    message_change change;
    std::string stored_status;
  };
  std::vector<heard_change> heard;

  fixture()
    : sys(testing_config(cfg)),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    auto s = open_store(url);
    REQUIRE(s);
    db = std::move(*s);
    REQUIRE(db->migrate());
    REQUIRE(db->upsert_event({"ev1", "No Edges", 1'800'000'000'000, "u1", 0, 0}));
    REQUIRE(db->upsert_attendee({"at1", "ev1", "John", std::string("Smith"),
                                 std::string("+15551234567"), 0, 0}));
    wlog = std::make_shared<recording_committer>(url);
    loader = std::make_shared<store_worker>(url, std::make_unique<inline_executor>());
    persistence = sys.spawn(persistence_impl, std::vector<std::shared_ptr<commit_worker>>{wlog},
                            std::size_t{2048},
                            change_listener{[this](std::vector<message_change> changes) {
                              for (auto& c : changes)
                                heard.push_back({c, row(c.message_id).state.status});
                            }});
    router = std::make_unique<message_router>(
      sys, persistence, std::vector<std::shared_ptr<load_worker>>{loader}, idle_ms);
    sched.run();
  }

  ~fixture() {
    router->shutdown();
    caf::anon_send_exit(persistence, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void add_message(const std::string& id, std::optional<std::string> sid) {
    REQUIRE_FALSE(db->insert_message(test::sample_message(id, std::move(sid), "ev1", "at1")));
  }

  std::future<void> report(const std::string& sid, const std::string& status,
                           std::optional<std::string> id = std::nullopt,
                           std::optional<std::string> error = std::nullopt) {
    status_report r;
    r.message_id = std::move(id);
    r.message_sid = sid;
    r.provider_status = status;
    r.error_code = std::move(error);
    r.payload = "{\"MessageStatus\":\"" + status + "\"}";
    r.received_at = 5000;
    return router->submit(std::move(r));
  }

  message_record row(const std::string& id) {
    auto m = db->find_message_by_id(id);
    REQUIRE(m);
    REQUIRE(*m);
    return **m;
  }

  std::vector<status_event_record> events_of(const std::string& id_or_sid) {
    auto t = db->timeline(id_or_sid);
    REQUIRE(t);
    REQUIRE(*t);
    return (*t)->events;
  }
};

bool ready(std::future<void>& f) {
  return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

} // namespace

TEST_CASE_METHOD(fixture, "a callback is acknowledged only after its change is committed",
                 "[actors]") {
  add_message("m1", std::string("SM1"));
  auto f = report("SM1", "delivered");
  CHECK_FALSE(ready(f));
  sched.run();
  REQUIRE(ready(f));
  CHECK_NOTHROW(f.get());
  auto m = row("m1");
  CHECK(m.state.status == "delivered");
  CHECK(m.state.delivered_at == 5000);
  auto evs = events_of("m1");
  REQUIRE(evs.size() == 1);
  CHECK(evs[0].applied);
  CHECK(evs[0].disposition == "applied");
}

TEST_CASE_METHOD(fixture, "reports that arrive together are committed in one batch, one op per "
                          "message",
                 "[actors]") {
  add_message("m1", std::string("SM1"));
  add_message("m2", std::string("SM2"));
  // Load both actors first, so the next reports meet idle writers and a warm state.
  auto a = report("SM1", "queued"), b = report("SM2", "queued");
  sched.run();
  wlog->batch_sizes.clear();
  std::vector<std::future<void>> fs;
  for (auto status : {"sent", "delivered"})
    for (auto sid : {"SM1", "SM2"})
      fs.push_back(report(sid, status));
  sched.run();
  for (auto& f : fs)
    CHECK_NOTHROW(f.get());
  // The first report goes out at once, alone: the writer was idle. The three that came while
  // it was busy form the next batch, where SM2's two changes are coalesced into one op (SM1's
  // delivered waits for no one: its earlier op has committed by then).
  CHECK(wlog->batch_sizes == std::vector<std::size_t>{1, 2});
  CHECK(row("m1").state.status == "delivered");
  CHECK(row("m2").state.status == "delivered");
  CHECK(events_of("m1").size() == 3);
}

TEST_CASE_METHOD(fixture, "the change listener hears each applied change after its commit, and "
                          "nothing of duplicates, late or refused reports",
                 "[actors]") {
  add_message("m1", std::string("SM1"));
  auto a = report("SM1", "sent");
  sched.run();
  auto b = report("SM1", "sent");      // duplicate
  auto c = report("SM1", "delivered");
  sched.run();
  auto d = report("SM1", "sent");      // late
  auto e = report("SM1", "undelivered"); // a different final: an anomaly
  sched.run();
  wlog->fail = true;
  add_message("m2", std::string("SM2"));
  auto f = report("SM2", "sent"); // its commit fails: nothing to tell
  sched.run();
  CHECK_THROWS(f.get());
  REQUIRE(heard.size() == 2);
  CHECK(heard[0].change.message_id == "m1");
  CHECK(heard[0].change.event_id == "ev1");
  CHECK(heard[0].change.attendee_id == "at1");
  CHECK(heard[0].change.status == "sent");
  CHECK(heard[0].stored_status == "sent"); // told after the commit, never before
  CHECK(heard[1].change.status == "delivered");
  CHECK(heard[1].stored_status == "delivered");
}

TEST_CASE_METHOD(fixture, "a duplicate is acknowledged and stored once", "[actors]") {
  add_message("m1", std::string("SM1"));
  auto f1 = report("SM1", "sent");
  auto f2 = report("SM1", "sent");
  sched.run();
  CHECK_NOTHROW(f1.get());
  CHECK_NOTHROW(f2.get());
  auto evs = events_of("m1");
  CHECK(evs.size() == 1);
  CHECK(row("m1").state.status == "sent");
}

TEST_CASE_METHOD(fixture, "a callback before its row is kept and applied when the row appears",
                 "[actors]") {
  auto f = report("SM9", "delivered");
  sched.run();
  CHECK_NOTHROW(f.get());
  auto pending = db->pending_events("SM9");
  REQUIRE(pending);
  REQUIRE(pending->size() == 1);

  add_message("m9", std::string("SM9"));
  router->sweep("SM9"); // what the pending sweep does for each SID it finds
  sched.run();
  auto m = row("m9");
  CHECK(m.state.status == "delivered");
  CHECK(m.state.delivered_at == 5000);
  auto evs = events_of("m9");
  REQUIRE(evs.size() == 1);
  CHECK(evs[0].disposition == "applied");
  CHECK(evs[0].applied);
  CHECK(evs[0].message_id == std::string("m9"));
}

TEST_CASE_METHOD(fixture, "a callback that carries our id attaches the SID before the send "
                          "result does",
                 "[actors]") {
  add_message("m3", std::nullopt);
  auto f = report("SM3", "sent", std::string("m3"));
  sched.run();
  CHECK_NOTHROW(f.get());
  auto m = row("m3");
  CHECK(m.message_sid == std::string("SM3"));
  CHECK(m.state.status == "sent");
  // The actor now answers to the SID as well.
  auto g = report("SM3", "delivered");
  sched.run();
  CHECK_NOTHROW(g.get());
  CHECK(row("m3").state.status == "delivered");
  CHECK(router->size() == 2); // one actor under two keys
}

TEST_CASE_METHOD(fixture, "a callback for a deleted message is acknowledged and recreates nothing",
                 "[actors]") {
  add_message("m4", std::string("SM4"));
  auto f = report("SM4", "sent", std::string("m4"));
  sched.run();
  CHECK_NOTHROW(f.get());
  REQUIRE(db->delete_attendee("ev1", "at1"));
  auto g = report("SM4", "delivered", std::string("m4"));
  sched.run();
  CHECK_NOTHROW(g.get());
  auto gone = db->find_message_by_id("m4");
  REQUIRE(gone);
  CHECK_FALSE(*gone);
  // A fresh actor (after the first one idles out) knows it as an orphan too.
  sched.advance_time(std::chrono::milliseconds(2 * idle_ms));
  sched.run();
  auto h = report("SM4", "delivered", std::string("m4"));
  sched.run();
  CHECK_NOTHROW(h.get());
  gone = db->find_message_by_id("m4");
  CHECK_FALSE(*gone);
}

TEST_CASE_METHOD(fixture, "an idle message actor stops and a later report reloads its state",
                 "[actors]") {
  add_message("m5", std::string("SM5"));
  auto f = report("SM5", "sent");
  sched.run();
  CHECK_NOTHROW(f.get());
  CHECK(router->size() == 2);
  sched.advance_time(std::chrono::milliseconds(idle_ms / 2));
  sched.run();
  CHECK(router->size() == 2); // not idle long enough
  sched.advance_time(std::chrono::milliseconds(2 * idle_ms));
  sched.run();
  CHECK(router->size() == 0);
  auto g = report("SM5", "queued"); // stale: the reloaded state is 'sent'
  sched.run();
  CHECK_NOTHROW(g.get());
  CHECK(row("m5").state.status == "sent");
  auto evs = events_of("m5");
  REQUIRE(evs.size() == 2);
  CHECK(evs[1].disposition == "stale");
}

TEST_CASE_METHOD(fixture, "a failed commit breaks the acknowledgement", "[actors]") {
  add_message("m6", std::string("SM6"));
  wlog->fail = true;
  auto f = report("SM6", "delivered");
  sched.run();
  REQUIRE(ready(f));
  CHECK_THROWS(f.get());
  wlog->fail = false;
  auto g = report("SM6", "delivered");
  sched.run();
  CHECK_NOTHROW(g.get());
  CHECK(row("m6").state.status == "delivered");
}

TEST_CASE_METHOD(fixture, "when another writer moved the row on, the actor reloads it",
                 "[actors]") {
  add_message("m7", std::string("SM7"));
  auto f = report("SM7", "queued");
  sched.run();
  CHECK_NOTHROW(f.get());
  // Another smsd instance applies 'delivered' behind this actor's back.
  write_op op;
  auto st = row("m7").state;
  st.status = "delivered";
  st.provider_status = "delivered";
  st.status_rank = 4;
  st.delivered_at = 6000;
  op.update = message_update{"m7", std::nullopt, st};
  REQUIRE(db->commit({op}));
  auto g = report("SM7", "sent"); // this actor still believes 'queued'
  sched.run();
  CHECK_NOTHROW(g.get());
  auto h = report("SM7", "failed", std::nullopt, std::string("30008"));
  sched.run();
  CHECK_NOTHROW(h.get());
  auto m = row("m7");
  CHECK(m.state.status == "delivered");
  CHECK_FALSE(m.state.error_code);
  auto evs = events_of("m7");
  REQUIRE(evs.size() == 3);
  CHECK(evs[1].disposition == "superseded");
  CHECK(evs[2].disposition == "anomaly"); // judged against the reloaded 'delivered'
}

// -- send results (DESIGN §4) -----------------------------------------------------------------

namespace {

status_report send_report(const std::string& id, const std::string& send_state,
                          const std::string& sid, const std::string& status,
                          std::optional<std::string> error = std::nullopt) {
  status_report r;
  r.message_id = id;
  r.message_sid = sid;
  r.provider_status = status;
  r.error_code = std::move(error);
  r.source = "send";
  r.received_at = 4000;
  send_update su;
  su.message_id = id;
  su.send_state = send_state;
  if (!sid.empty())
    su.message_sid = sid;
  su.account_sid = "AC7";
  su.num_segments = 3;
  r.send = su;
  return r;
}

message_record sending_row(const std::string& id) {
  auto m = test::sample_message(id, std::nullopt, "ev1", "at1");
  m.send_state = send_state::sending;
  return m;
}

} // namespace

TEST_CASE_METHOD(fixture, "an accepted send result attaches the SID and Twilio's first status",
                 "[actors]") {
  REQUIRE_FALSE(db->insert_message(sending_row("m1")));
  auto f = router->submit(send_report("m1", send_state::accepted, "SM1", "accepted"));
  sched.run();
  CHECK_NOTHROW(f.get());
  auto m = row("m1");
  CHECK(m.message_sid == std::optional<std::string>{"SM1"});
  CHECK(m.send_state == "accepted");
  CHECK(m.account_sid == std::optional<std::string>{"AC7"});
  CHECK(m.num_segments == 3);
  CHECK(m.state.status == "queued");
  CHECK(m.state.provider_status == std::optional<std::string>{"accepted"});
  auto evs = events_of("m1");
  REQUIRE(evs.size() == 1);
  CHECK(evs[0].source == "send");
  CHECK(evs[0].disposition == "applied");
  // Callbacks for the SID now find the same message.
  auto g = report("SM1", "delivered");
  sched.run();
  CHECK_NOTHROW(g.get());
  CHECK(row("m1").state.status == "delivered");
}

TEST_CASE_METHOD(fixture, "a send refused by Twilio fails the row with its code and keeps no SID",
                 "[actors]") {
  REQUIRE_FALSE(db->insert_message(sending_row("m1")));
  auto r = send_report("m1", send_state::rejected, "", "failed", std::string("21610"));
  r.error_message = "Attempt to send to unsubscribed recipient";
  auto f = router->submit(std::move(r));
  sched.run();
  CHECK_NOTHROW(f.get());
  auto m = row("m1");
  CHECK_FALSE(m.message_sid.has_value());
  CHECK(m.send_state == "rejected");
  CHECK(m.state.status == "failed");
  CHECK(m.state.error_code == std::optional<std::string>{"21610"});
  CHECK(m.state.error_message
        == std::optional<std::string>{"Attempt to send to unsubscribed recipient"});
  auto evs = events_of("m1");
  REQUIRE(evs.size() == 1);
  CHECK_FALSE(evs[0].message_sid.has_value());
  CHECK(evs[0].dedup_key == "send:m1");
}

TEST_CASE_METHOD(fixture, "an unanswered send changes no status and is marked for reconciliation",
                 "[actors]") {
  REQUIRE_FALSE(db->insert_message(sending_row("m1")));
  auto f = router->submit(send_report("m1", send_state::unknown, "", ""));
  sched.run();
  CHECK_NOTHROW(f.get());
  auto m = row("m1");
  CHECK(m.send_state == "unknown");
  CHECK_FALSE(m.message_sid.has_value());
  CHECK(m.state.status_rank == -1);
  auto evs = events_of("m1");
  REQUIRE(evs.size() == 1);
  CHECK(evs[0].disposition == "unanswered");
  CHECK_FALSE(evs[0].applied);
}

TEST_CASE_METHOD(fixture, "a send result after an early callback still stores the send's facts",
                 "[actors]") {
  REQUIRE_FALSE(db->insert_message(sending_row("m1")));
  // Twilio's callback (carrying our id) outran the answer to the create.
  auto early = report("SM1", "sent", std::string("m1"));
  sched.run();
  CHECK_NOTHROW(early.get());
  auto f = router->submit(send_report("m1", send_state::accepted, "SM1", "queued"));
  sched.run();
  CHECK_NOTHROW(f.get());
  auto m = row("m1");
  CHECK(m.state.status == "sent");
  CHECK(m.message_sid == std::optional<std::string>{"SM1"});
  CHECK(m.send_state == "accepted");
  CHECK(m.num_segments == 3);
  auto evs = events_of("m1");
  REQUIRE(evs.size() == 2);
  auto send = std::find_if(evs.begin(), evs.end(), [](auto& e) { return e.source == "send"; });
  REQUIRE(send != evs.end());
  CHECK(send->disposition == "stale");
}

TEST_CASE_METHOD(fixture, "a callback for an unanswered send settles it as accepted",
                 "[actors]") {
  REQUIRE_FALSE(db->insert_message(sending_row("m1")));
  auto f = router->submit(send_report("m1", send_state::unknown, "", ""));
  sched.run();
  CHECK_NOTHROW(f.get());
  CHECK(row("m1").send_state == "unknown");
  auto g = report("SM1", "sent", std::string("m1"));
  sched.run();
  CHECK_NOTHROW(g.get());
  auto m = row("m1");
  CHECK(m.send_state == "accepted");
  CHECK(m.message_sid == std::optional<std::string>{"SM1"});
  CHECK(m.state.status == "sent");
}

TEST_CASE_METHOD(fixture, "a lost answer after Twilio's callback keeps the send accepted",
                 "[actors]") {
  REQUIRE_FALSE(db->insert_message(sending_row("m1")));
  auto g = report("SM1", "sent", std::string("m1"));
  sched.run();
  CHECK_NOTHROW(g.get());
  auto f = router->submit(send_report("m1", send_state::unknown, "", ""));
  sched.run();
  CHECK_NOTHROW(f.get());
  auto m = row("m1");
  CHECK(m.send_state == "accepted");
  CHECK(m.message_sid == std::optional<std::string>{"SM1"});
}

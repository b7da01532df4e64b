#include "scheduling/retention_job.hpp"

#include <catch2/catch.hpp>

#include "tests/unit/persistence/store_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

constexpr millis day = 24LL * 3600 * 1000;
constexpr millis now = 1'900'000'000'000; // 2030-03-17

/// Events e89, e90, e91 dated 89, exactly 90 and 91 days before `now`, each with one attendee
/// and `per_event` messages; each message has two status events linked to it and one kept
/// by SID only. Plus one status event of an unknown SID.
void seed(store& db, int per_event) {
  ok(db.migrate());
  for (int age : {89, 90, 91}) {
    auto e = "e" + std::to_string(age);
    auto ev = make_event(e);
    ev.date = now - age * day;
    ok(db.upsert_event(ev));
    ok(db.upsert_attendee(make_attendee(e, "a" + std::to_string(age))));
    std::vector<write_op> ops;
    for (int i = 0; i < per_event; ++i) {
      auto id = e + "-m" + std::to_string(i);
      auto sid = "SM" + id;
      ok(db.insert_message(make_message(id, sid, e, "a" + std::to_string(age))));
      auto op = status_op(id, sid, "sent", "sent", 3, 2'000);
      op.inserts.push_back(make_event_record(sid + ":x", id, sid, "queued", false, "superseded"));
      op.inserts.push_back(make_event_record(sid + ":early", std::nullopt, sid, "queued", false,
                                             "pending"));
      ops.push_back(std::move(op));
    }
    ok(db.commit(ops));
  }
  write_op stray;
  stray.inserts.push_back(make_event_record("stray", std::nullopt, "SMunknown", "sent", false,
                                            "pending"));
  ok(db.commit({stray}));
}

std::size_t messages_of(store& db, const std::string& event, const std::string& attendee) {
  return ok(db.attendee_messages(event, attendee)).size();
}

std::size_t events_of_sid(store& db, const std::string& sid) {
  auto t = ok(db.timeline(sid));
  return t ? t->events.size() : 0;
}

} // namespace

STORE_TEST("retention deletes only the messages of events strictly older than the period",
           "[scheduling]") {
  auto db = open_or_fail(url);
  seed(*db, 3);
  retention_job job{retention_settings{90, 1000, 0}};
  auto r = ok(job.run(*db, now));
  CHECK(r.outcome == "ok");
  CHECK(r.counts["deleted_messages"] == 3);
  CHECK(r.counts["deleted_events"] == 9);
  CHECK(r.counts["errors"] == 0);
  CHECK(r.deleted == 12);
  CHECK(messages_of(*db, "e91", "a91") == 0);
  CHECK(messages_of(*db, "e90", "a90") == 3);
  CHECK(messages_of(*db, "e89", "a89") == 3);
  CHECK(events_of_sid(*db, "SMe90-m0") == 3);
  // Status events kept by SID alone went with their message; an unknown SID's stay.
  auto stray = ok(db->pending_events("SMunknown"));
  CHECK(stray.size() == 1);
  CHECK(ok(db->pending_events("SMe91-m0")).empty());
  // Events and attendees stay.
  CHECK(ok(db->find_event("e91")));
  CHECK(ok(db->find_attendee("e91", "a91")));
  // Nothing more to do on the next run.
  auto again = ok(job.run(*db, now));
  CHECK(again.counts["deleted_messages"] == 0);
  CHECK(again.counts["batches"] == 0);
}

STORE_TEST("retention killed after one batch finishes on the next run and deletes nothing else",
           "[scheduling]") {
  auto db = open_or_fail(url);
  seed(*db, 5); // e91: 5 messages, 15 status events
  retention_job first{retention_settings{90, 4, 1}};
  auto r1 = ok(first.run(*db, now));
  CHECK(r1.counts["batches"] == 1);
  CHECK(r1.counts["deleted_events"] == 4);
  CHECK(r1.counts["capped"] == true);
  CHECK(messages_of(*db, "e91", "a91") == 5);

  retention_job rest{retention_settings{90, 4, 0}};
  auto r2 = ok(rest.run(*db, now));
  CHECK(r2.outcome == "ok");
  CHECK(r2.counts["deleted_events"] == 11);
  CHECK(r2.counts["deleted_messages"] == 5);
  CHECK(r2.counts["batches"] == 5); // 4+4+3 events, then 4+1 messages
  CHECK(messages_of(*db, "e91", "a91") == 0);
  CHECK(messages_of(*db, "e90", "a90") == 5);
  CHECK(messages_of(*db, "e89", "a89") == 5);
  for (int i = 0; i < 5; ++i)
    CHECK(events_of_sid(*db, "SMe90-m" + std::to_string(i)) == 3);
  CHECK(ok(db->pending_events("SMunknown")).size() == 1);
}

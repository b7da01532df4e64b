#include <algorithm>
#include <thread>

#include "tests/unit/persistence/store_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

std::vector<write_result> commit_ok(store& s, const std::vector<write_op>& ops) {
  auto r = s.commit(ops);
  if (!r)
    FAIL("commit failed: " << describe(r.error()));
  REQUIRE(r->size() == ops.size());
  return *r;
}

status_event_record only_event(store& s, const std::string& id, const std::string& dedup_key) {
  auto t = ok(s.timeline(id));
  REQUIRE(t.has_value());
  auto i = std::find_if(t->events.begin(), t->events.end(),
                        [&](const auto& e) { return e.dedup_key == dedup_key; });
  REQUIRE(i != t->events.end());
  return *i;
}

} // namespace

STORE_TEST("a guarded update never lowers a message's rank", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  auto r = commit_ok(*s, {status_op("m1", "SM1", "sent", "sent", 3, 2'000)});
  CHECK(r[0].updated);
  CHECK(r[0].message_exists);
  r = commit_ok(*s, {status_op("m1", "SM1", "queued", "queued", 1, 3'000)});
  CHECK_FALSE(r[0].updated);
  CHECK(r[0].message_exists);
  auto m = find_or_fail(*s, "m1");
  CHECK(m.state.status == "sent");
  CHECK(m.state.status_rank == 3);
  CHECK(m.state.status_updated_at == 2'000);
  // The same rank again is not applied either.
  r = commit_ok(*s, {status_op("m1", "SM1", "sent", "sent", 3, 4'000)});
  CHECK_FALSE(r[0].updated);
}

STORE_TEST("the first final status wins", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  commit_ok(*s, {status_op("m1", "SM1", "failed", "failed", 4, 2'000)});
  auto r = commit_ok(*s, {status_op("m1", "SM1", "delivered", "delivered", 4, 3'000)});
  CHECK_FALSE(r[0].updated);
  CHECK(find_or_fail(*s, "m1").state.status == "failed");
}

STORE_TEST("a read status applies only over delivered", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  ok(s->insert_message(make_message("m2", "SM2")));
  commit_ok(*s, {status_op("m1", "SM1", "undelivered", "undelivered", 4, 2'000),
                 status_op("m2", "SM2", "delivered", "delivered", 4, 2'000)});
  auto r = commit_ok(*s, {status_op("m1", "SM1", "delivered", "read", 5, 3'000),
                          status_op("m2", "SM2", "delivered", "read", 5, 3'000)});
  CHECK_FALSE(r[0].updated);
  CHECK(r[1].updated);
  CHECK(find_or_fail(*s, "m1").state.status == "undelivered");
  auto m2 = find_or_fail(*s, "m2");
  CHECK(m2.state.provider_status == "read");
  CHECK(m2.state.status_rank == 5);
}

STORE_TEST("an update keeps the stored sent and delivered times", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  auto sent = make_update("m1", "sent", "sent", 3, 2'000);
  sent.state.sent_at = 2'000;
  auto delivered = make_update("m1", "delivered", "delivered", 4, 3'000);
  delivered.state.sent_at = 3'000;
  delivered.state.delivered_at = 3'000;
  write_op a, b;
  a.update = sent;
  b.update = delivered;
  commit_ok(*s, {a});
  commit_ok(*s, {b});
  auto m = find_or_fail(*s, "m1");
  CHECK(m.state.sent_at == 2'000);
  CHECK(m.state.delivered_at == 3'000);
  CHECK(m.state.status == "delivered");
}

STORE_TEST("an update without an error keeps the stored error and a new error replaces it", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  ok(s->insert_message(make_message("m2", "SM2")));
  auto with_error = [](const std::string& id, const std::string& code, int rank) {
    auto u = make_update(id, "queued", "sending", rank, 2'000);
    u.state.error_code = code;
    u.state.error_message = "message for " + code;
    return u;
  };
  write_op a1, a2, b1, b2;
  a1.update = with_error("m1", "30001", 2);
  a2.update = make_update("m1", "undelivered", "undelivered", 4, 3'000);
  b1.update = with_error("m2", "30001", 2);
  b2.update = with_error("m2", "30003", 4);
  b2.update->state.status = "undelivered";
  commit_ok(*s, {a1, b1});
  commit_ok(*s, {a2, b2});
  auto m1 = find_or_fail(*s, "m1");
  CHECK(m1.state.error_code == "30001");
  CHECK(m1.state.error_message == "message for 30001");
  auto m2 = find_or_fail(*s, "m2");
  CHECK(m2.state.error_code == "30003");
  CHECK(m2.state.error_message == "message for 30003");
}

STORE_TEST("a raw payload is replaced by a new one and kept when an update has none", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  write_op a, b;
  a.update = make_update("m1", "queued", "queued", 1, 2'000);
  a.update->state.raw_payload = R"({"MessageStatus":"queued"})";
  b.update = make_update("m1", "sent", "sent", 3, 3'000);
  commit_ok(*s, {a});
  commit_ok(*s, {b});
  CHECK(find_or_fail(*s, "m1").state.raw_payload == R"({"MessageStatus":"queued"})");
}

STORE_TEST("a SID is attached only to a message that has none", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", std::nullopt)));
  ok(s->insert_message(make_message("m2", "SM2")));
  write_op a, b;
  a.update = make_update("m1", "queued", "queued", 1, 2'000);
  a.update->message_sid = "SM1";
  b.update = make_update("m2", "queued", "queued", 1, 2'000);
  b.update->message_sid = "SM-other";
  commit_ok(*s, {a, b});
  CHECK(find_or_fail(*s, "m1").message_sid == "SM1");
  CHECK(find_or_fail(*s, "m2").message_sid == "SM2");
  CHECK(ok(s->find_message_by_sid("SM1")).has_value());
}

STORE_TEST("a refused update stores its applied events as superseded", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  commit_ok(*s, {status_op("m1", "SM1", "delivered", "delivered", 4, 2'000)});
  auto late = status_op("m1", "SM1", "sent", "sent", 3, 3'000);
  late.inserts.push_back(
    make_event_record("dup-key", "m1", "SM1", "sent", false, disposition::duplicate, 3'000));
  auto r = commit_ok(*s, {late});
  CHECK_FALSE(r[0].updated);
  CHECK(r[0].message_exists);
  auto refused = only_event(*s, "m1", late.inserts[0].dedup_key);
  CHECK_FALSE(refused.applied);
  CHECK(refused.disposition == disposition::superseded);
  CHECK(refused.message_id == "m1");
  // Events that were not marked applied keep their own disposition.
  CHECK(only_event(*s, "m1", "dup-key").disposition == disposition::duplicate);
  auto first = only_event(*s, "m1", "SM1:delivered:2000");
  CHECK(first.applied);
  CHECK(first.disposition == disposition::applied);
}

STORE_TEST("an update identical to the stored state is refused, alone or beside applied ones",
           "") {
  // The same status at the same time again: the rows after it look the same either way (SQLite
  // then reads the stored state first and runs the batch again).
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  ok(s->insert_message(make_message("m2", "SM2")));
  commit_ok(*s, {status_op("m1", "SM1", "sent", "sent", 3, 2'000)});
  auto again = status_op("m1", "SM1", "sent", "sent", 3, 2'000);
  again.inserts[0].dedup_key = "again";
  auto r = commit_ok(*s, {again, status_op("m2", "SM2", "sent", "sent", 3, 2'500)});
  CHECK_FALSE(r[0].updated);
  CHECK(r[0].message_exists);
  CHECK(r[1].updated);
  CHECK(only_event(*s, "m1", "again").disposition == disposition::superseded);
  CHECK(only_event(*s, "m2", "SM2:sent:2500").disposition == disposition::applied);
  CHECK(find_or_fail(*s, "m2").state.status_rank == 3);
  // Alone, and with a missing message beside it.
  auto alone = status_op("m1", "SM1", "sent", "sent", 3, 2'000);
  alone.inserts[0].dedup_key = "alone";
  auto missing = status_op("m9", "SM9", "sent", "sent", 3, 2'000);
  r = commit_ok(*s, {alone, missing});
  CHECK_FALSE(r[0].updated);
  CHECK(r[0].message_exists);
  CHECK_FALSE(r[1].updated);
  CHECK_FALSE(r[1].message_exists);
}

STORE_TEST("a status event with a known dedup key is stored once", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  auto e = make_event_record("k1", "m1", "SM1", "sent", false, disposition::duplicate, 2'000);
  write_op a, b;
  a.inserts = {e, e}; // twice in one op
  e.provider_status = "delivered";
  b.inserts = {e};
  commit_ok(*s, {a, b}); // and again in a later op of the same batch
  commit_ok(*s, {b});    // and in a later batch
  auto t = ok(s->timeline("m1"));
  REQUIRE(t);
  REQUIRE(t->events.size() == 1);
  CHECK(t->events[0].provider_status == "sent");
  CHECK(ok(s->event_keys(std::string{"m1"}, "SM1")) == std::vector<std::string>{"k1"});
}

STORE_TEST("an update of a deleted message reports it missing and keeps its events unlinked", "") {
  auto s = seeded_store(url);
  ok(s->upsert_attendee(make_attendee("e1", "a2")));
  ok(s->insert_message(make_message("m1", "SM1")));
  ok(s->insert_message(make_message("m2", "SM2", "e1", "a2")));
  REQUIRE(ok(s->delete_attendee("e1", "a2")));
  auto gone = status_op("m2", "SM2", "delivered", "delivered", 4, 2'000);
  gone.inserts.push_back(
    make_event_record("late", "m2", "SM2", "delivered", false, disposition::pending, 2'000));
  gone.resolutions.push_back({999'999, "m2", true, disposition::applied});
  auto r = commit_ok(*s, {status_op("m1", "SM1", "sent", "sent", 3, 2'000), gone});
  CHECK(r[0].updated);
  CHECK(r[0].message_exists);
  CHECK_FALSE(r[1].updated);
  CHECK_FALSE(r[1].message_exists);
  auto pending = ok(s->pending_events("SM2"));
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].dedup_key == "late");
  CHECK_FALSE(pending[0].message_id.has_value());
  auto keys = ok(s->event_keys(std::nullopt, "SM2"));
  std::sort(keys.begin(), keys.end());
  CHECK(keys == std::vector<std::string>{"SM2:delivered:2000", "late"});
  CHECK(find_or_fail(*s, "m1").state.status == "sent");
}

STORE_TEST("a failing batch writes nothing", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  ok(s->insert_message(make_message("m2", "SM2")));
  ok(s->insert_message(make_message("m3", std::nullopt)));
  auto good = status_op("m1", "SM1", "sent", "sent", 3, 2'000);
  write_op bad;
  bad.update = make_update("m3", "queued", "queued", 1, 2'000);
  bad.update->message_sid = "SM2"; // already m2's: unique violation
  auto r = s->commit({good, bad});
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == errc::conflict);
  CHECK(find_or_fail(*s, "m1").state.status_rank == -1);
  CHECK(ok(s->event_keys(std::string{"m1"}, "SM1")).empty());
  // The store is usable afterwards.
  auto again = commit_ok(*s, {good});
  CHECK(again[0].updated);
}

STORE_TEST("ops on one message in one batch apply in order", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  auto r = commit_ok(*s, {status_op("m1", "SM1", "queued", "queued", 1, 2'000),
                          status_op("m1", "SM1", "sent", "sent", 3, 3'000),
                          status_op("m1", "SM1", "queued", "sending", 2, 4'000),
                          status_op("m1", "SM1", "delivered", "delivered", 4, 5'000)});
  CHECK(r[0].updated);
  CHECK(r[1].updated);
  CHECK_FALSE(r[2].updated);
  CHECK(r[3].updated);
  auto m = find_or_fail(*s, "m1");
  CHECK(m.state.status == "delivered");
  CHECK(m.state.status_updated_at == 5'000);
  CHECK(only_event(*s, "m1", "SM1:sending:4000").disposition == disposition::superseded);
}

STORE_TEST("an empty batch commits nothing and succeeds", "") {
  auto s = seeded_store(url);
  CHECK(commit_ok(*s, {}).empty());
}

STORE_TEST("a batch of many ops reports each op's own result", "") {
  auto s = seeded_store(url);
  std::vector<write_op> ops;
  for (int i = 0; i < 300; ++i) {
    auto id = "m" + std::to_string(i);
    ok(s->insert_message(make_message(id, "SM" + std::to_string(i))));
    // Odd messages get a rank lower than the stored one once the first batch ran.
    ops.push_back(status_op(id, "SM" + std::to_string(i), "sent", "sent", 3, 2'000));
  }
  auto r = commit_ok(*s, ops);
  CHECK(std::all_of(r.begin(), r.end(), [](auto& x) { return x.updated; }));
  std::vector<write_op> second;
  for (int i = 0; i < 300; ++i) {
    auto id = "m" + std::to_string(i);
    second.push_back(i % 2 ? status_op(id, "SM" + std::to_string(i), "queued", "queued", 1, 3'000)
                           : status_op(id, "SM" + std::to_string(i), "delivered", "delivered", 4,
                                       3'000));
  }
  r = commit_ok(*s, second);
  for (int i = 0; i < 300; ++i)
    CHECK(r[i].updated == (i % 2 == 0));
}

STORE_TEST("two connections committing at once never move a message backwards", "") {
  auto a = seeded_store(url);
  auto b = open_or_fail(url);
  for (int i = 0; i < 20; ++i)
    ok(a->insert_message(make_message("m" + std::to_string(i), "SM" + std::to_string(i))));
  // One writer walks every message up through the ranks, the other down: whatever the
  // interleaving, a message ends at rank 4 and no rank was applied twice (events are listed by
  // received_at, which is 1000 + rank here).
  auto writer = [](store& s, bool up, int& applied) -> caf::error {
    for (int step = 0; step < 5; ++step) {
      int rank = up ? step : 4 - step;
      std::vector<write_op> ops;
      for (int i = 0; i < 20; ++i)
        ops.push_back(status_op("m" + std::to_string(i), "SM" + std::to_string(i),
                                rank == 4 ? "delivered" : "queued",
                                (up ? "up" : "down") + std::to_string(rank), rank,
                                1'000 + rank));
      auto r = s.commit(ops);
      if (!r)
        return r.error();
      applied += static_cast<int>(std::count_if(r->begin(), r->end(),
                                                [](auto& x) { return x.updated; }));
    }
    return {};
  };
  int applied_a = 0;
  int applied_b = 0;
  caf::error err_a;
  caf::error err_b;
  std::thread ta{[&] { err_a = writer(*a, true, applied_a); }};
  std::thread tb{[&] { err_b = writer(*b, false, applied_b); }};
  ta.join();
  tb.join();
  ok(err_a);
  ok(err_b);
  int applied_events = 0;
  for (int i = 0; i < 20; ++i) {
    auto t = ok(a->timeline("m" + std::to_string(i)));
    REQUIRE(t);
    CHECK(t->message.state.status_rank == 4);
    CHECK(t->message.state.status == "delivered");
    int last_rank = -1;
    for (const auto& e : t->events)
      if (e.applied) {
        ++applied_events;
        int rank = e.provider_status.back() - '0';
        CHECK(rank > last_rank);
        last_rank = rank;
      }
  }
  CHECK(applied_events == applied_a + applied_b);
}

STORE_TEST("text with quotes, backslashes, control characters and UTF-8 is stored as it came", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  const std::string odd = "He said \"hi\" \\ back\\slash\nnew line\ttab \x01 caf\xc3\xa9 \xf0\x9f\x8e\x89";
  auto op = status_op("m1", "SM1", "failed", "failed", 4, 2'000);
  op.update->state.error_code = "30003";
  op.update->state.error_message = odd;
  op.update->state.raw_payload = R"({"Body":")" + odd + R"("})";
  op.inserts[0].payload = *op.update->state.raw_payload;
  op.inserts[0].dedup_key = "key with \"quotes\" and " + odd;
  auto r = commit_ok(*s, {op});
  CHECK(r[0].updated);
  auto m = find_or_fail(*s, "m1");
  CHECK(m.state.error_message == odd);
  CHECK(m.state.raw_payload == op.update->state.raw_payload);
  auto e = only_event(*s, "m1", op.inserts[0].dedup_key);
  CHECK(e.payload == op.inserts[0].payload);

  // A byte that is not UTF-8 does not fail the batch (PostgreSQL stores U+FFFD in its place).
  ok(s->insert_message(make_message("m2", "SM2")));
  auto bad = status_op("m2", "SM2", "sent", "sent", 3, 2'000);
  bad.update->state.raw_payload = "{\"Body\":\"\xff\"}";
  bad.inserts[0].payload = *bad.update->state.raw_payload;
  r = commit_ok(*s, {bad, status_op("m1", "SM1", "read", "read", 5, 3'000)});
  CHECK(r[0].updated);
  CHECK(find_or_fail(*s, "m2").state.status == "sent");
}

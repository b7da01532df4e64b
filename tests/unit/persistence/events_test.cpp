#include <algorithm>

#include "tests/unit/persistence/store_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

write_op pending_op(const std::string& key, const std::string& sid, const std::string& status,
                    millis at) {
  write_op op;
  op.inserts.push_back(
    make_event_record(key, std::nullopt, sid, status, false, disposition::pending, at));
  return op;
}

} // namespace

STORE_TEST("pending events are listed oldest first until they are resolved", "") {
  auto s = seeded_store(url);
  ok(s->commit({pending_op("k-sent", "SM1", "sent", 2'000),
                pending_op("k-delivered", "SM1", "delivered", 3'000),
                pending_op("k-other", "SM9", "sent", 2'500)}));
  auto pending = ok(s->pending_events("SM1"));
  REQUIRE(pending.size() == 2);
  CHECK(pending[0].dedup_key == "k-sent");
  CHECK(pending[1].dedup_key == "k-delivered");
  CHECK(pending[0].id < pending[1].id);
  CHECK(pending[0].disposition == disposition::pending);
  CHECK(pending[0].payload == R"({"MessageStatus":"sent"})");
  CHECK(pending[0].received_at == 2'000);
  CHECK(pending[0].source == "webhook");
  // No message has SID SM1 yet: nothing to match.
  CHECK(ok(s->matchable_pending_sids(10)).empty());

  ok(s->insert_message(make_message("m1", "SM1")));
  CHECK(ok(s->matchable_pending_sids(10)) == std::vector<std::string>{"SM1"});
  CHECK(ok(s->matchable_pending_sids(0)).empty());

  write_op resolve;
  resolve.update = make_update("m1", "delivered", "delivered", 4, 3'000);
  resolve.resolutions = {{pending[0].id, "m1", false, disposition::stale},
                         {pending[1].id, "m1", true, disposition::applied}};
  auto r = ok(s->commit({resolve}));
  CHECK(r[0].updated);
  CHECK(ok(s->pending_events("SM1")).empty());
  CHECK(ok(s->matchable_pending_sids(10)).empty());

  auto t = ok(s->timeline("m1"));
  REQUIRE(t);
  REQUIRE(t->events.size() == 2);
  CHECK(t->events[0].dedup_key == "k-sent");
  CHECK(t->events[0].message_id == "m1");
  CHECK(t->events[0].disposition == disposition::stale);
  CHECK_FALSE(t->events[0].applied);
  CHECK(t->events[1].applied);
  CHECK(t->events[1].disposition == disposition::applied);

  // A resolution of an event that is no longer pending changes nothing.
  write_op again;
  again.resolutions = {{pending[0].id, "m1", true, disposition::applied}};
  ok(s->commit({again}));
  t = ok(s->timeline("m1"));
  CHECK(t->events[0].disposition == disposition::stale);
}

STORE_TEST("two resolutions of one event in one batch resolve it once", "") {
  auto s = seeded_store(url);
  ok(s->commit({pending_op("k1", "SM1", "sent", 2'000)}));
  ok(s->insert_message(make_message("m1", "SM1")));
  auto id = ok(s->pending_events("SM1")).at(0).id;
  write_op a, b;
  a.resolutions = {{id, "m1", true, disposition::applied}};
  b.resolutions = {{id, "m1", false, disposition::duplicate}};
  ok(s->commit({a, b}));
  auto t = ok(s->timeline("SM1"));
  REQUIRE(t);
  REQUIRE(t->events.size() == 1);
  CHECK(t->events[0].disposition == disposition::applied);
}

STORE_TEST("event keys of a message include its events stored by SID", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  write_op op;
  op.inserts = {make_event_record("by-id", "m1", "SM1", "sent", false, disposition::duplicate),
                make_event_record("by-sid", std::nullopt, "SM1", "sent", false,
                                  disposition::pending),
                make_event_record("send", "m1", std::nullopt, "queued", false,
                                  disposition::duplicate)};
  ok(s->commit({op}));
  auto keys = ok(s->event_keys(std::string{"m1"}, "SM1"));
  std::sort(keys.begin(), keys.end());
  CHECK(keys == std::vector<std::string>{"by-id", "by-sid", "send"});
  keys = ok(s->event_keys(std::nullopt, "SM1"));
  std::sort(keys.begin(), keys.end());
  CHECK(keys == std::vector<std::string>{"by-id", "by-sid"});
  CHECK(ok(s->event_keys(std::string{"m1"}, "")) == std::vector<std::string>{"by-id", "send"});
  CHECK(ok(s->event_keys(std::nullopt, "SM-unknown")).empty());
}

STORE_TEST("the timeline finds a message by id or by SID with its events oldest first", "") {
  auto s = seeded_store(url);
  auto m = make_message("m1", "SM1");
  m.retry_of_id = "m0";
  m.body = std::nullopt;
  ok(s->insert_message(m));
  write_op op;
  op.inserts = {make_event_record("late", "m1", "SM1", "delivered", false, disposition::duplicate,
                                  5'000),
                make_event_record("early", "m1", "SM1", "sent", false, disposition::duplicate,
                                  3'000)};
  ok(s->commit({op}));
  for (const auto* key : {"m1", "SM1"}) {
    auto t = ok(s->timeline(key));
    REQUIRE(t);
    CHECK(t->message.id == "m1");
    CHECK(t->message.retry_of_id == "m0");
    CHECK_FALSE(t->message.body.has_value());
    REQUIRE(t->events.size() == 2);
    CHECK(t->events[0].dedup_key == "early");
    CHECK(t->events[1].dedup_key == "late");
  }
  CHECK_FALSE(ok(s->timeline("nothing")).has_value());
}

STORE_TEST("a message reads back as it was inserted", "") {
  auto s = seeded_store(url);
  auto m = make_message("m1", "SM1");
  m.num_segments = 3;
  m.body = "";
  m.state.status = "failed";
  m.state.provider_status = "failed";
  m.state.status_rank = 4;
  m.state.error_code = "21610";
  m.state.error_message = "unsubscribed";
  m.state.raw_payload = R"({"ErrorCode":"21610","Body":"l'été \"quoted\""})";
  m.state.sent_at = 1'700'000'000'123;
  m.state.delivered_at = std::nullopt;
  m.state.status_updated_at = 1'700'000'000'456;
  m.created_at = 1'700'000'000'000;
  ok(s->insert_message(m));
  auto got = find_or_fail(*s, "m1");
  CHECK(got.message_sid == m.message_sid);
  CHECK(got.account_sid == m.account_sid);
  CHECK(got.messaging_service_sid == m.messaging_service_sid);
  CHECK(got.to_phone == m.to_phone);
  CHECK(got.from_phone == m.from_phone);
  CHECK(got.body == m.body);
  CHECK(got.num_segments == 3);
  CHECK(got.state.status == "failed");
  CHECK(got.state.provider_status == "failed");
  CHECK(got.state.status_rank == 4);
  CHECK(got.state.error_code == "21610");
  CHECK(got.state.error_message == "unsubscribed");
  CHECK(got.state.raw_payload == m.state.raw_payload);
  CHECK(got.state.sent_at == m.state.sent_at);
  CHECK_FALSE(got.state.delivered_at.has_value());
  CHECK(got.state.status_updated_at == m.state.status_updated_at);
  CHECK(got.created_at == m.created_at);
  CHECK(got.event_id == "e1");
  CHECK(got.attendee_id == "a1");
  CHECK(got.notification_type == "event_reminder");
  CHECK_FALSE(got.retry_of_id.has_value());
  auto by_sid = ok(s->find_message_by_sid("SM1"));
  REQUIRE(by_sid);
  CHECK(by_sid->id == "m1");
  CHECK_FALSE(ok(s->find_message_by_id("m2")).has_value());
  CHECK_FALSE(ok(s->find_message_by_sid("SM2")).has_value());
}

STORE_TEST("inserting a message with a taken id or SID is a conflict", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  auto same_id = s->insert_message(make_message("m1", "SM2"));
  CHECK(code_of(same_id) == errc::conflict);
  auto same_sid = s->insert_message(make_message("m2", "SM1"));
  CHECK(code_of(same_sid) == errc::conflict);
  // Messages without a SID do not collide.
  ok(s->insert_message(make_message("m3", std::nullopt)));
  ok(s->insert_message(make_message("m4", std::nullopt)));
}

STORE_TEST("inserting a message for a missing event or attendee is not found", "") {
  auto s = seeded_store(url);
  ok(s->upsert_event(make_event("e2")));
  CHECK(code_of(s->insert_message(make_message("m1", "SM1", "e9", "a1"))) == errc::not_found);
  CHECK(code_of(s->insert_message(make_message("m1", "SM1", "e1", "a9"))) == errc::not_found);
  // a1 exists, but in e1, not e2.
  CHECK(code_of(s->insert_message(make_message("m1", "SM1", "e2", "a1"))) == errc::not_found);
  CHECK_FALSE(ok(s->find_message_by_id("m1")).has_value());
}

STORE_TEST("load_messages reads many keys in one round, as one key at a time would", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  ok(s->insert_message(make_message("m2", std::nullopt)));
  ok(s->insert_message(make_message("m3", "SM3")));
  ok(s->commit({pending_op("k1-sent", "SM1", "sent", 2'000),
                pending_op("k1-delivered", "SM1", "delivered", 3'000),
                pending_op("k9-sent", "SM9", "sent", 2'500),
                pending_op("k3-sent", "SM3", "sent", 2'600)}));

  const std::vector<message_key> keys = {
    {message_key::by_id, "m1"},   // a row with a SID: its pending events come along
    {message_key::by_sid, "SM1"}, // the same message by its SID
    {message_key::by_id, "m2"},   // a row without a SID: no pending events
    {message_key::by_sid, "SM9"}, // no row yet: the SID's own pending events
    {message_key::by_id, "nope"}, // nothing at all
    {message_key::by_sid, ""},    // an empty SID matches nothing
    {message_key::by_sid, "SM3"},
  };
  auto loaded = ok(s->load_messages(keys));
  REQUIRE(loaded.size() == keys.size());

  auto dedup_keys = [](const loaded_state& l) {
    std::vector<std::string> out;
    for (const auto& e : l.pending)
      out.push_back(e.dedup_key);
    return out;
  };
  using strings = std::vector<std::string>;
  REQUIRE(loaded[0].row);
  CHECK(loaded[0].row->id == "m1");
  CHECK(dedup_keys(loaded[0]) == strings{"k1-sent", "k1-delivered"});
  REQUIRE(loaded[1].row);
  CHECK(loaded[1].row->id == "m1");
  CHECK(dedup_keys(loaded[1]) == strings{"k1-sent", "k1-delivered"});
  REQUIRE(loaded[2].row);
  CHECK(loaded[2].row->id == "m2");
  CHECK(loaded[2].pending.empty());
  CHECK_FALSE(loaded[3].row);
  CHECK(dedup_keys(loaded[3]) == strings{"k9-sent"});
  CHECK_FALSE(loaded[4].row);
  CHECK(loaded[4].pending.empty());
  CHECK_FALSE(loaded[5].row);
  CHECK(loaded[5].pending.empty());
  REQUIRE(loaded[6].row);
  CHECK(loaded[6].row->message_sid == std::optional<std::string>{"SM3"});
  CHECK(dedup_keys(loaded[6]) == strings{"k3-sent"});

  // The same answers as the one-key reads, field for field.
  auto one = ok(s->find_message_by_id("m1"));
  REQUIRE(one);
  CHECK(one->state.status == loaded[0].row->state.status);
  CHECK(one->to_phone == loaded[0].row->to_phone);
  CHECK(one->created_at == loaded[0].row->created_at);
  CHECK(ok(s->pending_events("SM1")).size() == loaded[0].pending.size());

  CHECK(ok(s->load_messages({})).empty());
  // Keys that are not plain ASCII are only keys: nothing matches, nothing fails.
  auto odd = ok(s->load_messages({{message_key::by_sid, "SM\"],[\xff"}, {message_key::by_id, "'"}}));
  REQUIRE(odd.size() == 2);
  CHECK_FALSE(odd[0].row);
  CHECK_FALSE(odd[1].row);
}

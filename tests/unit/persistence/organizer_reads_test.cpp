#include <map>
#include <utility>
#include <vector>

#include "tests/unit/persistence/store_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

/// A message of attendee `attendee` in event e1, created at `at`, in `status` (rank to match).
message_record message_at(const std::string& id, const std::string& attendee, millis at,
                          const std::string& status, const std::string& type = "invitation",
                          std::optional<std::string> retry_of = std::nullopt) {
  auto m = make_message(id, "SM" + id, "e1", attendee);
  m.created_at = at;
  m.notification_type = type;
  m.state.status = status;
  m.state.status_rank = status == "queued" ? 1 : status == "sent" ? 3 : 4;
  if (status == "failed" || status == "undelivered")
    m.state.error_code = "30003";
  m.retry_of_id = std::move(retry_of);
  return m;
}

} // namespace

STORE_TEST("an attendee's messages come newest first with the retry made of each", "") {
  auto s = seeded_store(url);
  ok(s->upsert_attendee(make_attendee("e1", "a2")));
  ok(s->insert_message(message_at("m1", "a1", 1'000, "failed")));
  ok(s->insert_message(message_at("m2", "a1", 3'000, "delivered", "invitation", std::string("m1"))));
  ok(s->insert_message(message_at("m3", "a1", 2'000, "sent")));
  ok(s->insert_message(message_at("m4", "a2", 4'000, "sent")));
  auto all = ok(s->attendee_messages("e1", "a1"));
  REQUIRE(all.size() == 3);
  CHECK(all[0].message.id == "m2");
  CHECK(all[1].message.id == "m3");
  CHECK(all[2].message.id == "m1");
  CHECK(all[2].retried_by_id == std::optional<std::string>{"m2"});
  CHECK_FALSE(all[0].retried_by_id.has_value());
  CHECK(all[0].message.retry_of_id == std::optional<std::string>{"m1"});
  // Looked up within the event named: the same attendee id under another event finds nothing.
  CHECK(ok(s->attendee_messages("e2", "a1")).empty());
}

STORE_TEST("a message is retried at most once", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(message_at("m1", "a1", 1'000, "failed")));
  ok(s->insert_message(message_at("m2", "a1", 2'000, "queued", "invitation", std::string("m1"))));
  auto again = s->insert_message(message_at("m3", "a1", 3'000, "queued", "invitation", std::string("m1")));
  CHECK(code_of(again) == errc::conflict);
}

STORE_TEST("an event summary counts by status and type and lists failures newest first", "") {
  auto s = seeded_store(url);
  ok(s->upsert_attendee({"a2", "e1", "Jane", std::nullopt, std::nullopt, 0, 0}));
  ok(s->insert_message(message_at("m1", "a1", 1'000, "failed", "invitation")));
  ok(s->insert_message(message_at("m2", "a1", 2'000, "delivered", "invitation", std::string("m1"))));
  ok(s->insert_message(message_at("m3", "a2", 3'000, "undelivered", "new_rsvps")));
  ok(s->insert_message(message_at("m4", "a2", 4'000, "queued", "new_rsvps")));
  ok(s->insert_message(message_at("m5", "a2", 5'000, "failed", "question_set")));
  auto sum = ok(s->summarize_event("e1", 2));
  auto count = [](const auto& pairs, const std::string& key) {
    for (const auto& [k, n] : pairs)
      if (k == key)
        return n;
    return std::int64_t{0};
  };
  CHECK(count(sum.by_status, "failed") == 2);
  CHECK(count(sum.by_status, "undelivered") == 1);
  CHECK(count(sum.by_status, "delivered") == 1);
  CHECK(count(sum.by_status, "queued") == 1);
  CHECK(count(sum.by_status, "sent") == 0);
  CHECK(count(sum.by_type, "invitation") == 2);
  CHECK(count(sum.by_type, "new_rsvps") == 2);
  CHECK(count(sum.by_type, "question_set") == 1);
  REQUIRE(sum.failed.size() == 2); // the limit
  CHECK(sum.failed[0].id == "m5");
  CHECK(sum.failed[0].attendee_name == "Jane");
  CHECK(sum.failed[1].id == "m3");
  CHECK(sum.failed[1].error_code == std::optional<std::string>{"30003"});
  auto all = ok(s->summarize_event("e1", 10));
  REQUIRE(all.failed.size() == 3);
  CHECK(all.failed[2].id == "m1");
  CHECK(all.failed[2].attendee_name == "First a1 Last");
  CHECK(all.failed[2].retried_by_id == std::optional<std::string>{"m2"});
  auto none = ok(s->summarize_event("nope", 10));
  CHECK(none.by_status.empty());
  CHECK(none.by_type_and_status.empty());
  CHECK(none.failed.empty());
}

STORE_TEST("an event summary counts by notification type and status in one, and its sums agree",
           "") {
  auto s = seeded_store(url);
  ok(s->upsert_event(make_event("e2")));
  ok(s->upsert_attendee(make_attendee("e2", "b1")));
  ok(s->insert_message(message_at("m1", "a1", 1'000, "failed", "invitation")));
  ok(s->insert_message(message_at("m2", "a1", 2'000, "delivered", "invitation")));
  ok(s->insert_message(message_at("m3", "a1", 3'000, "delivered", "invitation")));
  ok(s->insert_message(message_at("m4", "a1", 4'000, "delivered", "new_rsvps")));
  ok(s->insert_message(message_at("m5", "a1", 5'000, "sent", "question_set")));
  auto other = message_at("m6", "b1", 6'000, "delivered", "invitation");
  other.event_id = "e2";
  ok(s->insert_message(other)); // another event's: not counted
  auto sum = ok(s->summarize_event("e1", 10));
  std::map<std::pair<std::string, std::string>, std::int64_t> pairs;
  for (const auto& c : sum.by_type_and_status) {
    CHECK(pairs.count({c.notification_type, c.status}) == 0); // each pair once
    pairs[{c.notification_type, c.status}] = c.n;
  }
  using key = std::pair<std::string, std::string>;
  CHECK(pairs == std::map<key, std::int64_t>{{{"invitation", "failed"}, 1},
                                             {{"invitation", "delivered"}, 2},
                                             {{"new_rsvps", "delivered"}, 1},
                                             {{"question_set", "sent"}, 1}});
  auto as_map = [](const auto& v) { return std::map<std::string, std::int64_t>(v.begin(), v.end()); };
  CHECK(as_map(sum.by_status)
        == std::map<std::string, std::int64_t>{{"delivered", 3}, {"failed", 1}, {"sent", 1}});
  CHECK(as_map(sum.by_type) == std::map<std::string, std::int64_t>{
                                 {"invitation", 3}, {"new_rsvps", 1}, {"question_set", 1}});
  CHECK(sum.by_status.size() == 3); // each status once
  CHECK(sum.by_type.size() == 3);
}

STORE_TEST("every attendee of an event gets its message counts", "") {
  auto s = seeded_store(url);
  ok(s->upsert_attendee({"a2", "e1", "Jane", std::nullopt, std::nullopt, 9'000, 9'000}));
  ok(s->upsert_attendee({"a3", "e1", "Ann", std::nullopt, std::nullopt, 8'000, 8'000}));
  ok(s->insert_message(message_at("m1", "a1", 1'000, "failed")));
  ok(s->insert_message(message_at("m2", "a1", 2'000, "delivered", "invitation", std::string("m1"))));
  ok(s->insert_message(message_at("m3", "a1", 3'000, "sent")));
  ok(s->insert_message(message_at("m4", "a3", 3'000, "undelivered")));
  auto all = ok(s->attendee_counts_of_event("e1"));
  REQUIRE(all.size() == 3);
  CHECK(all[0].attendee_id == "a3");
  CHECK(all[1].attendee_id == "a2");
  CHECK(all[2].attendee_id == "a1");
  CHECK(all[2].total == 3);
  CHECK(all[2].delivered == 1);
  CHECK(all[2].pending == 1);
  CHECK(all[2].failed == 1);
  CHECK(all[2].open_failed == 0); // m1 was retried
  CHECK(all[1].total == 0);
  CHECK(all[0].failed == 1);
  CHECK(all[0].open_failed == 1);
  // Each with its name and phone, as stored.
  CHECK(all[2].first_name == "First a1");
  CHECK(all[2].last_name == std::optional<std::string>{"Last"});
  CHECK(all[2].phone == std::optional<std::string>{"+15551230000"});
  CHECK(all[1].first_name == "Jane");
  CHECK_FALSE(all[1].last_name.has_value());
  CHECK_FALSE(all[1].phone.has_value());
}

STORE_TEST("the counts of listed attendees are those of the whole event's list, for them only",
           "") {
  auto s = seeded_store(url);
  ok(s->upsert_attendee({"a2", "e1", "Jane", std::string("Doe"), std::string("+15550000002"),
                         9'000, 9'000}));
  ok(s->upsert_attendee({"a3", "e1", "Ann", std::nullopt, std::nullopt, 8'000, 8'000}));
  ok(s->upsert_event(make_event("e2")));
  ok(s->upsert_attendee(make_attendee("e2", "b1")));
  ok(s->insert_message(message_at("m1", "a1", 1'000, "failed")));
  ok(s->insert_message(message_at("m2", "a1", 2'000, "delivered", "invitation", std::string("m1"))));
  ok(s->insert_message(message_at("m3", "a2", 3'000, "undelivered")));
  ok(s->insert_message(message_at("m4", "a2", 4'000, "queued")));
  auto of_b1 = message_at("m5", "b1", 5'000, "failed");
  of_b1.event_id = "e2";
  ok(s->insert_message(of_b1));

  const auto whole = ok(s->attendee_counts_of_event("e1"));
  auto in_whole = [&](const std::string& id) {
    for (const auto& c : whole)
      if (c.attendee_id == id)
        return c;
    FAIL("no attendee " << id);
    return attendee_counts{};
  };
  auto same = [](const attendee_counts& a, const attendee_counts& b) {
    return a.attendee_id == b.attendee_id && a.first_name == b.first_name
           && a.last_name == b.last_name && a.phone == b.phone && a.total == b.total
           && a.delivered == b.delivered && a.pending == b.pending && a.failed == b.failed
           && a.open_failed == b.open_failed;
  };
  // Twice a2, an attendee of another event, one that does not exist: a2 and a1, oldest first.
  auto some = ok(s->attendee_counts_for("e1", {"a2", "b1", "nobody", "a1", "a2"}));
  REQUIRE(some.size() == 2);
  CHECK(some[0].attendee_id == "a2");
  CHECK(some[1].attendee_id == "a1");
  CHECK(same(some[0], in_whole("a2")));
  CHECK(same(some[1], in_whole("a1")));
  CHECK(some[0].open_failed == 1);
  CHECK(some[0].pending == 1);
  CHECK(some[0].last_name == std::optional<std::string>{"Doe"});
  CHECK(some[1].open_failed == 0); // m1 was retried by m2
  // One without messages still gets its zeros.
  auto quiet = ok(s->attendee_counts_for("e1", {"a3"}));
  REQUIRE(quiet.size() == 1);
  CHECK(same(quiet[0], in_whole("a3")));
  CHECK(quiet[0].total == 0);
  // Named under its own event, b1 is found.
  auto b1 = ok(s->attendee_counts_for("e2", {"b1"}));
  REQUIRE(b1.size() == 1);
  CHECK(b1[0].failed == 1);
  CHECK(ok(s->attendee_counts_for("e1", {})).empty());
  CHECK(ok(s->attendee_counts_for("nope", {"a1"})).empty());
}

STORE_TEST("the events a user may view come newest first with the user's role", "") {
  auto s = open_or_fail(url);
  ok(s->migrate());
  auto event = [&](const std::string& id, millis date, const std::string& owner) {
    ok(s->upsert_event({id, "Event " + id, date, owner, 0, 0}));
  };
  event("old", 1'000, "u1");
  event("mid-b", 2'000, "u2");
  event("mid-a", 2'000, "u2");
  event("new", 3'000, "u3");
  event("hidden", 4'000, "u2");
  ok(s->upsert_organizer({"mid-a", "u1", true, false}));
  ok(s->upsert_organizer({"mid-b", "u1", false, true}));
  ok(s->upsert_organizer({"hidden", "u1", false, false})); // a grant of nothing shows nothing
  ok(s->upsert_organizer({"old", "u1", true, true}));      // its owner too: still once, as owner

  auto mine = ok(s->viewable_events("u1"));
  REQUIRE(mine.size() == 3);
  CHECK(mine[0].event.id == "mid-a"); // same date: by id
  CHECK(mine[1].event.id == "mid-b");
  CHECK(mine[2].event.id == "old");
  CHECK_FALSE(mine[0].role.owner);
  CHECK(mine[0].role.can_view);
  CHECK_FALSE(mine[0].role.can_curate);
  CHECK_FALSE(mine[1].role.can_view);
  CHECK(mine[1].role.can_curate);
  CHECK(mine[2].role.owner);
  CHECK(mine[2].event.name == "Event old");
  CHECK(mine[2].event.date == 1'000);
  CHECK(mine[2].event.owner_id == "u1");

  auto u2 = ok(s->viewable_events("u2"));
  REQUIRE(u2.size() == 3);
  CHECK(u2[0].event.id == "hidden");
  CHECK(u2[0].role.owner);
  CHECK(ok(s->viewable_events("stranger")).empty());

  auto all = ok(s->all_events());
  REQUIRE(all.size() == 5);
  std::vector<std::string> ids;
  for (const auto& e : all)
    ids.push_back(e.id);
  CHECK(ids == std::vector<std::string>{"hidden", "new", "mid-a", "mid-b", "old"});
}

STORE_TEST("an idempotency key is claimed once and then answers with what it stored", "") {
  auto s = seeded_store(url);
  auto first = ok(s->claim_idempotency_key("retry:e1:a1", "k1", "hash-a", 1'000));
  CHECK_FALSE(first.has_value());
  auto second = ok(s->claim_idempotency_key("retry:e1:a1", "k1", "hash-a", 1'001));
  REQUIRE(second);
  CHECK(second->request_hash == "hash-a");
  CHECK_FALSE(second->status.has_value()); // still being answered
  ok(s->finish_idempotency_key("retry:e1:a1", "k1", 200, R"({"success":true})"));
  auto third = ok(s->claim_idempotency_key("retry:e1:a1", "k1", "hash-b", 1'002));
  REQUIRE(third);
  CHECK(third->status == std::optional<int>{200});
  CHECK(third->response == std::optional<std::string>{R"({"success":true})"});
  CHECK(third->request_hash == "hash-a");
  // Another scope is another key.
  CHECK_FALSE(ok(s->claim_idempotency_key("retry:e1:a2", "k1", "hash-a", 1'003)).has_value());
  // A released key can be claimed again; an answered one cannot be released.
  ok(s->release_idempotency_key("retry:e1:a2", "k1"));
  CHECK_FALSE(ok(s->claim_idempotency_key("retry:e1:a2", "k1", "hash-c", 1'004)).has_value());
  ok(s->release_idempotency_key("retry:e1:a1", "k1"));
  CHECK(ok(s->claim_idempotency_key("retry:e1:a1", "k1", "hash-a", 1'005)).has_value());
  // A day later, the old key is gone.
  CHECK_FALSE(ok(s->claim_idempotency_key("retry:e1:a1", "k1", "hash-z", 1'005 + 86'400'001))
                .has_value());
}

STORE_TEST("reconciliation finds stale unfinished messages and unknown sends, nothing else", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(message_at("stale", "a1", 10'000, "sent")));
  ok(s->insert_message(message_at("fresh", "a1", 90'000, "sent")));
  ok(s->insert_message(message_at("done", "a1", 10'000, "delivered")));
  ok(s->insert_message(message_at("ancient", "a1", 1'000, "queued")));
  auto unknown = message_at("unknown", "a1", 20'000, "queued");
  unknown.message_sid.reset();
  unknown.send_state = send_state::unknown;
  ok(s->insert_message(unknown));
  auto refused = message_at("refused", "a1", 20'000, "failed");
  refused.message_sid.reset();
  refused.send_state = send_state::rejected;
  ok(s->insert_message(refused));
  auto young = message_at("young-unknown", "a1", 70'000, "queued");
  young.message_sid.reset();
  young.send_state = send_state::sending;
  ok(s->insert_message(young));
  // Window from 5'000; stale before 50'000; unknown sends before 60'000.
  auto found = ok(s->reconcile_candidates(5'000, 50'000, 60'000, 10));
  REQUIRE(found.size() == 2);
  CHECK(found[0].id == "stale");
  CHECK(found[1].id == "unknown");
  CHECK(ok(s->reconcile_candidates(5'000, 50'000, 60'000, 1)).size() == 1);
  CHECK(ok(s->reconcile_candidates(5'000, 50'000, 80'000, 10)).size() == 3);
}

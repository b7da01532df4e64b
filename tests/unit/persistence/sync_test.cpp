#include "tests/unit/persistence/store_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

STORE_TEST("upserting an event creates it and then updates it", "") {
  auto s = open_or_fail(url);
  ok(s->migrate());
  auto e = make_event("e1");
  e.created_at = 1'000;
  e.updated_at = 1'000;
  CHECK(ok(s->upsert_event(e)) == upsert_outcome::created);
  e.name = "Renamed";
  e.date = 1'790'000'000'000;
  e.owner_id = "u2";
  e.created_at = 5'000;
  e.updated_at = 5'000;
  CHECK(ok(s->upsert_event(e)) == upsert_outcome::updated);
  auto got = ok(s->find_event("e1"));
  REQUIRE(got);
  CHECK(got->name == "Renamed");
  CHECK(got->date == 1'790'000'000'000);
  CHECK(got->owner_id == "u2");
  CHECK(got->created_at == 1'000); // the creation time stays
  CHECK(got->updated_at == 5'000);
  CHECK_FALSE(ok(s->find_event("e2")).has_value());
}

STORE_TEST("upserting an attendee creates it and then updates it", "") {
  auto s = seeded_store(url);
  auto a = make_attendee("e1", "a2");
  CHECK(ok(s->upsert_attendee(a)) == upsert_outcome::created);
  a.first_name = "Jane";
  a.last_name = std::nullopt;
  a.phone = std::nullopt;
  CHECK(ok(s->upsert_attendee(a)) == upsert_outcome::updated);
  auto got = ok(s->find_attendee("e1", "a2"));
  REQUIRE(got);
  CHECK(got->first_name == "Jane");
  CHECK_FALSE(got->last_name.has_value());
  CHECK_FALSE(got->phone.has_value());
  CHECK(got->created_at > 0);
  CHECK_FALSE(ok(s->find_attendee("e2", "a2")).has_value());
}

STORE_TEST("an attendee id of another event is a conflict", "") {
  auto s = seeded_store(url);
  ok(s->upsert_event(make_event("e2")));
  auto moved = make_attendee("e2", "a1");
  auto r = s->upsert_attendee(moved);
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == errc::conflict);
  CHECK(ok(s->find_attendee("e1", "a1"))->first_name == "First a1");
}

STORE_TEST("an attendee or organizer of a missing event is not found", "") {
  auto s = seeded_store(url);
  auto a = s->upsert_attendee(make_attendee("e9", "a9"));
  REQUIRE_FALSE(a);
  CHECK(code_of(a.error()) == errc::not_found);
  auto o = s->upsert_organizer({"e9", "u1", true, false});
  REQUIRE_FALSE(o);
  CHECK(code_of(o.error()) == errc::not_found);
}

STORE_TEST("upserting an organizer creates it and then updates it", "") {
  auto s = seeded_store(url);
  CHECK(ok(s->upsert_organizer({"e1", "u1", true, false})) == upsert_outcome::created);
  CHECK(ok(s->upsert_organizer({"e1", "u1", true, true})) == upsert_outcome::updated);
  CHECK(ok(s->delete_organizer("e1", "u1")));
  CHECK_FALSE(ok(s->delete_organizer("e1", "u1")));
}

STORE_TEST("deleting an attendee removes its messages and their status events", "") {
  auto s = seeded_store(url);
  ok(s->upsert_attendee(make_attendee("e1", "a2")));
  ok(s->insert_message(make_message("m1", "SM1")));
  ok(s->insert_message(make_message("m2", "SM2", "e1", "a2")));
  write_op op = status_op("m2", "SM2", "sent", "sent", 3, 2'000);
  op.inserts.push_back(make_event_record("unlinked", std::nullopt, "SM2", "delivered", false,
                                         disposition::pending));
  ok(s->commit({op, status_op("m1", "SM1", "sent", "sent", 3, 2'000)}));
  CHECK_FALSE(ok(s->delete_attendee("e2", "a2"))); // wrong event: nothing happens
  CHECK(ok(s->delete_attendee("e1", "a2")));
  CHECK_FALSE(ok(s->delete_attendee("e1", "a2")));
  CHECK_FALSE(ok(s->find_attendee("e1", "a2")).has_value());
  CHECK_FALSE(ok(s->find_message_by_id("m2")).has_value());
  CHECK(ok(s->event_keys(std::nullopt, "SM2")).empty());
  // The other attendee keeps everything.
  CHECK(ok(s->find_message_by_id("m1")).has_value());
  CHECK(ok(s->event_keys(std::nullopt, "SM1")).size() == 1);
}

STORE_TEST("deleting an event removes its attendees, organizers, messages and status events", "") {
  auto s = seeded_store(url);
  ok(s->upsert_event(make_event("e2")));
  ok(s->upsert_attendee(make_attendee("e2", "b1")));
  ok(s->upsert_organizer({"e1", "u1", true, true}));
  ok(s->insert_message(make_message("m1", "SM1")));
  ok(s->insert_message(make_message("m2", "SM2", "e2", "b1")));
  write_op op = status_op("m1", "SM1", "sent", "sent", 3, 2'000);
  op.inserts.push_back(make_event_record("unlinked", std::nullopt, "SM1", "delivered", false,
                                         disposition::pending));
  ok(s->commit({op, status_op("m2", "SM2", "sent", "sent", 3, 2'000)}));

  CHECK(ok(s->delete_event("e1")));
  CHECK_FALSE(ok(s->delete_event("e1")));
  CHECK_FALSE(ok(s->find_event("e1")).has_value());
  CHECK_FALSE(ok(s->find_attendee("e1", "a1")).has_value());
  CHECK_FALSE(ok(s->delete_organizer("e1", "u1")));
  CHECK_FALSE(ok(s->find_message_by_id("m1")).has_value());
  CHECK_FALSE(ok(s->timeline("SM1")).has_value());
  CHECK(ok(s->event_keys(std::nullopt, "SM1")).empty());
  CHECK(ok(s->pending_events("SM1")).empty());
  // The other event is untouched.
  CHECK(ok(s->find_attendee("e2", "b1")).has_value());
  auto t = ok(s->timeline("m2"));
  REQUIRE(t);
  CHECK(t->events.size() == 1);
}

#include "tests/unit/persistence/store_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

message_record sending_message(const std::string& id) {
  auto m = make_message(id, std::nullopt);
  m.account_sid.reset();
  m.from_phone = "";
  m.send_state = send_state::sending;
  return m;
}

send_update accepted(const std::string& id, const std::string& sid) {
  send_update u;
  u.message_id = id;
  u.send_state = send_state::accepted;
  u.message_sid = sid;
  u.account_sid = "AC9";
  u.from_phone = "+15005550006";
  u.num_segments = 2;
  return u;
}

} // namespace

STORE_TEST("a new row keeps its send state", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(sending_message("m1")));
  auto m = find_or_fail(*s, "m1");
  CHECK(m.send_state == "sending");
  CHECK_FALSE(m.message_sid.has_value());
}

STORE_TEST("a send update stores what Twilio answered whatever the status rank", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(sending_message("m1")));
  // An early callback already moved the message to sent (rank 3).
  REQUIRE(s->commit({status_op("m1", "SM1", "sent", "sent", 3, 2'000)}));
  write_op op;
  op.send = accepted("m1", "SM1");
  auto r = s->commit({op});
  REQUIRE(r);
  CHECK((*r)[0].message_exists);
  auto m = find_or_fail(*s, "m1");
  CHECK(m.send_state == "accepted");
  CHECK(m.message_sid == std::optional<std::string>{"SM1"});
  CHECK(m.account_sid == std::optional<std::string>{"AC9"});
  CHECK(m.from_phone == "+15005550006");
  CHECK(m.num_segments == 2);
  CHECK(m.state.status == "sent");
  CHECK(m.state.status_rank == 3);
}

STORE_TEST("a send update never replaces a stored SID and nulls keep what is stored", "") {
  auto s = seeded_store(url);
  auto row = make_message("m1", "SM1");
  row.send_state = send_state::sending;
  ok(s->insert_message(row));
  write_op op;
  op.send = send_update{"m1", send_state::unknown, std::string{"SM-other"}, std::nullopt,
                        std::nullopt, std::nullopt, std::nullopt};
  REQUIRE(s->commit({op}));
  auto m = find_or_fail(*s, "m1");
  CHECK(m.send_state == "unknown");
  CHECK(m.message_sid == std::optional<std::string>{"SM1"});
  CHECK(m.account_sid == row.account_sid);
  CHECK(m.from_phone == row.from_phone);
  CHECK(m.num_segments == row.num_segments);
}

STORE_TEST("a send update and a status update of one op commit together", "") {
  auto s = seeded_store(url);
  ok(s->insert_message(sending_message("m1")));
  ok(s->insert_message(sending_message("m2")));
  write_op a = status_op("m1", "SM1", "queued", "accepted", 0, 2'000);
  a.send = accepted("m1", "SM1");
  write_op b;
  b.send = send_update{"m2", send_state::rejected, std::nullopt, std::nullopt, std::nullopt,
                       std::nullopt, std::nullopt};
  b.update = message_update{"m2", std::nullopt, {}};
  b.update->state.status = "failed";
  b.update->state.status_rank = 4;
  b.update->state.error_code = "21211";
  b.update->state.error_message = "invalid number";
  b.update->state.status_updated_at = 2'000;
  auto r = s->commit({a, b});
  REQUIRE(r);
  CHECK((*r)[0].updated);
  CHECK((*r)[1].updated);
  auto m1 = find_or_fail(*s, "m1");
  CHECK(m1.message_sid == std::optional<std::string>{"SM1"});
  CHECK(m1.send_state == "accepted");
  CHECK(m1.state.provider_status == std::optional<std::string>{"accepted"});
  auto m2 = find_or_fail(*s, "m2");
  CHECK(m2.send_state == "rejected");
  CHECK_FALSE(m2.message_sid.has_value());
  CHECK(m2.state.status == "failed");
  CHECK(m2.state.error_code == std::optional<std::string>{"21211"});
}

STORE_TEST("a send update of a deleted message says it no longer exists", "") {
  auto s = seeded_store(url);
  write_op op;
  op.send = accepted("gone", "SM1");
  auto r = s->commit({op});
  REQUIRE(r);
  CHECK_FALSE((*r)[0].message_exists);
}

STORE_TEST("a user's role on an event: owner, co-organizer as granted, or none", "") {
  auto s = seeded_store(url); // event e1, owned by its make_event owner
  auto owner = ok(s->find_event("e1"))->owner_id;
  ok(s->upsert_organizer({"e1", "viewer", true, false}));
  ok(s->upsert_organizer({"e1", "curator", false, true}));
  auto role = ok(s->role_on_event("e1", owner));
  REQUIRE(role);
  CHECK(role->owner);
  role = ok(s->role_on_event("e1", "viewer"));
  REQUIRE(role);
  CHECK_FALSE(role->owner);
  CHECK(role->can_view);
  CHECK_FALSE(role->can_curate);
  role = ok(s->role_on_event("e1", "curator"));
  REQUIRE(role);
  CHECK(role->can_curate);
  CHECK_FALSE(role->can_view);
  role = ok(s->role_on_event("e1", "stranger"));
  REQUIRE(role);
  CHECK_FALSE(role->owner);
  CHECK_FALSE(role->can_view);
  CHECK_FALSE(role->can_curate);
  CHECK_FALSE(ok(s->role_on_event("nope", owner)).has_value());
}

STORE_TEST("an event's attendees, oldest first", "") {
  auto s = seeded_store(url);
  ok(s->upsert_attendee({"a2", "e1", "Second", std::nullopt, std::nullopt, 5'000, 5'000}));
  ok(s->upsert_event(make_event("e2")));
  ok(s->upsert_attendee({"b1", "e2", "Other", std::nullopt, std::nullopt, 0, 0}));
  auto all = ok(s->attendees_of_event("e1"));
  REQUIRE(all.size() == 2);
  CHECK(all[0].id == "a2"); // created at 5'000; a1 was created "now"
  CHECK(all[1].id == "a1");
  CHECK(ok(s->attendees_of_event("none")).empty());
}

// What the organizer page reads and does through the API (issue 13): the caller's events, one
// event with the caller's permissions, the attendee list's names and phones, the summary by type
// and status, a message's timeline, and the retryAll dry run. Real HTTP, the real sender on a
// real SQLite file, a fake Twilio that counts creates (the authorization matrix of these
// endpoints is in event_access_test.cpp).
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "auth_matrix.hpp"
#include "sending_server.hpp"

using namespace smsd;
using namespace smsd::test;
using nlohmann::json;

namespace {

const std::string jwt_secret = "organizer-api-test-secret-0123456789";

/// auth_world (events A and B, their owners and co-organizers, atA1 and atB1), plus:
/// event C (owner_a owns it too, dated later), event D where viewer_a's grant is empty.
struct api_fixture : sending_server {
  api_fixture()
    : sending_server(
        [](store& db) {
          using namespace auth_world;
          auth_world::seed(db);
          REQUIRE(db.upsert_event({"evC", "Event C", 1'900'000'000'000, owner_a, 0, 0}));
          REQUIRE(db.upsert_event({"evD", "Event D", 1'950'000'000'000, owner_b, 0, 0}));
          REQUIRE(db.upsert_organizer({"evD", viewer_a, false, false}));
        },
        jwt_secret) {}

  header_list as(const std::string& user) const {
    return {bearer(poco_token(cfg.jwt_secret, user, unix_now() + 3600))};
  }
  header_list admin() const { return {bearer(test_admin_token)}; }

  json get_json(const std::string& target, const header_list& who, int expected = 200) {
    auto r = client().get(target, who);
    INFO("GET " << target << " -> " << r.status << " " << r.body);
    REQUIRE(r.status == expected);
    return r.json();
  }

  http_reply retry(const std::string& attendee, const json& body, header_list who) {
    return client().post_json("/api/events/evA/attendees/" + attendee + "/sms-retry", body.dump(),
                              who);
  }

  /// A message of atA1 in event A.
  void message(const std::string& id, const std::string& status, millis at,
               std::optional<std::string> error_code = std::nullopt,
               std::optional<std::string> retry_of = std::nullopt,
               const std::string& type = "invitation") {
    message_record m;
    m.id = id;
    m.message_sid = "SM" + id;
    m.to_phone = "+14158675309";
    m.body = "Hello " + id;
    m.created_at = at;
    m.event_id = auth_world::event_a;
    m.attendee_id = auth_world::attendee_a;
    m.notification_type = type;
    m.state.status = status;
    m.state.status_rank = status == "queued" ? 1 : status == "sent" ? 3 : 4;
    m.state.error_code = std::move(error_code);
    m.state.status_updated_at = at;
    m.retry_of_id = std::move(retry_of);
    REQUIRE_FALSE(direct->insert_message(m));
  }
};

std::vector<std::string> ids_of(const json& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    out.push_back(e.at("id").get<std::string>());
  return out;
}

} // namespace

// -- GET /api/events ---------------------------------------------------------------------------------

TEST_CASE("an organizer lists the events it may view, newest first, with its role",
          "[organizer_api]") {
  api_fixture f;
  auto mine = f.get_json("/api/events", f.as(auth_world::owner_a)).at("events");
  REQUIRE(ids_of(mine) == std::vector<std::string>{"evC", "evA"});
  CHECK(mine[0] == json{{"id", "evC"},
                        {"name", "Event C"},
                        {"date", "2030-03-17T17:46:40.000Z"},
                        {"role", "owner"},
                        {"permissions", {"view", "curate"}}});
  CHECK(mine[1].at("role") == "owner");

  auto viewer = f.get_json("/api/events", f.as(auth_world::viewer_a)).at("events");
  // evD granted nothing: not listed.
  REQUIRE(ids_of(viewer) == std::vector<std::string>{"evA"});
  CHECK(viewer[0].at("role") == "organizer");
  CHECK(viewer[0].at("permissions") == json{"view"});

  auto curator = f.get_json("/api/events", f.as(auth_world::curator_a)).at("events");
  REQUIRE(ids_of(curator) == std::vector<std::string>{"evA"});
  CHECK(curator[0].at("role") == "organizer");
  CHECK(curator[0].at("permissions") == json{"view", "curate"}); // curate implies view

  CHECK(f.get_json("/api/events", f.as("u-stranger")).at("events").empty());

  auto all = f.get_json("/api/events", f.admin()).at("events");
  REQUIRE(ids_of(all) == std::vector<std::string>{"evD", "evC", "evA", "evB"}); // A, B: same date
  for (const auto& e : all) {
    CHECK(e.at("role") == "admin");
    CHECK(e.at("permissions") == json{"view", "curate"});
  }
}

TEST_CASE("the event list follows grants as they change", "[organizer_api]") {
  api_fixture f;
  const auto viewer = f.as(auth_world::viewer_a);
  REQUIRE(f.direct->upsert_organizer({"evD", auth_world::viewer_a, false, true}));
  auto list = f.get_json("/api/events", viewer).at("events");
  REQUIRE(ids_of(list) == std::vector<std::string>{"evD", "evA"});
  CHECK(list[0].at("permissions") == json{"view", "curate"});
  REQUIRE(f.direct->delete_organizer(auth_world::event_a, auth_world::viewer_a));
  CHECK(ids_of(f.get_json("/api/events", viewer).at("events")) == std::vector<std::string>{"evD"});
}

TEST_CASE("the event list needs a valid token", "[organizer_api]") {
  api_fixture f;
  auto c = f.client();
  const auto now = unix_now();
  for (const header_list& who :
       {header_list{}, header_list{{"Authorization", "Basic dTpw"}},
        header_list{bearer(poco_token(jwt_secret, auth_world::owner_a, now - 3600))},
        header_list{bearer(poco_token(jwt_secret + "-other", auth_world::owner_a, now + 3600))},
        header_list{bearer("not-the-admin-token")}}) {
    auto r = c.get("/api/events", who);
    CHECK(r.status == 401);
    CHECK(r.header("WWW-Authenticate") == "Bearer");
    CHECK(r.json().at("error").is_string());
  }
}

// -- GET /api/events/{eventId} ---------------------------------------------------------------------

TEST_CASE("one event answers with the caller's role and permissions", "[organizer_api]") {
  api_fixture f;
  const std::string target = "/api/events/" + auth_world::event_a;
  auto owner = f.get_json(target, f.as(auth_world::owner_a));
  CHECK(owner == json{{"id", "evA"},
                      {"name", "Event A"},
                      {"date", "2027-01-15T08:00:00.000Z"},
                      {"role", "owner"},
                      {"permissions", {"view", "curate"}}});
  auto viewer = f.get_json(target, f.as(auth_world::viewer_a));
  CHECK(viewer.at("role") == "organizer");
  CHECK(viewer.at("permissions") == json{"view"});
  CHECK(f.get_json(target, f.as(auth_world::curator_a)).at("permissions")
        == json{"view", "curate"});
  auto admin = f.get_json(target, f.admin());
  CHECK(admin.at("role") == "admin");
  CHECK(admin.at("permissions") == json{"view", "curate"});
  // Every entry of the list is what the event answers alone.
  auto list = f.get_json("/api/events", f.as(auth_world::owner_a)).at("events");
  for (const auto& e : list)
    CHECK(f.get_json("/api/events/" + e.at("id").get<std::string>(), f.as(auth_world::owner_a))
          == e);
}

TEST_CASE("one event: no role, an empty grant and a missing event all look the same",
          "[organizer_api]") {
  api_fixture f;
  auto c = f.client();
  auto stranger = c.get("/api/events/evA", f.as("u-stranger"));
  auto empty_grant = c.get("/api/events/evD", f.as(auth_world::viewer_a));
  auto missing = c.get("/api/events/no-such-event", f.as(auth_world::owner_a));
  for (const auto* r : {&stranger, &empty_grant, &missing}) {
    CHECK(r->status == 404);
    CHECK(r->json() == json{{"error", "Event not found"}});
  }
  // The admin token sees any event, and a missing one is missing.
  auto admin_missing = c.get("/api/events/no-such-event", f.admin());
  CHECK(admin_missing.status == 404);
  CHECK(admin_missing.json().at("error") == "Event not found");
  // A bad id is a 400; no token a 401.
  CHECK(c.get("/api/events/" + std::string(129, 'e'), f.admin()).status == 400);
  CHECK(c.get("/api/events/ev%01A", f.admin()).status == 400);
  CHECK(c.get("/api/events/evA").status == 401);
}

// -- sms-status and sms-summary ------------------------------------------------------------------------

TEST_CASE("the attendee list carries names, phones and open failures", "[organizer_api]") {
  api_fixture f;
  REQUIRE(f.direct->upsert_attendee({"atA2", auth_world::event_a, "Zoë", std::string("Smith"),
                                     std::string("+1 (415) 555-0100"), 0, 0}));
  f.message("m1", "undelivered", 1'000, std::string("30003"));
  f.message("m2", "failed", 2'000, std::string("30005"));
  f.message("m3", "delivered", 3'000, std::nullopt, std::string("m1"));
  auto list = f.get_json("/api/events/evA/attendees/sms-status", f.as(auth_world::viewer_a))
                .at("attendees");
  REQUIRE(list.size() == 2);
  std::map<std::string, json> by_id;
  for (const auto& a : list)
    by_id[a.at("attendeeId").get<std::string>()] = a;
  CHECK(by_id.at("atA1") == json{{"attendeeId", "atA1"},
                                 {"firstName", "Ann"},
                                 {"lastName", nullptr},
                                 {"phone", "+14158675309"},
                                 {"total", 3},
                                 {"delivered", 1},
                                 {"pending", 0},
                                 {"failed", 2},
                                 {"openFailed", 1}, // m1 was retried, m2 not
                                 {"dot", "red"}});
  CHECK(by_id.at("atA2") == json{{"attendeeId", "atA2"},
                                 {"firstName", "Zoë"},
                                 {"lastName", "Smith"},
                                 {"phone", "+1 (415) 555-0100"}, // as stored
                                 {"total", 0},
                                 {"delivered", 0},
                                 {"pending", 0},
                                 {"failed", 0},
                                 {"openFailed", 0},
                                 {"dot", "gray"}});
}

TEST_CASE("the summary counts by type and status, every key present, and agrees with its sums",
          "[organizer_api]") {
  api_fixture f;
  f.message("m1", "undelivered", 1'000, std::string("30003"), std::nullopt, "invitation");
  f.message("m2", "delivered", 2'000, std::nullopt, std::nullopt, "invitation");
  f.message("m3", "delivered", 3'000, std::nullopt, std::nullopt, "match_reveal");
  f.message("m4", "sent", 4'000, std::nullopt, std::nullopt, "question_set");
  f.message("m5", "queued", 5'000, std::nullopt, std::nullopt, "question_set");
  auto s = f.get_json("/api/events/evA/sms-summary", f.as(auth_world::viewer_a));
  const auto& grid = s.at("byTypeAndStatus");
  const std::vector<std::string> types = {"invitation",     "rsvp_reminder", "match_reveal",
                                          "event_reminder", "new_rsvps",     "question_set"};
  const std::vector<std::string> statuses = {"queued", "sent", "delivered", "failed",
                                             "undelivered"};
  REQUIRE(grid.size() == types.size());
  std::map<std::string, std::int64_t> by_status, by_type;
  for (const auto& t : types) {
    REQUIRE(grid.at(t).size() == statuses.size());
    for (const auto& st : statuses) {
      auto n = grid.at(t).at(st).get<std::int64_t>();
      by_status[st] += n;
      by_type[t] += n;
    }
  }
  CHECK(grid.at("invitation").at("undelivered") == 1);
  CHECK(grid.at("invitation").at("delivered") == 1);
  CHECK(grid.at("match_reveal").at("delivered") == 1);
  CHECK(grid.at("question_set").at("sent") == 1);
  CHECK(grid.at("question_set").at("queued") == 1);
  CHECK(grid.at("new_rsvps").at("failed") == 0);
  for (const auto& st : statuses)
    CHECK(s.at("byStatus").at(st) == by_status[st]);
  for (const auto& t : types)
    CHECK(s.at("byType").at(t) == by_type[t]);
  CHECK(s.at("total") == 5);
  CHECK(s.at("failedMessagesTotal") == 1);
  CHECK(s.at("deliveryRate").get<double>() == Approx(2.0 / 3.0));

  // An event without messages: the whole grid of zeros.
  auto empty = f.get_json("/api/events/evC/sms-summary", f.as(auth_world::owner_a));
  REQUIRE(empty.at("byTypeAndStatus").size() == 6);
  for (const auto& [type, row] : empty.at("byTypeAndStatus").items())
    CHECK(row == json{{"queued", 0}, {"sent", 0}, {"delivered", 0}, {"failed", 0},
                      {"undelivered", 0}});
}

// -- the timeline -------------------------------------------------------------------------------------

namespace {

status_event_record report(const std::string& key, std::optional<std::string> message_id,
                           const std::string& provider_status, millis at, bool applied,
                           const std::string& disp, const std::string& source = "webhook",
                           std::optional<std::string> error_code = std::nullopt) {
  status_event_record e;
  e.message_id = std::move(message_id);
  e.message_sid = "SMm1";
  e.provider_status = provider_status;
  e.error_code = std::move(error_code);
  e.source = source;
  e.dedup_key = key;
  e.payload = json{{"MessageStatus", provider_status}, {"MessageSid", "SMm1"}}.dump();
  e.received_at = at;
  e.applied = applied;
  e.disposition = disp;
  return e;
}

} // namespace

TEST_CASE("a message's timeline lists its reports oldest first with what each did",
          "[organizer_api]") {
  api_fixture f;
  f.message("m1", "undelivered", 1'000, std::string("30003"));
  f.message("m2", "delivered", 1'500);
  write_op op;
  op.inserts = {
    report("k4", std::string("m1"), "delivered", 4'000, false, disposition::anomaly),
    report("k1", std::string("m1"), "accepted", 1'000, true, disposition::applied, "send"),
    report("k3", std::string("m1"), "undelivered", 3'000, true, disposition::applied, "webhook",
           std::string("30003")),
    report("k2", std::string("m1"), "sent", 2'000, true, disposition::applied),
    report("k5", std::string("m1"), "sent", 5'000, false, disposition::stale, "reconcile"),
    report("k6", std::string("m1"), "teleported", 6'000, false, disposition::unknown_status),
    // Stored under the SID only (before the row was known): part of the timeline too.
    report("k7", std::nullopt, "sent", 7'000, false, disposition::duplicate),
  };
  REQUIRE(f.direct->commit({op}));

  auto t = f.get_json("/api/events/evA/attendees/atA1/messages/m1/timeline",
                      f.as(auth_world::viewer_a));
  CHECK(t.at("messageId") == "m1");
  CHECK(t.at("status") == "undelivered");
  const auto& events = t.at("events");
  REQUIRE(events.size() == 7);
  std::vector<std::string> words;
  for (const auto& e : events)
    words.push_back(e.at("providerStatus").get<std::string>());
  CHECK(words == std::vector<std::string>{"accepted", "sent", "undelivered", "delivered", "sent",
                                          "teleported", "sent"});
  CHECK(events[0] == json{{"receivedAt", "1970-01-01T00:00:01.000Z"},
                          {"providerStatus", "accepted"},
                          {"status", "queued"},
                          {"errorCode", nullptr},
                          {"source", "send"},
                          {"applied", true},
                          {"disposition", "applied"},
                          {"payload", {{"MessageStatus", "accepted"}, {"MessageSid", "SMm1"}}}});
  CHECK(events[2].at("status") == "undelivered");
  CHECK(events[2].at("errorCode") == "30003");
  CHECK(events[3].at("disposition") == "anomaly");
  CHECK(events[3].at("applied") == false);
  CHECK(events[4].at("source") == "reconcile");
  CHECK(events[4].at("disposition") == "stale");
  CHECK(events[5].at("status").is_null()); // a word we do not know
  CHECK(events[5].at("disposition") == "unknown_status");
  CHECK(events[6].at("disposition") == "duplicate");

  // A message with no reports yet has an empty timeline.
  auto quiet = f.get_json("/api/events/evA/attendees/atA1/messages/m2/timeline", f.admin());
  CHECK(quiet.at("status") == "delivered");
  CHECK(quiet.at("events").empty());
}

TEST_CASE("a timeline is found only under its own attendee and event, by our id",
          "[organizer_api]") {
  api_fixture f;
  f.message("m1", "delivered", 1'000);
  REQUIRE(f.direct->upsert_attendee({"atA2", auth_world::event_a, "Bo", std::nullopt,
                                     std::nullopt, 0, 0}));
  message_record b;
  b.id = "mB";
  b.to_phone = "+14158675310";
  b.created_at = 1'000;
  b.event_id = auth_world::event_b;
  b.attendee_id = auth_world::attendee_b;
  b.notification_type = "invitation";
  b.state.status_updated_at = 1'000;
  REQUIRE_FALSE(f.direct->insert_message(b));

  auto c = f.client();
  const auto owner_a = f.as(auth_world::owner_a);
  auto not_found = [&](const std::string& target, const header_list& who, const char* error) {
    auto r = c.get(target, who);
    INFO(target << " -> " << r.status << " " << r.body);
    CHECK(r.status == 404);
    CHECK(r.json() == json{{"error", error}});
  };
  not_found("/api/events/evA/attendees/atA2/messages/m1/timeline", owner_a, "Message not found");
  not_found("/api/events/evA/attendees/atA1/messages/mB/timeline", owner_a, "Message not found");
  not_found("/api/events/evA/attendees/atB1/messages/mB/timeline", owner_a, "Message not found");
  not_found("/api/events/evA/attendees/atA1/messages/nope/timeline", owner_a, "Message not found");
  // Twilio's SID is not our id.
  not_found("/api/events/evA/attendees/atA1/messages/SMm1/timeline", owner_a, "Message not found");
  // Event B's message through event B: A's owner has no role there; the admin does.
  not_found("/api/events/evB/attendees/atB1/messages/mB/timeline", owner_a, "Event not found");
  CHECK(c.get("/api/events/evB/attendees/atB1/messages/mB/timeline", f.admin()).status == 200);
  not_found("/api/events/nope/attendees/atA1/messages/m1/timeline", f.admin(), "Event not found");
  CHECK(c.get("/api/events/evA/attendees/atA1/messages/" + std::string(129, 'm') + "/timeline",
              owner_a)
          .status
        == 400);
  CHECK(c.get("/api/events/evA/attendees/atA1/messages/m1/timeline").status == 401);
}

// -- the retryAll dry run -------------------------------------------------------------------------------

namespace {

/// atA1: m1 failed 30003 (retryable), m2 failed 21610 (not), m3 undelivered and already retried
/// by m4, m5 delivered, m6 undelivered without a code (retryable).
void seed_retry_mix(api_fixture& f) {
  f.message("m1", "failed", 1'000, std::string("30003"));
  f.message("m2", "failed", 2'000, std::string("21610"));
  f.message("m3", "undelivered", 3'000, std::string("30003"));
  f.message("m4", "queued", 4'000, std::nullopt, std::string("m3"));
  f.message("m5", "delivered", 5'000);
  f.message("m6", "undelivered", 6'000);
}

} // namespace

TEST_CASE("a retryAll dry run sends nothing and names exactly what the real one then retries",
          "[organizer_api]") {
  api_fixture f;
  seed_retry_mix(f);
  const auto curator = f.as(auth_world::curator_a);
  auto dry = f.retry("atA1", {{"retryAll", true}, {"dryRun", true}}, curator);
  REQUIRE(dry.status == 200);
  auto preview = dry.json();
  CHECK(f.creates() == 0);
  CHECK(preview.at("dryRun") == true);
  CHECK(preview.at("success") == true);
  CHECK(preview.at("retried") == 0);
  CHECK(preview.at("results") == json::array());
  CHECK(preview.at("wouldRetry") == json{"m1", "m6"}); // oldest first
  const json skipped = {{{"originalMessageId", "m2"},
                         {"reason", "error 21610 (Recipient unsubscribed) is not retryable"},
                         {"code", "not_retryable"},
                         {"errorCode", "21610"}},
                        {{"originalMessageId", "m3"},
                         {"reason", "already retried"},
                         {"code", "already_retried"},
                         {"existingRetryId", "m4"}}};
  CHECK(preview.at("skipped") == skipped);
  // Nothing was written either: the same preview again.
  CHECK(f.retry("atA1", {{"retryAll", true}, {"dryRun", true}}, curator).json() == preview);
  CHECK(f.retry("atA1", {{"retryAll", true}, {"dryRun", true}}, f.admin()).json() == preview);

  auto real = f.retry("atA1", {{"retryAll", true}}, curator);
  REQUIRE(real.status == 200);
  auto done = real.json();
  CHECK_FALSE(done.contains("dryRun"));
  CHECK_FALSE(done.contains("wouldRetry"));
  std::vector<std::string> retried;
  for (const auto& r : done.at("results"))
    retried.push_back(r.at("originalMessageId").get<std::string>());
  CHECK(json(retried) == preview.at("wouldRetry"));
  CHECK(done.at("skipped") == preview.at("skipped"));
  CHECK(done.at("retried") == 2);
  CHECK(f.creates() == 2);

  // Now everything retryable was retried: the preview says so, in the same words as the retry.
  auto after = f.retry("atA1", {{"retryAll", true}, {"dryRun", true}}, curator).json();
  CHECK(after.at("wouldRetry") == json::array());
  CHECK(after.at("skipped").size() == 4);
  auto again = f.retry("atA1", {{"retryAll", true}}, curator).json();
  CHECK(again.at("skipped") == after.at("skipped"));
  CHECK(f.creates() == 2);
}

TEST_CASE("a dry run claims no Idempotency-Key", "[organizer_api]") {
  api_fixture f;
  seed_retry_mix(f);
  const auto owner = f.as(auth_world::owner_a);
  header_list keyed = owner;
  keyed.emplace_back("Idempotency-Key", "retry-all-1");
  auto dry = f.retry("atA1", {{"retryAll", true}, {"dryRun", true}}, keyed);
  REQUIRE(dry.status == 200);
  CHECK_FALSE(dry.has_header("Idempotent-Replayed"));
  // The real request with the same key is its first use: no 422 for another body, no replay.
  auto real = f.retry("atA1", {{"retryAll", true}}, keyed);
  REQUIRE(real.status == 200);
  CHECK_FALSE(real.has_header("Idempotent-Replayed"));
  CHECK(real.json().at("retried") == 2);
  // And the key now holds the real answer.
  auto replay = f.retry("atA1", {{"retryAll", true}}, keyed);
  CHECK(replay.header("Idempotent-Replayed") == "true");
  CHECK(f.creates() == 2);
}

TEST_CASE("bad dry runs are 400, a viewer's is 403, another attendee's 404; none sends",
          "[organizer_api]") {
  api_fixture f;
  seed_retry_mix(f);
  const auto owner = f.as(auth_world::owner_a);
  for (const json& body : {json{{"messageId", "m1"}, {"dryRun", true}},
                           json{{"retryAll", true}, {"dryRun", "yes"}},
                           json{{"retryAll", true}, {"dryRun", nullptr}},
                           json{{"dryRun", true}},
                           json{{"retryAll", false}, {"dryRun", true}},
                           json{{"retryAll", true}, {"dryRun", true}, {"note", 1}}}) {
    auto r = f.retry("atA1", body, owner);
    INFO(body.dump() << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(r.json().at("error").is_string());
  }
  // dryRun false is the real thing.
  CHECK(f.retry("atA1", {{"messageId", "m6"}, {"dryRun", false}}, owner).json().at("retried") == 1);
  CHECK(f.creates() == 1);
  auto viewer = f.retry("atA1", {{"retryAll", true}, {"dryRun", true}},
                        f.as(auth_world::viewer_a));
  CHECK(viewer.status == 403);
  auto stranger = f.retry("atA1", {{"retryAll", true}, {"dryRun", true}}, f.as("u-stranger"));
  CHECK(stranger.status == 404);
  CHECK(stranger.json().at("error") == "Event not found");
  auto other = f.retry("atB1", {{"retryAll", true}, {"dryRun", true}}, owner);
  CHECK(other.status == 404);
  CHECK(other.json().at("error") == "Attendee not found");
  CHECK(f.creates() == 1);
}

TEST_CASE("every skip of a real retry says why in a code", "[organizer_api]") {
  api_fixture f;
  seed_retry_mix(f);
  auto r = f.retry("atA1", {{"retryAll", true}}, f.admin()).json();
  REQUIRE(r.at("skipped").size() == 2);
  for (const auto& s : r.at("skipped")) {
    const auto code = s.at("code").get<std::string>();
    CHECK((code == "already_retried" || code == "not_retryable"));
    CHECK(s.contains("errorCode") == (code == "not_retryable"));
    CHECK(s.contains("existingRetryId") == (code == "already_retried"));
  }
}

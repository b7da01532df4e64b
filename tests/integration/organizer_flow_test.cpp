// The seed's testing checklist through the organizer API, on both databases: smsd in process,
// the real Twilio simulator, real HTTP, the admin token (the authorization matrix is in
// tests/unit/http/event_access_test.cpp).
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "http/organizer_token.hpp"
#include "send_world.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

json get_json(const send_world& w, const std::string& target, int expected = 200) {
  auto r = http_send(w.smsd.port(), {"GET", target, admin_headers, "", ""});
  INFO(target << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == expected);
  return r.json();
}

http_reply post(const send_world& w, const std::string& target, const json& body,
                header_list extra = {}) {
  header_list h = admin_headers;
  h.insert(h.end(), extra.begin(), extra.end());
  return http_send(w.smsd.port(), {"POST", target, h, body.dump(), "application/json"});
}

std::string history_of(const std::string& attendee) {
  return "/api/events/ev1/attendees/" + attendee + "/sms-history";
}

std::string retry_of(const std::string& attendee) {
  return "/api/events/ev1/attendees/" + attendee + "/sms-retry";
}

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

TEST_CASE("full send, webhook, delivered: the history shows it", "[organizer][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  send_world w{database_url_of(dialect)};
  w.smsd.seed_event();
  auto r = w.send("at1", "Doors open at 7");
  REQUIRE(r.status == 200);
  auto id = r.json().at("dbRecordId").get<std::string>();
  REQUIRE(eventually([&] { return w.row(id).state.status == "delivered"; }));
  auto h = get_json(w, history_of("at1"));
  CHECK(h.at("attendee").at("id") == "at1");
  CHECK(h.at("attendee").at("firstName") == "John");
  CHECK(h.at("attendee").at("lastName") == "Smith");
  CHECK(h.at("attendee").at("phone") == "+15551234567");
  REQUIRE(h.at("messages").size() == 1);
  auto m = h.at("messages")[0];
  CHECK(m.at("id") == id);
  CHECK(m.at("messageSid") == r.json().at("messageId"));
  CHECK(m.at("status") == "delivered");
  CHECK(m.at("notificationType") == "event_reminder");
  CHECK(m.at("body") == "Doors open at 7");
  CHECK(m.at("sentAt").is_string());
  CHECK(m.at("deliveredAt").is_string());
  CHECK(m.at("errorCode").is_null());
  CHECK(m.at("errorInfo").is_null());
  CHECK(m.at("retryOfId").is_null());
  CHECK(h.at("summary") == json{{"total", 1}, {"delivered", 1}, {"failed", 0}, {"pending", 0}});
}

TEST_CASE("a failed text shows in the history with its error info, and a retry makes a new "
          "message and leaves the old one",
          "[organizer][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  // The attendee's handset is unreachable: Twilio accepts, then reports undelivered 30003.
  send_world w{database_url_of(dialect),
               {{"delivery_failures", {{"+15551234567", {{"status", "undelivered"}, {"error_code", 30003}}}}}}};
  w.smsd.seed_event();
  auto first = w.send("at1", "Your match is ready");
  REQUIRE(first.status == 200);
  auto id = first.json().at("dbRecordId").get<std::string>();
  REQUIRE(eventually([&] { return w.row(id).state.status == "undelivered"; }));
  auto h = get_json(w, history_of("at1"));
  auto m = h.at("messages")[0];
  CHECK(m.at("status") == "undelivered");
  CHECK(m.at("errorCode") == "30003");
  CHECK(m.at("errorInfo").at("title") == "Unreachable handset");
  CHECK(m.at("errorInfo").at("retryable") == true);
  CHECK(h.at("summary").at("failed") == 1);

  // The handset is back: the retry goes through.
  w.configure(json::object());
  auto rr = post(w, retry_of("at1"), {{"messageId", id}});
  REQUIRE(rr.status == 200);
  auto answer = rr.json();
  CHECK(answer.at("success") == true);
  CHECK(answer.at("retried") == 1);
  REQUIRE(answer.at("results").size() == 1);
  CHECK(answer.at("results")[0].at("originalMessageId") == id);
  CHECK(answer.at("results")[0].at("status") == "queued");
  auto new_id = answer.at("results")[0].at("newMessageId").get<std::string>();
  CHECK(new_id != id);
  REQUIRE(eventually([&] { return w.row(new_id).state.status == "delivered"; }));
  auto fresh = w.row(new_id);
  CHECK(fresh.retry_of_id == std::optional<std::string>{id});
  CHECK(fresh.body == std::optional<std::string>{"Your match is ready"});
  CHECK(fresh.notification_type == "event_reminder");
  CHECK(fresh.attendee_id == "at1");
  // The original stays as it was.
  auto old = w.row(id);
  CHECK(old.state.status == "undelivered");
  CHECK(old.state.error_code == std::optional<std::string>{"30003"});
  h = get_json(w, history_of("at1"));
  REQUIRE(h.at("messages").size() == 2);
  CHECK(h.at("messages")[0].at("id") == new_id);
  CHECK(h.at("messages")[0].at("retryOfId") == id);
  CHECK(h.at("messages")[1].at("retriedById") == new_id);

  // Retrying it again is refused, naming the existing retry, and sends nothing.
  auto creates = w.stats().at("creates_accepted").get<int>();
  auto again = post(w, retry_of("at1"), {{"messageId", id}});
  CHECK(again.status == 409);
  CHECK(again.json().at("existingRetryId") == new_id);
  auto all = post(w, retry_of("at1"), {{"retryAll", true}});
  REQUIRE(all.status == 200);
  CHECK(all.json().at("retried") == 0);
  REQUIRE(all.json().at("skipped").size() == 1);
  CHECK(all.json().at("skipped")[0].at("existingRetryId") == new_id);
  // A delivered message cannot be retried.
  CHECK(post(w, retry_of("at1"), {{"messageId", new_id}}).status == 409);
  CHECK(w.stats().at("creates_accepted") == creates);
}

TEST_CASE("retryAll skips non-retryable codes; an Idempotency-Key answers twice, sends once",
          "[organizer][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  send_world w{database_url_of(dialect)};
  w.smsd.seed_event();
  // Two failures of at1: one retryable (30003), one not (21610, unsubscribed).
  auto fail = [&](const std::string& id, const std::string& code, millis at) {
    auto m = sample_message(id, "SM" + id, "ev1", "at1");
    m.created_at = at;
    m.state.status = code == "30003" ? "undelivered" : "failed";
    m.state.status_rank = 4;
    m.state.error_code = code;
    REQUIRE_FALSE(w.smsd.db->insert_message(m));
  };
  fail("m1", "30003", 1'000);
  fail("m2", "21610", 2'000);
  const header_list key{{"Idempotency-Key", "retry-all-1"}};
  auto r1 = post(w, retry_of("at1"), {{"retryAll", true}}, key);
  REQUIRE(r1.status == 200);
  auto a1 = r1.json();
  CHECK(a1.at("retried") == 1);
  CHECK(a1.at("results")[0].at("originalMessageId") == "m1");
  REQUIRE(a1.at("skipped").size() == 1);
  CHECK(a1.at("skipped")[0].at("originalMessageId") == "m2");
  CHECK_THAT(a1.at("skipped")[0].at("reason").get<std::string>(), Catch::Contains("21610"));
  auto r2 = post(w, retry_of("at1"), {{"retryAll", true}}, key);
  REQUIRE(r2.status == 200);
  CHECK(r2.json() == a1);
  CHECK(r2.header("Idempotent-Replayed") == "true");
  CHECK(w.stats().at("creates_accepted") == 1);
  // The same key for another request is refused.
  CHECK(post(w, retry_of("at1"), {{"messageId", "m2"}}, key).status == 422);
}

TEST_CASE("bad retry requests get a 4xx and send nothing", "[organizer][slow]") {
  send_world w{database_url_of("sqlite")};
  w.smsd.seed_event();
  for (const auto& body : {json::object(), json{{"retryAll", false}}, json{{"messageId", 5}},
                           json{{"messageId", "m1"}, {"retryAll", true}}, json::array()})
    CHECK(post(w, retry_of("at1"), body).status == 400);
  CHECK(post(w, retry_of("at1"), {{"messageId", "nope"}}).status == 404);
  CHECK(post(w, "/api/events/ev1/attendees/ghost/sms-retry", {{"retryAll", true}}).status == 404);
  CHECK(post(w, retry_of("at1"), {{"retryAll", true}}, {{"Idempotency-Key", ""}}).status == 400);
  CHECK(w.stats().at("creates_received") == 0);
}

TEST_CASE("the event summary aggregates what was sent, checked against independent counts",
          "[organizer][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  send_world w{database_url_of(dialect),
               {{"delivery_failures",
                 {{"+14155550302", {{"status", "undelivered"}, {"error_code", 30003}}},
                  {"+14155550303", {{"status", "failed"}, {"error_code", 30007}}}}}}};
  w.smsd.seed_event();
  REQUIRE(w.smsd.db->delete_attendee("ev1", "at1"));
  for (int i = 0; i < 6; ++i)
    w.attendee("g" + std::to_string(i), "+1415555030" + std::to_string(i), "G" + std::to_string(i));
  w.attendee("magic", "+15005550002"); // refused at create: 21612
  std::vector<std::string> ids;
  for (const auto* type : {"invitation", "rsvp_reminder"}) {
    auto r = w.notify({{"notificationType", type}, {"body", "Hi {{firstName}}"}});
    REQUIRE(r.status == 200);
    auto answer = r.json();
    for (const auto& res : answer.at("results"))
      ids.push_back(res.at("dbRecordId").get<std::string>());
  }
  REQUIRE(ids.size() == 14);
  REQUIRE(eventually([&] { return w.all_final(ids); }));

  // Counted here from the rows themselves.
  std::map<std::string, int> by_status, by_type;
  for (const auto& id : ids) {
    auto m = w.row(id);
    ++by_status[m.state.status];
    ++by_type[m.notification_type];
  }
  auto s = get_json(w, "/api/events/ev1/sms-summary");
  CHECK(s.at("total") == 14);
  for (const auto* st : {"queued", "sent", "delivered", "failed", "undelivered"})
    CHECK(s.at("byStatus").at(st) == by_status[st]);
  for (const auto* t : {"invitation", "rsvp_reminder", "match_reveal", "event_reminder",
                        "new_rsvps", "question_set"})
    CHECK(s.at("byType").at(t) == by_type[t]);
  const double final_count = by_status["delivered"] + by_status["failed"] + by_status["undelivered"];
  CHECK(s.at("deliveryRate").get<double>() == Approx(by_status["delivered"] / final_count));
  CHECK(by_status["delivered"] == 8);
  CHECK(by_status["undelivered"] == 2);
  CHECK(by_status["failed"] == 4);
  REQUIRE(s.at("failedMessages").size() == 6);
  CHECK(s.at("failedMessagesTotal") == 6);
  for (const auto& f : s.at("failedMessages")) {
    CHECK(f.at("attendeeName").get<std::string>().size() > 0);
    CHECK(f.at("errorCode").is_string());
    CHECK(f.at("errorInfo").is_object());
    CHECK(f.at("retried") == false);
  }
  auto limited = get_json(w, "/api/events/ev1/sms-summary?failedLimit=2");
  CHECK(limited.at("failedMessages").size() == 2);
  CHECK(limited.at("failedMessages")[0] == s.at("failedMessages")[0]);
  get_json(w, "/api/events/ev1/sms-summary?failedLimit=0", 400);
  get_json(w, "/api/events/nope/sms-summary", 404);

  // The dots: g0 delivered (green), g2 undelivered (red), magic refused (red).
  auto st = get_json(w, "/api/events/ev1/attendees/sms-status");
  std::map<std::string, json> dots;
  for (const auto& a : st.at("attendees"))
    dots[a.at("attendeeId").get<std::string>()] = a;
  CHECK(dots.at("g0").at("dot") == "green");
  CHECK(dots.at("g0").at("total") == 2);
  CHECK(dots.at("g0").at("delivered") == 2);
  CHECK(dots.at("g2").at("dot") == "red");
  CHECK(dots.at("g2").at("failed") == 2);
  CHECK(dots.at("magic").at("dot") == "red");

  // An empty event: every key present, zeros, rate 0.
  REQUIRE(w.smsd.db->upsert_event({"ev2", "Empty", 1'800'000'000'000, "u1", 0, 0}));
  auto empty = get_json(w, "/api/events/ev2/sms-summary");
  CHECK(empty.at("total") == 0);
  CHECK(empty.at("deliveryRate") == 0);
  CHECK(empty.at("byStatus").size() == 5);
  CHECK(empty.at("byType").size() == 6);
  CHECK(empty.at("failedMessages").empty());
}

TEST_CASE("edge cases: webhook before the record, out of order and duplicates, invalid phone, "
          "attendee deleted after sending",
          "[organizer][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  send_world w{database_url_of(dialect),
               {{"reorder_callbacks", true}, {"duplicate_callbacks", true}}};
  w.smsd.seed_event();
  w.attendee("yellow", "+14155550400");
  w.attendee("bad", "+1 41");

  // A callback for a SID no row has yet is kept, and applied when the row appears.
  REQUIRE(w.smsd.callback("SMearly", "delivered").status == 200);
  w.smsd.seed_message("early", std::string("SMearly"));
  REQUIRE(eventually([&] { return w.row("early").state.status == "delivered"; }));

  // Out of order and twice each: delivered still wins, once.
  auto r = w.send("at1");
  auto id = r.json().at("dbRecordId").get<std::string>();
  REQUIRE(eventually([&] { return w.row(id).state.status == "delivered"; }));
  REQUIRE(eventually([&] { return w.stats().at("callbacks_pending") == 0; }));
  CHECK(w.row(id).state.status == "delivered");
  CHECK(w.smsd.events(id).size() == 4);

  // An invalid number is failed with 21211 and never sent.
  auto before = w.stats().at("creates_received").get<int>();
  auto bad = w.send("bad");
  REQUIRE(bad.status == 200);
  CHECK(bad.json().at("success") == false);
  auto h = get_json(w, history_of("bad"));
  CHECK(h.at("messages")[0].at("status") == "failed");
  CHECK(h.at("messages")[0].at("errorCode") == "21211");
  CHECK(h.at("messages")[0].at("errorInfo").at("title").is_string());
  CHECK(w.stats().at("creates_received") == before);

  // A text still pending shows yellow.
  w.configure({{"drop_callbacks", 1.0}});
  w.send("yellow");
  auto dots = get_json(w, "/api/events/ev1/attendees/sms-status");
  for (const auto& a : dots.at("attendees"))
    if (a.at("attendeeId") == "yellow")
      CHECK(a.at("dot") == "yellow");

  // The attendee is deleted after sending: its callbacks are acknowledged, nothing comes back.
  w.configure(json::object());
  auto late = w.send("yellow");
  auto late_id = late.json().at("dbRecordId").get<std::string>();
  REQUIRE(w.smsd.db->delete_attendee("ev1", "yellow"));
  REQUIRE(eventually([&] { return w.stats().at("callbacks_pending") == 0; }));
  CHECK(w.stats().at("callbacks_failed") == 0); // every callback got its 200
  CHECK_FALSE(w.smsd.message(late_id).has_value());
  get_json(w, history_of("yellow"), 404);
}

// -- the organizer page's API (issue 13) ------------------------------------------------------------

TEST_CASE("an organizer's events and one event with its permissions, through tokens smsd signs",
          "[organizer]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  auto cfg = test_config(database_url_of(dialect));
  cfg.jwt_secret = "organizer-flow-jwt-secret-0123456789";
  running_smsd smsd(cfg);
  auto& db = *smsd.db;
  REQUIRE(db.upsert_event({"ev-old", "Old", 1'700'000'000'000, "u1", 0, 0}));
  REQUIRE(db.upsert_event({"ev-new", "New", 1'900'000'000'000, "u2", 0, 0}));
  REQUIRE(db.upsert_event({"ev-none", "None", 1'950'000'000'000, "u2", 0, 0}));
  REQUIRE(db.upsert_organizer({"ev-new", "u1", true, false}));
  REQUIRE(db.upsert_organizer({"ev-none", "u1", false, false}));
  auto token = [&](const std::string& user) {
    auto t = sign_organizer_token(user, cfg.jwt_secret, unix_seconds(), 600);
    REQUIRE(t);
    return header_list{bearer(*t)};
  };
  auto get = [&](const std::string& target, const header_list& who) {
    return http_send(smsd.port(), {"GET", target, who, "", ""});
  };

  auto mine = get("/api/events", token("u1"));
  REQUIRE(mine.status == 200);
  CHECK(mine.json() == json{{"events",
                             {{{"id", "ev-new"}, {"name", "New"}, {"date", "2030-03-17T17:46:40.000Z"},
                               {"role", "organizer"}, {"permissions", {"view"}}},
                              {{"id", "ev-old"}, {"name", "Old"}, {"date", "2023-11-14T22:13:20.000Z"},
                               {"role", "owner"}, {"permissions", {"view", "curate"}}}}}});
  auto all = get("/api/events", admin_headers);
  REQUIRE(all.status == 200);
  CHECK(all.json().at("events").size() == 3);
  CHECK(all.json().at("events")[0].at("id") == "ev-none");

  auto one = get("/api/events/ev-new", token("u1"));
  REQUIRE(one.status == 200);
  CHECK(one.json() == mine.json().at("events")[0]);
  CHECK(get("/api/events/ev-none", token("u1")).status == 404);
  CHECK(get("/api/events/ev-old", token("u3")).status == 404);
  CHECK(get("/api/events/ev-old", token("u2")).status == 404);
  CHECK(get("/api/events/ev-new", token("u2")).json().at("role") == "owner");
  CHECK(get("/api/events", token("u3")).json() == json{{"events", json::array()}});
}

TEST_CASE("a message's timeline shows every report Twilio sent, with what each did",
          "[organizer][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  // Newest first: delivered applies, the later "sent" is stale.
  send_world w{database_url_of(dialect), {{"reorder_callbacks", true}}};
  w.smsd.seed_event();
  auto r = w.send("at1");
  REQUIRE(r.status == 200);
  auto id = r.json().at("dbRecordId").get<std::string>();
  REQUIRE(eventually([&] { return w.row(id).state.status == "delivered"; }));
  REQUIRE(eventually([&] { return w.stats().at("callbacks_pending") == 0; }));

  auto t = get_json(w, "/api/events/ev1/attendees/at1/messages/" + id + "/timeline");
  CHECK(t.at("messageId") == id);
  CHECK(t.at("status") == "delivered");
  const auto stored = w.smsd.events(id);
  const auto& events = t.at("events");
  REQUIRE(events.size() == stored.size());
  REQUIRE(events.size() >= 3);
  CHECK(events[0].at("source") == "send");
  CHECK(events[0].at("applied") == true);
  std::string last_at;
  int applied_delivered = 0, stale = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    CHECK(e.at("receivedAt").get<std::string>() >= last_at); // oldest first
    last_at = e.at("receivedAt").get<std::string>();
    CHECK(e.at("providerStatus") == stored[i].provider_status);
    CHECK(e.at("disposition") == stored[i].disposition);
    CHECK(e.at("payload").is_object());
    if (e.at("status") == "delivered" && e.at("applied") == true)
      ++applied_delivered;
    if (e.at("disposition") == "stale") {
      ++stale;
      CHECK(e.at("applied") == false);
    }
  }
  CHECK(applied_delivered == 1);
  CHECK(stale >= 1);

  get_json(w, "/api/events/ev1/attendees/at1/messages/nope/timeline", 404);
  get_json(w, "/api/events/ev1/attendees/ghost/messages/" + id + "/timeline", 404);
}

TEST_CASE("the retryAll dry run sends nothing and names what the real retryAll then retries",
          "[organizer][slow]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  INFO(dialect);
  send_world w{database_url_of(dialect)};
  w.smsd.seed_event();
  auto fail = [&](const std::string& id, const std::string& code, millis at,
                  std::optional<std::string> retry_of = std::nullopt) {
    auto m = sample_message(id, "SM" + id, "ev1", "at1");
    m.created_at = at;
    m.state.status = code.empty() ? "delivered" : code == "30003" ? "undelivered" : "failed";
    m.state.status_rank = 4;
    if (!code.empty())
      m.state.error_code = code;
    m.retry_of_id = std::move(retry_of);
    REQUIRE_FALSE(w.smsd.db->insert_message(m));
  };
  fail("m1", "30003", 1'000);
  fail("m2", "21610", 2'000);
  fail("m3", "30003", 3'000);
  fail("m4", "", 4'000, std::string("m3"));
  fail("m5", "30008", 5'000);

  auto dry = post(w, retry_of("at1"), {{"retryAll", true}, {"dryRun", true}},
                  {{"Idempotency-Key", "preview-then-real"}});
  REQUIRE(dry.status == 200);
  auto preview = dry.json();
  CHECK(preview.at("dryRun") == true);
  CHECK(preview.at("wouldRetry") == json{"m1", "m5"});
  REQUIRE(preview.at("skipped").size() == 2);
  CHECK(preview.at("skipped")[0].at("code") == "not_retryable");
  CHECK(preview.at("skipped")[0].at("errorCode") == "21610");
  CHECK(preview.at("skipped")[1].at("code") == "already_retried");
  CHECK(preview.at("skipped")[1].at("existingRetryId") == "m4");
  CHECK(w.stats().at("creates_received") == 0);

  auto real = post(w, retry_of("at1"), {{"retryAll", true}},
                   {{"Idempotency-Key", "preview-then-real"}});
  REQUIRE(real.status == 200);
  auto done = real.json();
  json retried = json::array();
  for (const auto& r : done.at("results"))
    retried.push_back(r.at("originalMessageId"));
  CHECK(retried == preview.at("wouldRetry"));
  CHECK(done.at("skipped") == preview.at("skipped"));
  CHECK(w.stats().at("creates_received") == 2);
}

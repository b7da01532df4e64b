// The organizer page's live events (GET /api/events/{eventId}/sms-stream) on the real server and
// both databases: an event comes only after its change is committed, Last-Event-ID resumes, a
// restart's ids get resync, other events' changes stay out, and the stream ends at shutdown.
#include <nlohmann/json.hpp>

#include <ctime>

#include "http/organizer_token.hpp"
#include "tests/integration/integration_support.hpp"
#include "tests/support/sse_client.hpp"

using namespace smsd;
using namespace smsd::test;
using namespace std::chrono_literals;

namespace {

const header_list admin{bearer(admin_token)};

std::string stream_of(const std::string& event_id) {
  return "/api/events/" + event_id + "/sms-stream";
}

header_list with_last_id(const std::string& id) {
  header_list h = admin;
  h.emplace_back("Last-Event-ID", id);
  return h;
}

} // namespace

TEST_CASE("a callback's change reaches the event's stream only once it is committed",
          "[integration][stream]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  SECTION(dialect) {
    running_smsd s(database_url_of(dialect));
    s.seed_event();
    const std::string sid = "SM00000000000000000000000000000a01";
    s.seed_message("m1", sid);
    sse_client live(s.port(), stream_of("ev1"), admin);
    REQUIRE(live.status() == 200);
    CHECK(live.head().find("Content-Type: text/event-stream") != std::string::npos);

    REQUIRE(s.callback(sid, "sent").status == 200);
    auto ev = live.next();
    REQUIRE(ev);
    CHECK(ev->event == "sms");
    CHECK_FALSE(ev->id.empty());
    // What the event says is already in the database when it arrives.
    CHECK(s.message("m1")->state.status == "sent");
    auto data = nlohmann::json::parse(ev->data);
    CHECK(data["messageId"] == "m1");
    CHECK(data["attendeeId"] == "at1");
    CHECK(data["status"] == "sent");
    CHECK(data["dot"] == "yellow");
    CHECK(data["counts"] == nlohmann::json{{"total", 1},
                                           {"delivered", 0},
                                           {"pending", 1},
                                           {"failed", 0},
                                           {"openFailed", 0}});

    REQUIRE(s.callback(sid, "undelivered", "30003").status == 200);
    ev = live.next();
    REQUIRE(ev);
    data = nlohmann::json::parse(ev->data);
    CHECK(data["status"] == "undelivered");
    CHECK(data["dot"] == "red");
    CHECK(s.message("m1")->state.status == "undelivered");

    // A duplicate and a late one change nothing: no event.
    REQUIRE(s.callback(sid, "undelivered", "30003").status == 200);
    REQUIRE(s.callback(sid, "sent").status == 200);
    CHECK_FALSE(live.next(600ms));
  }
}

TEST_CASE("a stream hears only its own event", "[integration][stream]") {
  running_smsd s(database_url_of("sqlite"));
  s.seed_event("ev1", "at1");
  s.seed_event("ev2", "at2");
  s.seed_message("m1", std::string("SM00000000000000000000000000000b01"), "ev1", "at1");
  s.seed_message("m2", std::string("SM00000000000000000000000000000b02"), "ev2", "at2");
  sse_client one(s.port(), stream_of("ev1"), admin);
  REQUIRE(one.status() == 200);
  REQUIRE(s.callback("SM00000000000000000000000000000b02", "sent").status == 200);
  REQUIRE(s.callback("SM00000000000000000000000000000b01", "delivered").status == 200);
  auto ev = one.next();
  REQUIRE(ev);
  CHECK(nlohmann::json::parse(ev->data)["messageId"] == "m1");
  CHECK_FALSE(one.next(500ms));
}

TEST_CASE("Last-Event-ID gets what a dropped stream missed; after changes nobody saw, or a "
          "restart, it gets resync", "[integration][stream]") {
  running_smsd s(database_url_of("sqlite"));
  s.seed_event();
  const std::string sid = "SM00000000000000000000000000000c01";
  s.seed_message("m1", sid);
  auto other = std::make_unique<sse_client>(s.port(), stream_of("ev1"), admin); // another tab
  std::string last;
  {
    sse_client live(s.port(), stream_of("ev1"), admin);
    REQUIRE(s.callback(sid, "queued").status == 200);
    auto ev = live.next();
    REQUIRE(ev);
    last = ev->id;
  } // this page lost its connection; the other tab keeps the event watched
  REQUIRE(other->next()); // queued
  REQUIRE(s.callback(sid, "sent").status == 200);
  REQUIRE(other->next()); // gone out
  REQUIRE(s.callback(sid, "delivered").status == 200);
  REQUIRE(other->next());
  {
    sse_client again(s.port(), stream_of("ev1"), with_last_id(last));
    REQUIRE(again.status() == 200);
    std::vector<std::string> statuses;
    while (auto ev = again.next(1s)) {
      CHECK(ev->event == "sms");
      statuses.push_back(nlohmann::json::parse(ev->data)["status"]);
      last = ev->id;
    }
    CHECK(statuses == std::vector<std::string>{"sent", "delivered"});
  }
  // Nobody watches while the next change goes out: a page resuming from before it refetches.
  other.reset();
  s.seed_message("m2", std::string("SM00000000000000000000000000000c02"));
  std::this_thread::sleep_for(200ms); // the closed streams have left the hub
  REQUIRE(s.callback("SM00000000000000000000000000000c02", "sent").status == 200);
  {
    sse_client again(s.port(), stream_of("ev1"), with_last_id(last));
    auto ev = again.next();
    REQUIRE(ev);
    CHECK(ev->event == "resync");
    CHECK_FALSE(ev->id.empty());
    last = ev->id;
  }
  s.restart();
  sse_client after(s.port(), stream_of("ev1"), with_last_id(last));
  REQUIRE(after.status() == 200);
  auto ev = after.next();
  REQUIRE(ev);
  CHECK(ev->event == "resync");
}

TEST_CASE("the stream refuses callers as the other organizer endpoints do", "[integration][stream]") {
  running_smsd s(database_url_of("sqlite"));
  s.seed_event();
  sse_client none(s.port(), stream_of("ev1"));
  CHECK(none.status() == 401);
  sse_client bad(s.port(), stream_of("ev1"), {bearer("not-a-token")});
  CHECK(bad.status() == 401);
  sse_client missing(s.port(), stream_of("nope"), admin);
  CHECK(missing.status() == 404);
  sse_client bad_id(s.port(), stream_of("a%00b"), admin);
  CHECK(bad_id.status() == 400);
}

TEST_CASE("streams end when smsd stops", "[integration][stream]") {
  running_smsd s(database_url_of("sqlite"));
  s.seed_event();
  sse_client live(s.port(), stream_of("ev1"), admin);
  REQUIRE(live.status() == 200);
  const auto t0 = std::chrono::steady_clock::now();
  s.app->stop();
  CHECK(live.closed_within(3s));
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
}

TEST_CASE("a stream opened with an organizer token ends when the token expires; view is "
          "enough, a stranger or an empty grant opens none", "[integration][stream]") {
  auto cfg = test_config(database_url_of("sqlite"));
  cfg.jwt_secret = "stream-test-secret";
  running_smsd s(cfg);
  s.seed_event(); // owned by u1
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  // Accepted until exp + the leeway: this one for 2 more seconds (whole seconds).
  auto owner = sign_organizer_token("u1", cfg.jwt_secret,
                                    now - 60 + 2 - organizer_token_leeway_seconds, 60);
  auto stranger = sign_organizer_token("u2", cfg.jwt_secret, now, 60);
  auto viewer = sign_organizer_token("u3", cfg.jwt_secret, now, 60);
  auto no_grant = sign_organizer_token("u4", cfg.jwt_secret, now, 60);
  REQUIRE(owner);
  REQUIRE(stranger);
  REQUIRE(viewer);
  REQUIRE(no_grant);
  REQUIRE(s.db->upsert_organizer({"ev1", "u3", true, false}));
  REQUIRE(s.db->upsert_organizer({"ev1", "u4", false, false}));
  sse_client other(s.port(), stream_of("ev1"), {bearer(*stranger)});
  CHECK(other.status() == 404);
  sse_client empty(s.port(), stream_of("ev1"), {bearer(*no_grant)});
  CHECK(empty.status() == 404);
  sse_client view(s.port(), stream_of("ev1"), {bearer(*viewer)});
  CHECK(view.status() == 200); // view is enough
  sse_client live(s.port(), stream_of("ev1"), {bearer(*owner)});
  REQUIRE(live.status() == 200);
  const auto t0 = std::chrono::steady_clock::now();
  // The token stops being accepted in 1 to 2 s: the stream ends then, not at once, not later.
  CHECK_FALSE(live.closed_within(500ms));
  CHECK(live.closed_within(4s));
  const auto lasted = std::chrono::steady_clock::now() - t0;
  CHECK(lasted > 500ms);
  CHECK(lasted < 4s);
}

TEST_CASE("open streams and the events they got show in /metrics", "[integration][stream]") {
  running_smsd s(database_url_of("sqlite"));
  s.seed_event();
  const std::string sid = "SM00000000000000000000000000000d01";
  s.seed_message("m1", sid);
  auto scrape = [&](const std::string& name) {
    auto r = http_send(s.port(), {"GET", "/metrics", admin, "", ""});
    REQUIRE(r.status == 200);
    auto line = r.body.find("\n" + name + " ");
    REQUIRE(line != std::string::npos);
    return std::stod(r.body.substr(line + name.size() + 2));
  };
  const double events_before = scrape("smsd_event_stream_events_total");
  sse_client a(s.port(), stream_of("ev1"), admin);
  sse_client b(s.port(), stream_of("ev1"), admin);
  CHECK(scrape("smsd_event_streams") == 2);
  REQUIRE(s.callback(sid, "sent").status == 200);
  REQUIRE(a.next());
  REQUIRE(b.next());
  // Counted once each stream's write returned, which may be after its client read the event.
  CHECK(eventually([&] { return scrape("smsd_event_stream_events_total") == events_before + 2; }));
  a.close();
  b.close();
  CHECK(eventually([&] { return scrape("smsd_event_streams") == 0; }));
}

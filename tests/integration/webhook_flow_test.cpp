// Signed callbacks through the real server (real HTTP, actors, group commit) into real SQLite
// and PostgreSQL databases: out of order, duplicated, early, orphaned, across restarts.
#include "tests/integration/integration_support.hpp"

using namespace smsd;
using namespace smsd::test;

TEST_CASE("out-of-order callbacks end in the right state", "[integration][webhook]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  SECTION(dialect) {
    running_smsd s(database_url_of(dialect));
    s.seed_event();
    s.seed_message("m1", std::string("SM00000000000000000000000000000001"));
    const std::string sid = "SM00000000000000000000000000000001";
    for (auto status : {"delivered", "sent", "queued"}) {
      auto r = s.callback(sid, status);
      REQUIRE(r.status == 200);
      CHECK(r.json() == nlohmann::json{{"success", true}});
    }
    auto m = s.message("m1");
    REQUIRE(m);
    CHECK(m->state.status == "delivered");
    CHECK(m->state.provider_status == std::string("delivered"));
    REQUIRE(m->state.sent_at);
    CHECK(m->state.sent_at == m->state.delivered_at); // delivered came first: both at once
    auto raw = nlohmann::json::parse(*m->state.raw_payload);
    CHECK(raw["MessageStatus"] == "delivered");
    CHECK(raw["To"] == "+15551234567");
    auto evs = s.events("m1");
    REQUIRE(evs.size() == 3);
    CHECK(evs[0].disposition == "applied");
    CHECK(evs[1].disposition == "stale");
    CHECK(evs[2].disposition == "stale");
  }
}

TEST_CASE("an undelivered callback records its error, and later callbacks keep it",
          "[integration][webhook]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  SECTION(dialect) {
    running_smsd s(database_url_of(dialect));
    s.seed_event();
    const std::string sid = "SM00000000000000000000000000000002";
    s.seed_message("m2", sid);
    REQUIRE(s.callback(sid, "sent").status == 200);
    REQUIRE(s.callback(sid, "undelivered", "30003").status == 200);
    REQUIRE(s.callback(sid, "undelivered").status == 200);
    REQUIRE(s.callback(sid, "delivered").status == 200); // a different final: an anomaly
    auto m = s.message("m2");
    CHECK(m->state.status == "undelivered");
    CHECK(m->state.error_code == std::string("30003"));
    CHECK(m->state.error_message == std::string("Unreachable handset"));
    CHECK_FALSE(m->state.delivered_at);
    auto evs = s.events("m2");
    REQUIRE(evs.size() == 4);
    CHECK(evs[2].disposition == "duplicate");
    CHECK(evs[3].disposition == "anomaly");
  }
}

TEST_CASE("duplicate callbacks change nothing and still get 200", "[integration][webhook]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  SECTION(dialect) {
    running_smsd s(database_url_of(dialect));
    s.seed_event();
    const std::string sid = "SM00000000000000000000000000000003";
    s.seed_message("m3", sid);
    for (int i = 0; i < 3; ++i)
      REQUIRE(s.callback(sid, "sent").status == 200);
    // Twilio's retry of one delivery carries the same idempotency token.
    header_list token{{"I-Twilio-Idempotency-Token", "tok-delivered-1"}};
    for (int i = 0; i < 3; ++i)
      REQUIRE(s.callback(sid, "delivered", "", "", token).status == 200);
    auto before = s.message("m3");
    REQUIRE(s.callback(sid, "delivered").status == 200); // same status, no token
    auto after = s.message("m3");
    CHECK(after->state.status == "delivered");
    CHECK(after->state.status_updated_at == before->state.status_updated_at);
    CHECK(after->state.delivered_at == before->state.delivered_at);
    auto evs = s.events("m3");
    REQUIRE(evs.size() == 3); // sent once, the token once, the tokenless delivered once
    CHECK(evs[0].disposition == "applied");
    CHECK(evs[1].disposition == "applied");
    CHECK(evs[1].dedup_key == "token:tok-delivered-1");
    CHECK(evs[2].disposition == "duplicate");
  }
}

TEST_CASE("a callback before its row is kept and applied when the row appears",
          "[integration][webhook]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  SECTION(dialect) {
    running_smsd s(database_url_of(dialect));
    s.seed_event();
    const std::string sid = "SM00000000000000000000000000000004";
    REQUIRE(s.callback(sid, "delivered").status == 200);
    auto pending = s.db->pending_events(sid);
    REQUIRE(pending);
    REQUIRE(pending->size() == 1);
    s.seed_message("m4", sid);
    REQUIRE(eventually([&] { return s.message("m4")->state.status == "delivered"; }));
    auto evs = s.events("m4");
    REQUIRE(evs.size() == 1);
    CHECK(evs[0].disposition == "applied");
    CHECK(evs[0].message_id == std::string("m4"));
  }
}

TEST_CASE("a callback kept before its row is applied after a restart", "[integration][webhook]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  SECTION(dialect) {
    running_smsd s(database_url_of(dialect));
    s.cfg.pending_sweep_ms = 3'600'000; // only the sweep at start can find it
    s.restart();
    s.seed_event();
    const std::string sid = "SM00000000000000000000000000000005";
    REQUIRE(s.callback(sid, "undelivered", "30007").status == 200);
    s.app.reset(); // stopped
    s.seed_message("m5", sid);
    s.start();
    REQUIRE(eventually([&] { return s.message("m5")->state.status == "undelivered"; }));
    CHECK(s.message("m5")->state.error_code == std::string("30007"));
  }
}

TEST_CASE("an early callback that carries our id attaches the SID", "[integration][webhook]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  SECTION(dialect) {
    running_smsd s(database_url_of(dialect));
    s.seed_event();
    s.seed_message("m6", std::nullopt); // the send request is still in flight
    const std::string sid = "SM00000000000000000000000000000006";
    REQUIRE(s.callback(sid, "sent", "", "m6").status == 200);
    auto m = s.message("m6");
    CHECK(m->message_sid == sid);
    CHECK(m->state.status == "sent");
    REQUIRE(s.callback(sid, "delivered").status == 200); // found by SID now
    CHECK(s.message("m6")->state.status == "delivered");
  }
}

TEST_CASE("a callback for a message whose attendee was deleted is acknowledged and recreates "
          "nothing",
          "[integration][webhook]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  SECTION(dialect) {
    running_smsd s(database_url_of(dialect));
    s.seed_event();
    const std::string sid = "SM00000000000000000000000000000007";
    s.seed_message("m7", sid);
    REQUIRE(s.callback(sid, "sent", "", "m7").status == 200);
    auto del = http_send(s.port(), {"DELETE", "/api/admin/events/ev1/attendees/at1",
                                    {bearer(admin_token)}, "", "", false});
    REQUIRE(del.status == 204);
    REQUIRE(s.callback(sid, "delivered", "", "m7").status == 200);
    CHECK_FALSE(s.message("m7"));
    auto att = s.db->find_attendee("ev1", "at1");
    REQUIRE(att);
    CHECK_FALSE(*att);
    // The same for an event deleted with everything in it.
    s.seed_event("ev2", "at2");
    const std::string sid2 = "SM00000000000000000000000000000008";
    s.seed_message("m8", sid2, "ev2", "at2");
    REQUIRE(http_send(s.port(), {"DELETE", "/api/admin/events/ev2", {bearer(admin_token)}, "", "",
                                 false})
              .status
            == 204);
    REQUIRE(s.callback(sid2, "delivered", "", "m8").status == 200);
    CHECK_FALSE(s.message("m8"));
    auto ev = s.db->find_event("ev2");
    REQUIRE(ev);
    CHECK_FALSE(*ev);
  }
}

TEST_CASE("a restart between callbacks loses nothing", "[integration][webhook]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  SECTION(dialect) {
    running_smsd s(database_url_of(dialect));
    s.seed_event();
    const std::string sid = "SM00000000000000000000000000000009";
    s.seed_message("m9", sid);
    REQUIRE(s.callback(sid, "sent").status == 200);
    auto sent_at = s.message("m9")->state.sent_at;
    REQUIRE(sent_at);
    s.restart();
    REQUIRE(s.callback(sid, "sent").status == 200); // a duplicate after the restart
    REQUIRE(s.callback(sid, "delivered").status == 200);
    auto m = s.message("m9");
    CHECK(m->state.status == "delivered");
    CHECK(m->state.sent_at == sent_at);
    CHECK(s.events("m9").size() == 2);
  }
}

TEST_CASE("a callback with a wrong or missing signature gets 403 and writes nothing",
          "[integration][webhook]") {
  running_smsd s(temp_sqlite_url());
  s.seed_event();
  const std::string sid = "SM0000000000000000000000000000000a";
  s.seed_message("ma", sid);
  std::string target = "/api/webhooks/twilio/status";
  auto params = status_params(sid, "delivered");
  auto good = sign_callback(auth_token, public_url, target, params);
  auto wrong_token = sign_callback("not-the-token", public_url, target, params);
  auto r1 = http_send(s.port(), {"POST", target, {{"X-Twilio-Signature", wrong_token.signature}},
                                 good.body, "application/x-www-form-urlencoded", false});
  CHECK(r1.status == 403);
  auto r2 = http_send(s.port(), {"POST", target, {}, good.body,
                                 "application/x-www-form-urlencoded", false});
  CHECK(r2.status == 403);
  // Signed for another message id in the query: the URL is part of what is signed.
  auto r3 = http_send(s.port(), {"POST", target + "?mid=ma", {{"X-Twilio-Signature", good.signature}},
                                 good.body, "application/x-www-form-urlencoded", false});
  CHECK(r3.status == 403);
  CHECK(s.message("ma")->state.status == "queued");
  CHECK(s.events("ma").empty());
}

TEST_CASE("an unknown Twilio status is logged and changes nothing", "[integration][webhook]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  SECTION(dialect) {
    running_smsd s(database_url_of(dialect));
    s.seed_event();
    const std::string sid = "SM0000000000000000000000000000000b";
    s.seed_message("mb", sid);
    REQUIRE(s.callback(sid, "sent").status == 200);
    auto before = s.message("mb");
    REQUIRE(s.callback(sid, "teleported").status == 200);
    auto after = s.message("mb");
    CHECK(after->state.status == "sent");
    CHECK(after->state.status_updated_at == before->state.status_updated_at);
    CHECK(after->state.raw_payload == before->state.raw_payload);
    auto evs = s.events("mb");
    REQUIRE(evs.size() == 2);
    CHECK(evs[1].provider_status == "teleported");
    CHECK(evs[1].disposition == "unknown_status");
    CHECK_FALSE(evs[1].applied);
  }
}

#include <catch2/catch.hpp>

#include "server_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

const header_list admin{bearer(test_admin_token)};

const char* event_body = R"({"name": "No Edges", "date": "2026-12-01T19:00:00Z", "ownerId": "u1"})";

std::string error_of(const http_reply& r) {
  return r.json().at("error").get<std::string>();
}

} // namespace

TEST_CASE("admin endpoints need the admin token", "[admin]") {
  server_fixture f{http_test_config(), server_fixture::database::migrated};
  auto c = f.client();
  auto r = c.put_json("/api/admin/events/e1", event_body);
  CHECK(r.status == 401);
  CHECK(r.json().at("error").is_string());
  CHECK(r.header("WWW-Authenticate").find("Bearer") == 0);
  CHECK(c.put_json("/api/admin/events/e1", event_body, {bearer("wrong")}).status == 401);
  CHECK(c.put_json("/api/admin/events/e1", event_body, {{"Authorization", test_admin_token}})
          .status == 401);
  CHECK(c.put_json("/api/admin/events/e1", event_body,
                   {{"Authorization", std::string("Basic ") + test_admin_token}})
          .status == 401);
  CHECK(c.del("/api/admin/events/e1").status == 401);
  CHECK(c.get("/api/admin/messages/m1").status == 401);
  CHECK(c.del("/api/admin/events/e1/attendees/a1", {bearer("x")}).status == 401);
  CHECK(c.put_json("/api/admin/events/e1/organizers/u2", R"({"permissions":[]})").status == 401);
  // Nothing was written.
  auto stored = f.direct->find_event("e1");
  REQUIRE(stored);
  CHECK_FALSE(*stored);
}

TEST_CASE("with no admin token configured, admin endpoints are closed", "[admin]") {
  auto cfg = http_test_config();
  cfg.admin_token.clear();
  server_fixture f{cfg, server_fixture::database::migrated};
  CHECK(f.client().put_json("/api/admin/events/e1", event_body, {bearer("")}).status == 401);
  CHECK(f.client().get("/api/admin/messages/m1", {{"Authorization", "Bearer "}}).status == 401);
}

TEST_CASE("PUT an event creates it (201) then updates it (200), "
          "DELETE removes it (204, then 404)",
          "[admin]") {
  server_fixture f{http_test_config(), server_fixture::database::migrated};
  auto c = f.client(true);
  auto r = c.put_json("/api/admin/events/e1", event_body, admin);
  REQUIRE(r.status == 201);
  auto j = r.json();
  CHECK(j.at("id") == "e1");
  CHECK(j.at("name") == "No Edges");
  CHECK(j.at("date") == "2026-12-01T19:00:00.000Z");
  CHECK(j.at("ownerId") == "u1");
  CHECK(j.at("createdAt").is_string());
  CHECK(j.at("updatedAt").is_string());

  r = c.put_json("/api/admin/events/e1",
                 R"({"name": "Edges", "date": "2026-12-02T01:00:00+02:00", "ownerId": "u9"})",
                 admin);
  REQUIRE(r.status == 200);
  CHECK(r.json().at("name") == "Edges");
  CHECK(r.json().at("date") == "2026-12-01T23:00:00.000Z");
  auto stored = f.direct->find_event("e1");
  REQUIRE(stored);
  REQUIRE(*stored);
  CHECK((*stored)->owner_id == "u9");

  r = c.del("/api/admin/events/e1", admin);
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  CHECK_FALSE(r.has_header("Content-Length"));
  CHECK_FALSE(r.has_header("Content-Type"));
  r = c.del("/api/admin/events/e1", admin);
  CHECK(r.status == 404);
  CHECK(r.json().at("error").is_string());
}

TEST_CASE("a bad event body is a 400 naming the field", "[admin]") {
  server_fixture f{http_test_config(), server_fixture::database::migrated};
  auto c = f.client(true);
  struct bad_case {
    const char* body;
    const char* mentions;
  };
  const bad_case cases[] = {
    {R"({"date": "2026-12-01T19:00:00Z", "ownerId": "u1"})", "name"},
    {R"({"name": "", "date": "2026-12-01T19:00:00Z", "ownerId": "u1"})", "name"},
    {R"({"name": 5, "date": "2026-12-01T19:00:00Z", "ownerId": "u1"})", "name"},
    {R"({"name": "A", "date": "next tuesday", "ownerId": "u1"})", "date"},
    {R"({"name": "A", "date": "2026-12-01T19:00:00", "ownerId": "u1"})", "date"},
    {R"({"name": "A", "date": 1764615600000, "ownerId": "u1"})", "date"},
    {R"({"name": "A", "date": "2026-12-01T19:00:00Z"})", "ownerId"},
    {R"({"name": "A", "date": "2026-12-01T19:00:00Z", "ownerId": null})", "ownerId"},
    {R"(["name", "A"])", "object"},
    {R"({"name": "A", )", "JSON"},
    {"", "JSON"},
  };
  for (const auto& bad : cases) {
    INFO(bad.body);
    auto r = c.put_json("/api/admin/events/e1", bad.body, admin);
    CHECK(r.status == 400);
    CHECK(error_of(r).find(bad.mentions) != std::string::npos);
  }
  auto r = c.put_json("/api/admin/events/" + std::string(200, 'x'), event_body, admin);
  CHECK(r.status == 400);
  CHECK(error_of(r).find("event id") != std::string::npos);
  auto stored = f.direct->find_event("e1");
  REQUIRE(stored);
  CHECK_FALSE(*stored);
}

TEST_CASE("attendees are upserted under their event and deleted", "[admin]") {
  server_fixture f{http_test_config(), server_fixture::database::migrated};
  auto c = f.client(true);
  const char* john = R"({"firstName": "John", "lastName": "Smith", "phone": "+15551234567"})";
  auto r = c.put_json("/api/admin/events/e1/attendees/a1", john, admin);
  CHECK(r.status == 404); // no such event yet
  CHECK(r.json().at("error").is_string());

  REQUIRE(c.put_json("/api/admin/events/e1", event_body, admin).status == 201);
  r = c.put_json("/api/admin/events/e1/attendees/a1", john, admin);
  REQUIRE(r.status == 201);
  auto j = r.json();
  CHECK(j.at("id") == "a1");
  CHECK(j.at("eventId") == "e1");
  CHECK(j.at("firstName") == "John");
  CHECK(j.at("lastName") == "Smith");
  CHECK(j.at("phone") == "+15551234567");

  r = c.put_json("/api/admin/events/e1/attendees/a1",
                 R"({"firstName": "Johnny", "lastName": null, "phone": null})", admin);
  REQUIRE(r.status == 200);
  CHECK(r.json().at("firstName") == "Johnny");
  CHECK(r.json().at("lastName").is_null());
  CHECK(r.json().at("phone").is_null());

  for (const char* bad : {R"({"lastName": "Smith"})", R"({"firstName": ""})",
                          R"({"firstName": ["J"]})", R"({"firstName": "J", "lastName": 3})",
                          R"({"firstName": "J", "phone": "call me"})",
                          R"({"firstName": "J", "phone": 15551234567})"}) {
    INFO(bad);
    r = c.put_json("/api/admin/events/e1/attendees/a1", bad, admin);
    CHECK(r.status == 400);
  }
  CHECK(error_of(c.put_json("/api/admin/events/e1/attendees/a1", R"({"firstName": " "})", admin))
          .find("firstName")
        != std::string::npos);
  CHECK(error_of(c.put_json("/api/admin/events/e1/attendees/a1",
                            R"({"firstName": "J", "phone": "call me"})", admin))
          .find("phone")
        != std::string::npos);

  CHECK(c.del("/api/admin/events/e1/attendees/a1", admin).status == 204);
  CHECK(c.del("/api/admin/events/e1/attendees/a1", admin).status == 404);
}

TEST_CASE("organizers are upserted with their permissions and deleted", "[admin]") {
  server_fixture f{http_test_config(), server_fixture::database::migrated};
  auto c = f.client(true);
  REQUIRE(c.put_json("/api/admin/events/e1", event_body, admin).status == 201);
  auto r = c.put_json("/api/admin/events/e1/organizers/u2",
                      R"({"permissions": ["view", "curate"]})", admin);
  REQUIRE(r.status == 201);
  CHECK(r.json() == nlohmann::json{{"eventId", "e1"},
                                   {"userId", "u2"},
                                   {"permissions", {"view", "curate"}}});
  r = c.put_json("/api/admin/events/e1/organizers/u2", R"({"permissions": ["view"]})", admin);
  REQUIRE(r.status == 200);
  CHECK(r.json().at("permissions") == nlohmann::json::array({"view"}));

  r = c.put_json("/api/admin/events/e1/organizers/u2", R"({"permissions": ["view", "admin"]})",
                 admin);
  CHECK(r.status == 400);
  CHECK(error_of(r).find("admin") != std::string::npos);
  for (const char* bad : {R"({})", R"({"permissions": "view"})", R"({"permissions": [1]})",
                          R"({"permissions": null})"}) {
    INFO(bad);
    r = c.put_json("/api/admin/events/e1/organizers/u2", bad, admin);
    CHECK(r.status == 400);
    CHECK(error_of(r).find("permissions") != std::string::npos);
  }
  CHECK(c.put_json("/api/admin/events/e9/organizers/u2", R"({"permissions": ["view"]})", admin)
          .status == 404);

  CHECK(c.del("/api/admin/events/e1/organizers/u2", admin).status == 204);
  CHECK(c.del("/api/admin/events/e1/organizers/u2", admin).status == 404);
}

TEST_CASE("GET a message shows it with its timeline, by id or by SID", "[admin]") {
  server_fixture f{http_test_config(), server_fixture::database::migrated};
  auto c = f.client(true);
  REQUIRE(c.put_json("/api/admin/events/e1", event_body, admin).status == 201);
  REQUIRE(c.put_json("/api/admin/events/e1/attendees/a1",
                     R"({"firstName": "John", "phone": "+15551234567"})", admin)
            .status
          == 201);

  CHECK(c.get("/api/admin/messages/msg_none", admin).status == 404);

  message_record m;
  m.id = "msg_1";
  m.message_sid = "SM1";
  m.to_phone = "+15551234567";
  m.from_phone = "+15005550006";
  m.body = "Your matches are ready";
  m.created_at = 1760000000000;
  m.event_id = "e1";
  m.attendee_id = "a1";
  m.notification_type = "match_reveal";
  m.state.status_updated_at = 1760000000000;
  REQUIRE_FALSE(f.direct->insert_message(m));

  message_update u;
  u.message_id = "msg_1";
  u.state = m.state;
  u.state.status = "undelivered";
  u.state.provider_status = "undelivered";
  u.state.status_rank = 4;
  u.state.error_code = "30003";
  u.state.error_message = "Unreachable destination handset";
  u.state.sent_at = 1760000001000;
  u.state.raw_payload = R"({"MessageSid":"SM1","MessageStatus":"undelivered","ErrorCode":"30003"})";
  u.state.status_updated_at = 1760000002000;
  status_event_record e;
  e.message_id = "msg_1";
  e.message_sid = "SM1";
  e.provider_status = "undelivered";
  e.error_code = "30003";
  e.source = "webhook";
  e.dedup_key = "webhook:SM1:undelivered";
  e.payload = *u.state.raw_payload;
  e.received_at = 1760000002000;
  e.applied = true;
  e.disposition = disposition::applied;
  write_op op;
  op.update = u;
  op.inserts.push_back(e);
  auto committed = f.direct->commit({op});
  REQUIRE(committed);

  for (const char* key : {"msg_1", "SM1"}) {
    INFO(key);
    auto r = c.get(std::string("/api/admin/messages/") + key, admin);
    REQUIRE(r.status == 200);
    auto j = r.json();
    const auto& msg = j.at("message");
    CHECK(msg.at("id") == "msg_1");
    CHECK(msg.at("messageSid") == "SM1");
    CHECK(msg.at("status") == "undelivered");
    CHECK(msg.at("providerStatus") == "undelivered");
    CHECK(msg.at("notificationType") == "match_reveal");
    CHECK(msg.at("body") == "Your matches are ready");
    CHECK(msg.at("createdAt") == "2025-10-09T08:53:20.000Z");
    CHECK(msg.at("sentAt") == "2025-10-09T08:53:21.000Z");
    CHECK(msg.at("deliveredAt").is_null());
    CHECK(msg.at("errorCode") == "30003");
    CHECK(msg.at("errorMessage") == "Unreachable destination handset");
    CHECK(msg.at("errorInfo").at("retryable") == true);
    CHECK(msg.at("eventId") == "e1");
    CHECK(msg.at("attendeeId") == "a1");
    CHECK(msg.at("toPhone") == "+15551234567");
    CHECK(msg.at("fromPhone") == "+15005550006");
    CHECK(msg.at("retryOfId").is_null());
    CHECK(msg.at("rawPayload").is_object());
    CHECK(msg.at("rawPayload").at("ErrorCode") == "30003");
    CHECK(msg.at("statusUpdatedAt") == "2025-10-09T08:53:22.000Z");
    const auto& events = j.at("events");
    REQUIRE(events.size() == 1);
    CHECK(events[0].at("providerStatus") == "undelivered");
    CHECK(events[0].at("errorCode") == "30003");
    CHECK(events[0].at("source") == "webhook");
    CHECK(events[0].at("receivedAt") == "2025-10-09T08:53:22.000Z");
    CHECK(events[0].at("applied") == true);
    CHECK(events[0].at("disposition") == "applied");
    CHECK(events[0].at("payload").is_object());
    CHECK(events[0].at("payload").at("MessageStatus") == "undelivered");
  }
}

TEST_CASE("readyz reports the migrations of a reachable database", "[admin][readyz]") {
  SECTION("migrated") {
    server_fixture f{http_test_config(), server_fixture::database::migrated};
    auto r = f.client().get("/readyz");
    REQUIRE(r.status == 200);
    auto j = r.json();
    CHECK(j.at("status") == "ready");
    CHECK(j.at("migrations").at("applied") == j.at("migrations").at("latest"));
    CHECK(j.at("migrations").at("latest").get<int>() > 0);
  }
  SECTION("not migrated") {
    server_fixture f{http_test_config(), server_fixture::database::unmigrated};
    auto r = f.client().get("/readyz");
    CHECK(r.status == 503);
    CHECK(r.json().at("error").is_string());
    CHECK(r.json().at("migrations").at("applied") == 0);
  }
}

TEST_CASE("ids over 128 bytes in the path of any admin endpoint are a 400", "[admin]") {
  server_fixture f{http_test_config(), server_fixture::database::migrated};
  auto c = f.client();
  const std::string id(129, 'x');
  for (const auto& target :
       {"/api/admin/events/" + id, "/api/admin/events/e1/attendees/" + id,
        "/api/admin/events/e1/organizers/" + id, "/api/admin/messages/" + id}) {
    INFO(target);
    auto r = target.rfind("/api/admin/messages/", 0) == 0 ? c.get(target, admin) : c.del(target, admin);
    CHECK(r.status == 400);
    CHECK_THAT(r.json().at("error").get<std::string>(), Catch::Contains("at most 128 bytes"));
  }
}

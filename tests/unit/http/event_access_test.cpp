// Who may act on an event (DESIGN §5): the role rules as a pure function, then the
// authorization matrix of the organizer endpoints over real HTTP, with the real sender on a real
// SQLite file and a fake Twilio that must see no create unless the answer is 200.
#include "http/event_access.hpp"


#include <catch2/catch.hpp>

#include "auth_matrix.hpp"
#include "sending_server.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

const std::string jwt_secret = "event-access-test-secret-0123456789";

struct access_fixture : sending_server {
  explicit access_fixture(std::string secret = jwt_secret)
    : sending_server([](store& db) { auth_world::seed(db); }, std::move(secret)) {}

  /// A valid organizer token for `user`, as an Authorization header.
  header_list as(const std::string& user) const {
    return {bearer(poco_token(cfg.jwt_secret, user, unix_now() + 3600))};
  }
};

std::string send_body(const std::string& event_id, const std::string& attendee_id) {
  return R"({"eventId":")" + event_id + R"(","attendeeId":")" + attendee_id
         + R"(","body":"Hello","notificationType":"invitation"})";
}

const std::string notify_body = R"({"notificationType":"event_reminder","body":"Hi {{firstName}}"})";

event_role role(bool owner, bool view, bool curate) {
  event_role r;
  r.owner = owner;
  r.can_view = view;
  r.can_curate = curate;
  return r;
}

} // namespace

TEST_CASE("the owner may do everything and curate implies view", "[event_access]") {
  using d = role_decision;
  const auto view = event_permission::view;
  const auto curate = event_permission::curate;
  CHECK(decide_role(role(true, false, false), view) == d::allowed);
  CHECK(decide_role(role(true, false, false), curate) == d::allowed);
  CHECK(decide_role(role(false, true, false), view) == d::allowed);
  CHECK(decide_role(role(false, true, false), curate) == d::forbidden);
  CHECK(decide_role(role(false, false, true), view) == d::allowed);
  CHECK(decide_role(role(false, false, true), curate) == d::allowed);
  CHECK(decide_role(role(false, true, true), curate) == d::allowed);
}

TEST_CASE("a role's permissions as the API shows them", "[event_access]") {
  auto owner = permissions_of(role(true, false, false));
  REQUIRE(owner);
  CHECK(std::string(owner->role) == "owner");
  CHECK((owner->view && owner->curate));
  auto viewer = permissions_of(role(false, true, false));
  REQUIRE(viewer);
  CHECK(std::string(viewer->role) == "organizer");
  CHECK((viewer->view && !viewer->curate));
  auto curator = permissions_of(role(false, false, true));
  REQUIRE(curator);
  CHECK((curator->view && curator->curate)); // curate implies view
  CHECK_FALSE(permissions_of(role(false, false, false)));
  const auto admin = admin_permissions();
  CHECK(std::string(admin.role) == "admin");
  CHECK((admin.view && admin.curate));
}

TEST_CASE("no role and no event look the same: hidden", "[event_access]") {
  CHECK(decide_role(role(false, false, false), event_permission::view) == role_decision::hidden);
  CHECK(decide_role(role(false, false, false), event_permission::curate) == role_decision::hidden);
  CHECK(decide_role(std::nullopt, event_permission::view) == role_decision::hidden);
  CHECK(decide_role(std::nullopt, event_permission::curate) == role_decision::hidden);
}

TEST_CASE("the authorization matrix of notify holds and only 200s send", "[event_access]") {
  access_fixture f;
  check_auth_matrix(
    f.server->port(), f.cfg.jwt_secret, f.cfg.admin_token,
    {"POST", [](const std::string& ev) { return "/api/events/" + ev + "/notify"; }, notify_body,
     event_permission::curate},
    [&] { return f.creates(); });
  // Three rows were allowed (owner, co-organizer with curate, admin), each texting atA1 once.
  CHECK(f.creates() == 3);
}

TEST_CASE("the authorization matrix of send holds and only 200s send", "[event_access]") {
  access_fixture f;
  check_auth_matrix(f.server->port(), f.cfg.jwt_secret, f.cfg.admin_token,
                    {"POST", [](const std::string&) { return std::string("/api/sms/send"); },
                     send_body(auth_world::event_a, auth_world::attendee_a),
                     event_permission::curate},
                    [&] { return f.creates(); });
  CHECK(f.creates() == 3); // owner, co-organizer with curate, admin
}

TEST_CASE("an attendee of event B named under event A never gets a text", "[event_access]") {
  access_fixture f;
  auto c = f.client();
  const auto owner_a = f.as(auth_world::owner_a);

  auto r = c.post_json("/api/sms/send", send_body(auth_world::event_a, auth_world::attendee_b),
                       owner_a);
  CHECK(r.status == 404);
  CHECK(r.json().at("error") == "Attendee not found");

  r = c.post_json("/api/events/" + auth_world::event_a + "/notify",
                  R"({"notificationType":"invitation","body":"x","attendeeIds":[")"
                    + auth_world::attendee_b + R"("]})",
                  owner_a);
  REQUIRE(r.status == 200);
  auto j = r.json();
  CHECK(j.at("sent") == 0);
  CHECK(j.at("skipped") == 1);
  CHECK(j.at("results")[0].at("error") == "Attendee not found in this event");

  // Naming B itself does not help: A's owner has no role there.
  r = c.post_json("/api/sms/send", send_body(auth_world::event_b, auth_world::attendee_b), owner_a);
  CHECK(r.status == 404);
  CHECK(r.json().at("error") == "Event not found");
  CHECK(f.creates() == 0);
}

TEST_CASE("an organizer cannot tell someone else's event from a missing one", "[event_access]") {
  access_fixture f;
  auto c = f.client();
  const auto owner_a = f.as(auth_world::owner_a);
  auto theirs = c.post_json("/api/events/" + auth_world::event_b + "/notify", notify_body, owner_a);
  auto missing = c.post_json("/api/events/no-such-event/notify", notify_body, owner_a);
  CHECK(theirs.status == 404);
  CHECK(missing.status == 404);
  CHECK(theirs.body == missing.body);
  CHECK(f.creates() == 0);
}

TEST_CASE("roles are read per request: a removed or demoted organizer loses access at once",
          "[event_access]") {
  access_fixture f;
  auto c = f.client();
  const auto target = "/api/events/" + auth_world::event_a + "/notify";
  const auto curator = f.as(auth_world::curator_a);
  CHECK(c.post_json(target, notify_body, curator).status == 200);
  REQUIRE(f.direct->upsert_organizer({auth_world::event_a, auth_world::curator_a, true, false}));
  CHECK(c.post_json(target, notify_body, curator).status == 403);
  REQUIRE(f.direct->delete_organizer(auth_world::event_a, auth_world::curator_a));
  CHECK(c.post_json(target, notify_body, curator).status == 404);
  // The event changes hands: the old owner is out, the new one in.
  REQUIRE(f.direct->upsert_event({auth_world::event_a, "Event A", 1'800'000'000'000,
                                  auth_world::owner_b, 0, 0}));
  CHECK(c.post_json(target, notify_body, f.as(auth_world::owner_a)).status == 404);
  CHECK(c.post_json(target, notify_body, f.as(auth_world::owner_b)).status == 200);
  CHECK(f.creates() == 2);
}

TEST_CASE("a 401 says Bearer, gives a short reason and never echoes the token", "[event_access]") {
  access_fixture f;
  auto c = f.client();
  const auto expired = poco_token(f.cfg.jwt_secret, auth_world::owner_a, unix_now() - 3600);
  auto r = c.post_json("/api/events/" + auth_world::event_a + "/notify", notify_body,
                       {bearer(expired)});
  CHECK(r.status == 401);
  CHECK(r.header("WWW-Authenticate") == "Bearer");
  CHECK(r.json().at("error") == "invalid or expired token");
  CHECK(r.body.find(expired.substr(0, 20)) == std::string::npos);
}

TEST_CASE("with no JWT secret organizer tokens get 401 and the admin token still works",
          "[event_access]") {
  access_fixture f{""};
  auto c = f.client();
  const auto target = "/api/events/" + auth_world::event_a + "/notify";
  // A token signed with the empty key, and one signed with the old secret.
  auto empty_key = hand_token(R"({"alg":"HS256"})",
                              R"({"sub":")" + auth_world::owner_a + R"(","exp":)"
                                + std::to_string(unix_now() + 3600) + "}",
                              "");
  CHECK(c.post_json(target, notify_body, {bearer(empty_key)}).status == 401);
  CHECK(c.post_json(target, notify_body,
                    {bearer(poco_token(jwt_secret, auth_world::owner_a, unix_now() + 3600))})
          .status
        == 401);
  CHECK(f.creates() == 0);
  CHECK(c.post_json(target, notify_body, {bearer(test_admin_token)}).status == 200);
  CHECK(f.creates() == 1);
}

TEST_CASE("a database that cannot be reached answers 503 for organizer tokens", "[event_access]") {
  spdlog::set_level(spdlog::level::off); // the pool logs the refused connection
  config cfg = http_test_config();
  cfg.jwt_secret = jwt_secret;
  // Nothing listens on port 1: the connection is refused at once.
  store_pool unreachable("postgresql://postgres@127.0.0.1:1/postgres", 1);
  handler_env env;
  env.cfg = &cfg;
  env.stores = &unreachable;
  request_context req;
  req.method = "POST";
  req.path = "/api/events/evA/notify";

  req.headers.set("Authorization",
              "Bearer " + poco_token(jwt_secret, auth_world::owner_a, unix_now() + 3600));
  auto organizer = authorize_event(env, req, "evA", event_permission::curate);
  REQUIRE(organizer.denied);
  CHECK(organizer.denied->status == 503);

  // The admin token needs no lookup; the caller is named for the handler's log.
  req.headers.set("Authorization", std::string("Bearer ") + test_admin_token);
  auto admin = authorize_event(env, req, "evA", event_permission::curate);
  CHECK_FALSE(admin.denied);
  CHECK(admin.caller.is_admin);
  CHECK(to_string(admin.caller) == "admin");
  spdlog::set_level(spdlog::level::warn);
}

TEST_CASE("an allowed organizer is named by its user id", "[event_access]") {
  access_fixture f;
  handler_env env;
  env.cfg = &f.cfg;
  env.stores = f.stores.get();
  request_context req;
  req.headers.set("Authorization", f.as(auth_world::viewer_a).at(0).second);
  auto view = authorize_event(env, req, auth_world::event_a, event_permission::view);
  REQUIRE_FALSE(view.denied);
  CHECK_FALSE(view.caller.is_admin);
  CHECK(view.caller.user_id == auth_world::viewer_a);
  CHECK(to_string(view.caller) == "user " + auth_world::viewer_a);
  auto curate = authorize_event(env, req, auth_world::event_a, event_permission::curate);
  REQUIRE(curate.denied);
  CHECK(curate.denied->status == 403);
}

// -- the organizer read and retry endpoints ---------------------------------------------------------

namespace {

/// A failed message of attendee atA1 (event A) and one of atB1 (event B), to read and retry.
void seed_failures(store& db) {
  auto failed = [&](const std::string& id, const std::string& event, const std::string& attendee) {
    message_record m;
    m.id = id;
    m.message_sid = "SM" + id;
    m.to_phone = "+15551230000";
    m.body = "Hello";
    m.created_at = 1'000;
    m.event_id = event;
    m.attendee_id = attendee;
    m.notification_type = "invitation";
    m.state.status = "undelivered";
    m.state.status_rank = 4;
    m.state.error_code = "30003";
    m.state.status_updated_at = 1'000;
    REQUIRE_FALSE(db.insert_message(m));
  };
  failed("mA", auth_world::event_a, auth_world::attendee_a);
  failed("mB", auth_world::event_b, auth_world::attendee_b);
}

} // namespace

TEST_CASE("the authorization matrix of the organizer reads holds", "[event_access]") {
  access_fixture f;
  seed_failures(*f.direct);
  const std::vector<auth_endpoint> reads = {
    {"GET",
     [](const std::string& ev) {
       return "/api/events/" + ev + "/attendees/" + auth_world::attendee_a + "/sms-history";
     },
     "", event_permission::view},
    {"GET", [](const std::string& ev) { return "/api/events/" + ev + "/sms-summary"; }, "",
     event_permission::view},
    {"GET", [](const std::string& ev) { return "/api/events/" + ev + "/attendees/sms-status"; },
     "", event_permission::view},
    {"GET", [](const std::string& ev) { return "/api/events/" + ev; }, "", event_permission::view},
    {"GET",
     [](const std::string& ev) {
       return "/api/events/" + ev + "/attendees/" + auth_world::attendee_a + "/messages/mA/timeline";
     },
     "", event_permission::view},
  };
  for (const auto& ep : reads)
    check_auth_matrix(f.server->port(), f.cfg.jwt_secret, f.cfg.admin_token, ep);
}

TEST_CASE("the authorization matrix of the retryAll dry run holds and it never sends",
          "[event_access]") {
  access_fixture f;
  seed_failures(*f.direct);
  check_auth_matrix(f.server->port(), f.cfg.jwt_secret, f.cfg.admin_token,
                    {"POST",
                     [](const std::string& ev) {
                       return "/api/events/" + ev + "/attendees/" + auth_world::attendee_a
                              + "/sms-retry";
                     },
                     R"({"retryAll": true, "dryRun": true})", event_permission::curate},
                    [&] { return f.creates(); });
  CHECK(f.creates() == 0); // three callers were allowed; none sent
}

TEST_CASE("the event list answers every valid token, with what it may view, and 401 the rest",
          "[event_access]") {
  access_fixture f;
  http_test_client client(f.server->port(), false);
  // Who sees event A in the list: exactly the callers who may view it.
  for (const auto& row : auth_rows(f.cfg.jwt_secret, f.cfg.admin_token)) {
    INFO("GET /api/events as " << row.who);
    http_request_spec spec;
    spec.target = "/api/events";
    if (row.authorization)
      spec.headers.emplace_back("Authorization", *row.authorization);
    const auto r = client.send(spec);
    if (row.status_for_view == 401) {
      CHECK(r.status == 401);
      CHECK(r.header("WWW-Authenticate") == "Bearer");
      continue;
    }
    REQUIRE(r.status == 200);
    bool lists_a = false;
    const auto listed = r.json();
    for (const auto& e : listed.at("events"))
      lists_a = lists_a || e.at("id") == auth_world::event_a;
    CHECK(lists_a == (row.status_for_view == 200));
  }
}

TEST_CASE("the authorization matrix of retry holds and only 200s send", "[event_access]") {
  access_fixture f;
  seed_failures(*f.direct);
  check_auth_matrix(f.server->port(), f.cfg.jwt_secret, f.cfg.admin_token,
                    {"POST",
                     [](const std::string& ev) {
                       return "/api/events/" + ev + "/attendees/" + auth_world::attendee_a
                              + "/sms-retry";
                     },
                     R"({"retryAll": true})", event_permission::curate},
                    [&] { return f.creates(); });
  // The first allowed caller retried mA; the later ones found it already retried.
  CHECK(f.creates() == 1);
}

TEST_CASE("ids of another event never leak or act through the organizer endpoints",
          "[event_access]") {
  access_fixture f;
  seed_failures(*f.direct);
  auto c = f.client();
  const auto owner_a = f.as(auth_world::owner_a);
  // atB1 and mB belong to event B: named under event A, they are not found.
  auto h = c.get("/api/events/evA/attendees/atB1/sms-history", owner_a);
  CHECK(h.status == 404);
  CHECK(h.json().at("error") == "Attendee not found");
  auto r = c.post_json("/api/events/evA/attendees/atB1/sms-retry", R"({"retryAll": true})", owner_a);
  CHECK(r.status == 404);
  r = c.post_json("/api/events/evA/attendees/atA1/sms-retry", R"({"messageId": "mB"})", owner_a);
  CHECK(r.status == 404);
  CHECK(r.json().at("error") == "Message not found");
  CHECK(f.creates() == 0);
  // Event A's history holds only its own message.
  auto mine = c.get("/api/events/evA/attendees/atA1/sms-history", owner_a);
  REQUIRE(mine.status == 200);
  REQUIRE(mine.json().at("messages").size() == 1);
  CHECK(mine.json().at("messages")[0].at("id") == "mA");
  // The summary of A counts A's message only.
  auto sum = c.get("/api/events/evA/sms-summary", owner_a);
  REQUIRE(sum.status == 200);
  CHECK(sum.json().at("total") == 1);
  CHECK(sum.json().at("failedMessages")[0].at("id") == "mA");
}

#include <chrono>
#include <regex>
#include <set>

#include <Poco/Exception.h>
#include <catch2/catch.hpp>

#include "sim_fixture.hpp"

using namespace smsd;
using namespace smsd::test;
using json = nlohmann::json;

namespace {

const std::regex sid_pattern("^SM[0-9a-f]{32}$");
const std::regex date_pattern(
  R"(^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$)");

std::set<std::string> keys_of(const json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items())
    out.insert(k);
  return out;
}

const std::set<std::string> message_keys = {
  "account_sid", "api_version",   "body",  "date_created", "date_sent",
  "date_updated", "direction",    "error_code", "error_message", "from",
  "messaging_service_sid", "num_media", "num_segments", "price", "price_unit",
  "sid", "status", "subresource_uris", "to", "uri"};

void check_twilio_error(const http_reply& r, int status, int code, const std::string& message) {
  INFO(r.body);
  CHECK(r.status == status);
  CHECK(r.header("Content-Type").find("application/json") == 0);
  const json j = r.json();
  CHECK(j == json{{"code", code},
                  {"message", message},
                  {"more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code)},
                  {"status", status}});
}

std::string today() {
  const auto t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string day_offset(int days) {
  const auto t = std::time(nullptr) + days * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

} // namespace

TEST_CASE("a create with a Messaging Service answers 201 with Twilio's full Message resource",
          "[twilio_sim]") {
  sim_fixture f;
  auto r = f.create({"+15551230100", "Your table is ready", "", "MG0123", ""});
  INFO(r.body);
  REQUIRE(r.status == 201);
  CHECK(r.header("Content-Type").find("application/json") == 0);
  const json m = r.json();
  CHECK(keys_of(m) == message_keys);
  const std::string sid = m.at("sid");
  CHECK(std::regex_match(sid, sid_pattern));
  CHECK(m.at("account_sid") == sim_account);
  CHECK(m.at("api_version") == "2010-04-01");
  CHECK(m.at("body") == "Your table is ready");
  CHECK(std::regex_match(m.at("date_created").get<std::string>(), date_pattern));
  CHECK(std::regex_match(m.at("date_updated").get<std::string>(), date_pattern));
  CHECK(m.at("date_sent").is_null());
  CHECK(m.at("direction") == "outbound-api");
  CHECK(m.at("error_code").is_null());
  CHECK(m.at("error_message").is_null());
  CHECK(m.at("from").is_null());
  CHECK(m.at("messaging_service_sid") == "MG0123");
  CHECK(m.at("num_media") == "0");
  CHECK(m.at("num_segments") == "1");
  CHECK(m.at("price").is_null());
  CHECK(m.at("price_unit") == "USD");
  CHECK(m.at("status") == "accepted");
  CHECK(m.at("to") == "+15551230100");
  const std::string base = std::string("/2010-04-01/Accounts/") + sim_account + "/Messages/" + sid;
  CHECK(m.at("uri") == base + ".json");
  CHECK(m.at("subresource_uris") == json{{"media", base + "/Media.json"}});
}

TEST_CASE("a create with From answers queued with that From and counts its segments",
          "[twilio_sim]") {
  sim_fixture f;
  auto r = f.create({"+15551230100", std::string(200, 'x'), "+15005550006", "", ""});
  REQUIRE(r.status == 201);
  const json m = r.json();
  CHECK(m.at("status") == "queued");
  CHECK(m.at("from") == "+15005550006");
  CHECK(m.at("messaging_service_sid").is_null());
  CHECK(m.at("num_segments") == "2");
}

TEST_CASE("REST requests without the account's Basic auth are answered 401 and change nothing",
          "[twilio_sim]") {
  sim_fixture f;
  const std::string body = create_body({"+15551230100", "hi", "+15005550006", "", ""});
  const std::string other_path = "/2010-04-01/Accounts/AC99999999999999999999999999999999/Messages.json";
  const std::vector<std::pair<std::string, header_list>> cases = {
    {sim_messages_path, {}},
    {sim_messages_path, {{"Authorization", basic_auth(sim_account, "wrong-token")}}},
    {sim_messages_path, {{"Authorization", basic_auth("AC0000", sim_token)}}},
    {sim_messages_path, {{"Authorization", "Bearer " + std::string(sim_token)}}},
    {sim_messages_path, {{"Authorization", "Basic !!!not-base64"}}},
    {other_path, sim_auth()},
  };
  for (const auto& [path, headers] : cases) {
    INFO(path);
    check_twilio_error(f.client().post_form(path, body, headers), 401, 20003, "Authenticate");
  }
  check_twilio_error(f.client().get(sim_messages_path), 401, 20003, "Authenticate");
  check_twilio_error(f.client().get(sim_message_path("SM0")),
                     401, 20003, "Authenticate");
  const json s = f.stats();
  CHECK(s.at("creates_received") == cases.size());
  CHECK(s.at("creates_rejected") == cases.size());
  CHECK(s.at("creates_accepted") == 0);
  CHECK(s.at("unauthorized") == cases.size() + 2);
  CHECK(f.messages().empty());
}

TEST_CASE("each magic To number of Twilio's test credentials is refused with its code",
          "[twilio_sim]") {
  sim_fixture f;
  struct magic {
    const char* to;
    int code;
    std::string message;
  };
  const std::vector<magic> cases = {
    {"+15005550001", 21211, "The 'To' number +15005550001 is not a valid phone number."},
    {"+15005550002", 21612,
     "The 'To' phone number: +15005550002, is not currently reachable using the 'From' phone "
     "number: +15005550006 via SMS."},
    {"+15005550003", 21408,
     "Permission to send an SMS has not been enabled for the region indicated by the 'To' "
     "number: +15005550003."},
    {"+15005550004", 21610, "Attempt to send to unsubscribed recipient"},
    {"+15005550009", 21614, "'To' number is not a valid mobile number"},
  };
  for (const auto& c : cases) {
    INFO(c.to);
    check_twilio_error(f.create({c.to, "hi", "+15005550006", "", ""}), 400, c.code, c.message);
  }
  CHECK(f.stats().at("creates_rejected") == cases.size());
  CHECK(f.stats().at("creates_accepted") == 0);
}

TEST_CASE("missing or malformed create fields get Twilio's validation codes", "[twilio_sim]") {
  sim_fixture f;
  check_twilio_error(f.create({"", "hi", "+15005550006", "", ""}), 400, 21604,
                     "A 'To' phone number is required.");
  check_twilio_error(f.create({"+15551230100", "", "+15005550006", "", ""}), 400, 21602,
                     "Message body is required.");
  check_twilio_error(f.create({"+15551230100", "hi", "", "", ""}), 400, 21603,
                     "A 'From' phone number is required.");
  check_twilio_error(f.create({"5551230100", "hi", "+15005550006", "", ""}), 400, 21211,
                     "The 'To' number 5551230100 is not a valid phone number.");
  check_twilio_error(f.create({"+1555", "hi", "+15005550006", "", ""}), 400, 21211,
                     "The 'To' number +1555 is not a valid phone number.");
  check_twilio_error(f.create({"+15551230100", "hi", "+15005550006", "", "not a url"}), 400,
                     21609, "The StatusCallback URL not a url is not a valid URL.");
  CHECK(f.stats().at("creates_rejected") == 6);
  CHECK(f.stats().at("creates_received") == 6);
}

TEST_CASE("create_failures refuse a To number with the configured code", "[twilio_sim]") {
  sim_fixture f(*sim::parse_behaviour(
    R"({"create_failures": {"+15551230000": 21610, "+15551230009": 30450}})"));
  check_twilio_error(f.create({"+15551230000", "hi", "+15005550006", "", ""}), 400, 21610,
                     "Attempt to send to unsubscribed recipient");
  check_twilio_error(f.create({"+15551230009", "hi", "", "MG0123", ""}), 400, 30450,
                     "Simulated error 30450");
  CHECK(f.create({"+15551230001", "hi", "+15005550006", "", ""}).status == 201);
}

TEST_CASE("a fetch shows the status the timeline has reached, with date_sent once sent",
          "[twilio_sim]") {
  sim_fixture f(*sim::parse_behaviour(R"({"callback_delays_ms": [20]})"));
  auto created = f.create({"+15551230100", "hi", "+15005550006", "", ""});
  REQUIRE(created.status == 201);
  const std::string sid = created.json().at("sid");
  json m;
  REQUIRE(eventually([&] {
    m = f.fetch(sid).json();
    return m.at("status") == "delivered";
  }));
  CHECK(keys_of(m) == message_keys);
  CHECK(std::regex_match(m.at("date_sent").get<std::string>(), date_pattern));
  CHECK(m.at("from") == "+15005550006");
  CHECK(f.stats().at("fetches").get<int>() >= 1);
}

TEST_CASE("a fetch of a message still waiting shows its first status", "[twilio_sim]") {
  sim_fixture f(*sim::parse_behaviour(R"({"callback_delays_ms": [60000]})"));
  const std::string sid =
    f.create({"+15551230100", "hi", "", "MG0123", ""}).json().at("sid");
  auto r = f.fetch(sid);
  REQUIRE(r.status == 200);
  CHECK(r.json().at("status") == "accepted");
  CHECK(r.json().at("from").is_null());
}

TEST_CASE("a fetch of an unknown sid answers 404 with Twilio's 20404 body", "[twilio_sim]") {
  sim_fixture f;
  const std::string sid = "SM00000000000000000000000000000000";
  check_twilio_error(f.fetch(sid), 404, 20404,
                     "The requested resource /2010-04-01/Accounts/" + std::string(sim_account)
                       + "/Messages/" + sid + ".json was not found");
}

TEST_CASE("a list answers Twilio's page shape newest first and next_page_uri leads to the end",
          "[twilio_sim]") {
  sim_fixture f(*sim::parse_behaviour(R"({"callback_delays_ms": [60000]})"));
  std::vector<std::string> sids;
  for (int i = 0; i < 5; ++i)
    sids.push_back(f.create({"+15551230100", "m" + std::to_string(i), "+15005550006", "", ""})
                     .json()
                     .at("sid"));
  f.create({"+15551230199", "other", "+15005550006", "", ""});
  auto r = f.list("To=%2B15551230100&PageSize=2");
  REQUIRE(r.status == 200);
  json page = r.json();
  INFO(page.dump());
  CHECK(keys_of(page)
        == std::set<std::string>{"messages", "end", "first_page_uri", "next_page_uri", "page",
                                 "page_size", "previous_page_uri", "start", "uri"});
  CHECK(page.at("page") == 0);
  CHECK(page.at("page_size") == 2);
  CHECK(page.at("start") == 0);
  CHECK(page.at("end") == 1);
  CHECK(page.at("previous_page_uri").is_null());
  CHECK(page.at("uri") == std::string(sim_messages_path) + "?To=%2B15551230100&PageSize=2&Page=0");
  CHECK(page.at("first_page_uri") == page.at("uri"));
  std::vector<std::string> seen;
  int pages = 1;
  for (;;) {
    for (const auto& m : page.at("messages")) {
      CHECK(keys_of(m) == message_keys);
      seen.push_back(m.at("sid"));
    }
    if (page.at("next_page_uri").is_null())
      break;
    auto next = f.client().get(page.at("next_page_uri").get<std::string>(), sim_auth());
    REQUIRE(next.status == 200);
    page = next.json();
    ++pages;
    CHECK_FALSE(page.at("previous_page_uri").is_null());
    REQUIRE(pages < 10);
  }
  CHECK(pages == 3);
  CHECK(page.at("page") == 2);
  CHECK(page.at("start") == 4);
  CHECK(page.at("end") == 4);
  CHECK(seen == std::vector<std::string>(sids.rbegin(), sids.rend()));
  CHECK(f.stats().at("lists") == 3);
}

TEST_CASE("a list filters by To and by whole UTC days of DateSent, unsent ones by date_created",
          "[twilio_sim]") {
  sim_fixture f(*sim::parse_behaviour(R"({"callback_delays_ms": [60000]})"));
  f.create({"+15551230100", "waiting", "+15005550006", "", ""});
  const auto count = [&](const std::string& query) {
    auto r = f.list(query);
    INFO(query << " -> " << r.body);
    REQUIRE(r.status == 200);
    return r.json().at("messages").size();
  };
  CHECK(count("") == 1);
  CHECK(count("DateSent%3E=" + today()) == 1);
  CHECK(count("DateSent>=" + today()) == 1);
  CHECK(count("DateSent=" + today()) == 1);
  CHECK(count("DateSent%3C=" + today()) == 1);
  CHECK(count("DateSent%3E=" + day_offset(1)) == 0);
  CHECK(count("DateSent%3C=" + day_offset(-1)) == 0);
  CHECK(count("DateSent%3E=" + day_offset(-1) + "&DateSent%3C=" + day_offset(1)) == 1);
  CHECK(count("To=%2B15551230100") == 1);
  CHECK(count("To=+15551230100") == 1); // an unencoded '+' is read as one
  CHECK(count("To=%2B15551230101") == 0);
  check_twilio_error(f.list("DateSent%3E=yesterday"), 400, 20001,
                     "Invalid DateSent> value: yesterday");
  CHECK(f.list("PageSize=0").status == 400);
  CHECK(f.list("PageSize=abc").status == 400);
  CHECK(f.list("Page=-1").status == 400);
}

TEST_CASE("rate_limit_share 1.0 answers 429 with Retry-After and creates nothing",
          "[twilio_sim]") {
  sim_fixture f(*sim::parse_behaviour(R"({"rate_limit_share": 1.0, "retry_after_s": 1})"));
  auto r = f.create({"+15551230100", "hi", "+15005550006", "", ""});
  check_twilio_error(r, 429, 20429, "Too Many Requests");
  CHECK(r.header("Retry-After") == "1");
  check_twilio_error(f.list(""), 429, 20429, "Too Many Requests");
  check_twilio_error(f.fetch("SM00000000000000000000000000000000"), 429, 20429,
                     "Too Many Requests");
  REQUIRE(f.configure({{"rate_limit_share", 1.0}}).status == 200);
  r = f.create({"+15551230100", "hi", "+15005550006", "", ""});
  CHECK(r.status == 429);
  CHECK_FALSE(r.has_header("Retry-After"));
  const json s = f.stats();
  CHECK(s.at("creates_received") == 2);
  CHECK(s.at("creates_accepted") == 0);
  CHECK(s.at("creates_rejected") == 0);
  CHECK(s.at("rate_limited") == 4);
  CHECK(s.at("creates_by_to").empty());
  CHECK(f.messages().empty());
}

TEST_CASE("drop_after_accept creates the message and closes the connection without an answer",
          "[twilio_sim]") {
  callback_receiver receiver;
  sim_fixture f(*sim::parse_behaviour(
    R"({"drop_after_accept": ["+15551230100"], "callback_delays_ms": [10]})"));
  auto client = f.client(true);
  CHECK_THROWS_AS(client.post_form(sim_messages_path,
                                   create_body({"+15551230100", "hi", "+15005550006", "",
                                                receiver.url("/cb")}),
                                   sim_auth()),
                  Poco::Exception);
  const json s = f.stats();
  CHECK(s.at("creates_received") == 1);
  CHECK(s.at("creates_accepted") == 1);
  CHECK(s.at("connections_dropped") == 1);
  CHECK(s.at("creates_by_to") == json{{"+15551230100", 1}});
  // Carried out all the same: listed, fetchable, and its callbacks come.
  auto listed = f.list("To=%2B15551230100").json().at("messages");
  REQUIRE(listed.size() == 1);
  CHECK(f.fetch(listed[0].at("sid")).status == 200);
  CHECK(receiver.wait_for(2));
  // Another To on the same client is answered.
  CHECK(client.post_form(sim_messages_path, create_body({"+15551230101", "hi", "+15005550006", "", ""}),
                         sim_auth())
          .status
        == 201);
}

TEST_CASE("response_delay_ms holds every REST answer that long", "[twilio_sim]") {
  sim_fixture f(*sim::parse_behaviour(R"({"response_delay_ms": 150})"));
  const auto start = std::chrono::steady_clock::now();
  auto r = f.create({"+15551230100", "hi", "+15005550006", "", ""});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(r.status == 201);
  CHECK(elapsed >= std::chrono::milliseconds(150));
  // The control endpoints answer at once.
  const auto start2 = std::chrono::steady_clock::now();
  f.stats();
  CHECK(std::chrono::steady_clock::now() - start2 < std::chrono::milliseconds(150));
}

TEST_CASE("the stats count every kind of create, fetch and list", "[twilio_sim]") {
  sim_fixture f(*sim::parse_behaviour(R"({"create_failures": {"+15551230000": 21610}})"));
  f.create({"+15551230100", "a", "+15005550006", "", ""});
  f.create({"+15551230100", "b", "+15005550006", "", ""});
  f.create({"+15551230101", "c", "", "MG0123", ""});
  f.create({"+15551230000", "d", "+15005550006", "", ""});
  f.create({"+15005550001", "e", "+15005550006", "", ""});
  f.list("");
  f.fetch("SM00000000000000000000000000000000");
  const json s = f.stats();
  CHECK(s.at("creates_received") == 5);
  CHECK(s.at("creates_accepted") == 3);
  CHECK(s.at("creates_rejected") == 2);
  CHECK(s.at("rate_limited") == 0);
  CHECK(s.at("connections_dropped") == 0);
  CHECK(s.at("fetches") == 1);
  CHECK(s.at("lists") == 1);
  CHECK(s.at("creates_by_to") == json{{"+15551230100", 2}, {"+15551230101", 1}});
  for (const char* key : {"callbacks_sent", "callbacks_failed", "callbacks_dropped",
                          "callbacks_pending", "callbacks_retried"})
    CHECK(s.at(key) == 0);
}

TEST_CASE("a body over 64 KiB is refused with 413 and creates nothing", "[twilio_sim]") {
  sim_fixture f;
  auto r = f.create({"+15551230100", std::string(70 * 1024, 'x'), "+15005550006", "", ""});
  CHECK(r.status == 413);
  CHECK(r.json().at("status") == 413);
  CHECK(f.stats().at("creates_received") == 0);
  CHECK(f.create({"+15551230100", std::string(60 * 1024, 'x'), "+15005550006", "", ""}).status
        == 201);
}

TEST_CASE("unknown paths answer 404 and wrong methods 405 with Twilio's error body",
          "[twilio_sim]") {
  sim_fixture f;
  check_twilio_error(f.client().get("/2010-04-01/Accounts/" + std::string(sim_account) + "/Calls.json",
                                    sim_auth()),
                     404, 20404,
                     "The requested resource /2010-04-01/Accounts/" + std::string(sim_account)
                       + "/Calls.json was not found");
  check_twilio_error(f.client().get("/nowhere"), 404, 20404,
                     "The requested resource /nowhere was not found");
  check_twilio_error(f.client().del(sim_messages_path, sim_auth()), 405, 20004,
                     "Method not allowed");
  CHECK(f.client().get("/_sim/nothing").status == 404);
  CHECK(f.client().del("/_sim/stats").status == 405);
}

TEST_CASE("malformed requests are answered and the simulator keeps serving", "[twilio_sim]") {
  sim_fixture f;
  CHECK(f.client().post_form(sim_messages_path, "To=%zz&Body=%", sim_auth()).status == 400);
  CHECK(f.client().post_form(sim_messages_path, "\xff\xfe&&&===", sim_auth()).status == 400);
  CHECK(f.list("To=%G0").status == 400);
  CHECK(f.client().get(std::string(sim_messages_path) + "?" + std::string(5000, '&'), sim_auth())
          .status
        == 200);
  CHECK(f.client().get(sim_message_path(""), sim_auth()).status
        == 404);
  CHECK(f.client().put_json("/_sim/config", std::string(10000, '[')).status == 400);
  CHECK(f.create({"+15551230100", "\xf0\x9f\x98", "+15005550006", "", ""}).status == 201);
  CHECK(f.stats().at("creates_accepted") == 1);
}

TEST_CASE("80 keep-alive connections are served at the same time", "[twilio_sim]") {
  sim_fixture f;
  std::vector<std::unique_ptr<http_test_client>> clients;
  for (int i = 0; i < 80; ++i) {
    clients.push_back(std::make_unique<http_test_client>(f.port(), true, "127.0.0.1", 3000));
    CHECK(clients.back()->get("/_sim/stats").status == 200);
  }
  // Each connection is still open and holds its thread; all of them answer again.
  int answered = 0;
  for (auto& c : clients)
    answered += c->get(sim_messages_path, sim_auth()).status == 200;
  CHECK(answered == 80);
  CHECK(f.stats().at("lists") == 80);
}

#include "twilio/rest_client.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/HTTPBasicCredentials.h>
#include <Poco/StringTokenizer.h>
#include <Poco/URI.h>
#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "common/log.hpp"
#include "tests/support/smsd_process.hpp"
#include "tests/support/stub_http_server.hpp"

using namespace smsd;
using namespace smsd::twilio;
using smsd::test::stub_http_server;
using smsd::test::stub_reply;
using smsd::test::stub_request;

namespace {

const std::string account_sid = "AC0123456789abcdef0123456789abcdef";
const std::string auth_token = "s3cret-auth-token";
const std::string messages_path = "/2010-04-01/Accounts/" + account_sid + "/Messages.json";

rest_client_config config_for(const std::string& base_url) {
  rest_client_config c;
  c.base_url = base_url;
  c.account_sid = account_sid;
  c.auth_token = auth_token;
  c.connect_timeout_ms = 2000;
  c.read_timeout_ms = 2000;
  c.max_attempts = 3;
  c.backoff_initial_ms = 1;
  c.backoff_max_ms = 5;
  return c;
}

std::string message_json(const std::string& sid, const std::string& status = "queued",
                         const std::string& to = "+15551234567") {
  return R"({"sid": ")" + sid + R"(", "account_sid": ")" + account_sid + R"(", "to": ")" + to
         + R"(", "from": "+15005550006", "body": "hi", "status": ")" + status
         + R"(", "error_code": null, "error_message": null, "num_segments": "1", "price": null,
            "date_created": "Thu, 30 Jul 2015 20:12:31 +0000", "date_sent": null,
            "date_updated": "Thu, 30 Jul 2015 20:12:31 +0000"})";
}

std::string page_json(const std::vector<std::string>& messages, const std::string& next) {
  std::string list;
  for (const auto& m : messages)
    list += (list.empty() ? "" : ",") + m;
  return R"({"messages": [)" + list + R"(], "page": 0, "page_size": 2, "next_page_uri": )"
         + (next.empty() ? std::string("null") : "\"" + next + "\"") + "}";
}

std::string twilio_error(int code, int status, const std::string& message) {
  return R"({"code": )" + std::to_string(code) + R"(, "message": ")" + message
         + R"(", "more_info": "https://www.twilio.com/docs/errors/)" + std::to_string(code)
         + R"(", "status": )" + std::to_string(status) + "}";
}

create_message_request a_create() {
  create_message_request r;
  r.to = "+15551234567";
  r.body = "Hello";
  r.messaging_service_sid = "MG0123456789abcdef0123456789abcdef";
  return r;
}

std::map<std::string, std::string> decode_form(const std::string& body) {
  std::map<std::string, std::string> out;
  Poco::StringTokenizer pairs(body, "&");
  for (const auto& pair : pairs) {
    auto eq = pair.find('=');
    std::string name, value;
    Poco::URI::decode(pair.substr(0, eq), name);
    Poco::URI::decode(eq == std::string::npos ? "" : pair.substr(eq + 1), value);
    out[name] = value;
  }
  return out;
}

std::vector<std::string> field_names(const std::string& body) {
  std::vector<std::string> out;
  Poco::StringTokenizer pairs(body, "&");
  for (const auto& pair : pairs)
    out.push_back(pair.substr(0, pair.find('=')));
  return out;
}

long long elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now()
                                                               - since)
    .count();
}

/// Sends spdlog's default logger to a string for the life of the object.
class captured_log {
public:
  captured_log() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text_);
    auto logger = std::make_shared<spdlog::logger>("captured", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~captured_log() { spdlog::set_default_logger(previous_); }
  std::string text() const { return text_.str(); }

private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream text_;
};

} // namespace

TEST_CASE("a create sends Basic auth and its form fields, percent-encoded", "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::json(201, message_json("SM1", "accepted"))});
  rest_client client(config_for(stub.base_url()));
  auto r = a_create();
  r.body = "Hello & welcome = 100% ✓ +more";
  r.from = "+15005550006"; // a Messaging Service wins: From stays out
  r.status_callback = "https://smsd.example.com/twilio/status?tenant=a b";

  auto result = client.create_message(r);

  REQUIRE(result.outcome == call_outcome::ok);
  auto seen = stub.requests();
  REQUIRE(seen.size() == 1);
  const auto& req = seen[0];
  CHECK(req.method == "POST");
  CHECK(req.target == messages_path);
  CHECK(req.header("Content-Type") == "application/x-www-form-urlencoded");
  auto auth = req.header("Authorization");
  REQUIRE(auth.rfind("Basic ", 0) == 0);
  Poco::Net::HTTPBasicCredentials credentials(auth.substr(6));
  CHECK(credentials.getUsername() == account_sid);
  CHECK(credentials.getPassword() == auth_token);
  CHECK(field_names(req.body)
        == std::vector<std::string>{"To", "Body", "MessagingServiceSid", "StatusCallback"});
  CHECK(req.body.find("To=%2B15551234567&") == 0);
  CHECK(req.body.find("%26") != std::string::npos);
  auto form = decode_form(req.body);
  CHECK(form["To"] == "+15551234567");
  CHECK(form["Body"] == "Hello & welcome = 100% ✓ +more");
  CHECK(form["MessagingServiceSid"] == "MG0123456789abcdef0123456789abcdef");
  CHECK(form["StatusCallback"] == "https://smsd.example.com/twilio/status?tenant=a b");
}

TEST_CASE("a create without a Messaging Service sends From", "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::json(201, message_json("SM1"))});
  rest_client client(config_for(stub.base_url()));
  auto r = a_create();
  r.messaging_service_sid.reset();
  r.from = "+15005550006";

  REQUIRE(client.create_message(r).outcome == call_outcome::ok);

  auto body = stub.requests().at(0).body;
  CHECK(field_names(body) == std::vector<std::string>{"To", "Body", "From"});
  CHECK(decode_form(body)["From"] == "+15005550006");
}

TEST_CASE("a create answered 201 is ok after one attempt, with the message as Twilio sent it",
          "[twilio][rest]") {
  stub_http_server stub;
  const auto body = message_json("SM0123456789abcdef0123456789abcdef", "accepted");
  stub.script({stub_reply::json(201, body)});
  rest_client client(config_for(stub.base_url()));

  auto result = client.create_message(a_create());

  REQUIRE(result.outcome == call_outcome::ok);
  CHECK(result.attempts == 1);
  REQUIRE(result.value);
  CHECK(result.value->sid == "SM0123456789abcdef0123456789abcdef");
  CHECK(result.value->status == "accepted");
  CHECK(result.value->raw_json == body);
  CHECK(result.value->date_created == parse_iso8601("2015-07-30T20:12:31Z"));
  CHECK_FALSE(result.error);
}

TEST_CASE("a create answered 429 is sent again and succeeds on the second attempt",
          "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::json(429, twilio_error(20429, 429, "Too Many Requests")),
               stub_reply::json(201, message_json("SM1"))});
  rest_client client(config_for(stub.base_url()));

  auto result = client.create_message(a_create());

  CHECK(result.outcome == call_outcome::ok);
  CHECK(result.attempts == 2);
  CHECK(stub.request_count() == 2);
}

TEST_CASE("Retry-After is waited out before the next attempt", "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::json(429, twilio_error(20429, 429, "Too Many Requests"),
                                {{"Retry-After", "1"}}),
               stub_reply::json(201, message_json("SM1"))});
  auto cfg = config_for(stub.base_url());
  cfg.backoff_max_ms = 5000;
  rest_client client(cfg);

  auto start = std::chrono::steady_clock::now();
  auto result = client.create_message(a_create());

  CHECK(result.outcome == call_outcome::ok);
  CHECK(result.attempts == 2);
  CHECK(elapsed_ms(start) >= 900);
}

TEST_CASE("a Retry-After longer than backoff_max_ms is cut to it", "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::json(503, "{}", {{"Retry-After", "3600"}}),
               stub_reply::json(200, message_json("SM1"))});
  auto cfg = config_for(stub.base_url());
  cfg.backoff_max_ms = 20;
  rest_client client(cfg);

  auto start = std::chrono::steady_clock::now();
  auto result = client.fetch_message("SM1");

  CHECK(result.outcome == call_outcome::ok);
  CHECK(elapsed_ms(start) < 10000);
}

TEST_CASE("5xx answers are retried until one succeeds", "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::json(500, twilio_error(20500, 500, "Internal Server Error")),
               stub_reply::text(502, "text/html", "<html><h1>502 Bad Gateway</h1></html>"),
               stub_reply::json(201, message_json("SM1"))});
  rest_client client(config_for(stub.base_url()));

  auto result = client.create_message(a_create());

  CHECK(result.outcome == call_outcome::ok);
  CHECK(result.attempts == 3);
  CHECK(stub.request_count() == 3);
}

TEST_CASE("a 400 with Twilio's error body is final: rejected with its code, message, more_info and status",
          "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::json(
    400, twilio_error(21211, 400, "The 'To' number +15005550001 is not a valid phone number."))});
  rest_client client(config_for(stub.base_url()));

  auto result = client.create_message(a_create());

  CHECK(result.outcome == call_outcome::rejected);
  CHECK(result.attempts == 1);
  REQUIRE(result.error);
  CHECK(result.error->http_status == 400);
  CHECK(result.error->code == 21211);
  CHECK(result.error->message == "The 'To' number +15005550001 is not a valid phone number.");
  CHECK(result.error->more_info == "https://www.twilio.com/docs/errors/21211");
  CHECK_FALSE(result.value);
  CHECK(stub.request_count() == 1);
}

TEST_CASE("a fetch answered 404 is final", "[twilio][rest]") {
  stub_http_server stub;
  stub.fallback(stub_reply::json(404, twilio_error(20404, 404, "The requested resource was not found")));
  rest_client client(config_for(stub.base_url()));

  auto result = client.fetch_message("SM404");

  CHECK(result.outcome == call_outcome::rejected);
  CHECK(result.attempts == 1);
  REQUIRE(result.error);
  CHECK(result.error->code == 20404);
  CHECK(result.error->http_status == 404);
}

TEST_CASE("when retries run out on 429 and 5xx the call is rejected with the last error body",
          "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::json(503, twilio_error(20503, 503, "first")),
               stub_reply::json(429, twilio_error(20429, 429, "second")),
               stub_reply::text(502, "text/html", "<html><body>502 Bad Gateway</body></html>")});
  rest_client client(config_for(stub.base_url()));

  auto result = client.create_message(a_create());

  CHECK(result.outcome == call_outcome::rejected);
  CHECK(result.attempts == 3);
  REQUIRE(result.error);
  CHECK(result.error->http_status == 502);
  CHECK_FALSE(result.error->code);
  CHECK(result.error->message == "502 Bad Gateway");
  CHECK(stub.request_count() == 3);
}

TEST_CASE("a refused connection is retried and ends unavailable after max_attempts",
          "[twilio][rest]") {
  auto cfg = config_for("http://127.0.0.1:" + std::to_string(smsd::test::free_port()));
  cfg.max_attempts = 4;
  rest_client client(cfg);

  auto result = client.create_message(a_create());

  CHECK(result.outcome == call_outcome::unavailable);
  CHECK(result.attempts == 4);
  CHECK_FALSE(result.detail.empty());
}

TEST_CASE("a create the server read and then dropped without answering is unknown and sent only once",
          "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::drop()});
  stub.fallback(stub_reply::json(201, message_json("SM2")));
  rest_client client(config_for(stub.base_url()));

  auto result = client.create_message(a_create());

  CHECK(result.outcome == call_outcome::unknown);
  CHECK(result.attempts == 1);
  CHECK_FALSE(result.value);
  CHECK(stub.request_count() == 1);
}

TEST_CASE("a create with no answer within the read timeout is unknown and sent only once",
          "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::hang()});
  stub.fallback(stub_reply::json(201, message_json("SM2")));
  auto cfg = config_for(stub.base_url());
  cfg.read_timeout_ms = 200;
  rest_client client(cfg);

  auto result = client.create_message(a_create());

  CHECK(result.outcome == call_outcome::unknown);
  CHECK(result.attempts == 1);
  CHECK(result.detail.find("200 ms") != std::string::npos);
  CHECK(stub.request_count() == 1);
}

TEST_CASE("a fetch with no answer within the read timeout is sent again", "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::hang(), stub_reply::json(200, message_json("SM1", "delivered"))});
  auto cfg = config_for(stub.base_url());
  cfg.read_timeout_ms = 200;
  rest_client client(cfg);

  auto result = client.fetch_message("SM1");

  REQUIRE(result.outcome == call_outcome::ok);
  CHECK(result.attempts == 2);
  CHECK(result.value->status == "delivered");
  CHECK(stub.request_count() == 2);
}

TEST_CASE("a fetch whose connection dropped without an answer is sent again", "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::drop(), stub_reply::drop(), stub_reply::json(200, message_json("SM1"))});
  rest_client client(config_for(stub.base_url()));

  auto result = client.fetch_message("SM1");

  CHECK(result.outcome == call_outcome::ok);
  CHECK(result.attempts == 3);
}

TEST_CASE("a fetch that never gets an answer ends unknown after max_attempts", "[twilio][rest]") {
  stub_http_server stub;
  stub.fallback(stub_reply::drop());
  rest_client client(config_for(stub.base_url()));

  auto result = client.fetch_message("SM1");

  CHECK(result.outcome == call_outcome::unknown);
  CHECK(result.attempts == 3);
  CHECK(stub.request_count() == 3);
}

TEST_CASE("a create answered 2xx with a body that is not a message is unknown, not sent again",
          "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::text(201, "text/html", "<html>created?</html>")});
  rest_client client(config_for(stub.base_url()));

  auto result = client.create_message(a_create());

  CHECK(result.outcome == call_outcome::unknown);
  CHECK(result.attempts == 1);
  CHECK(stub.request_count() == 1);
}

TEST_CASE("sequential calls share one kept-alive connection", "[twilio][rest]") {
  stub_http_server stub;
  stub.fallback(stub_reply::json(200, message_json("SM1")));
  rest_client client(config_for(stub.base_url()));

  for (int i = 0; i < 5; ++i)
    REQUIRE(client.fetch_message("SM1").outcome == call_outcome::ok);
  stub.script({stub_reply::json(201, message_json("SM2"))});
  REQUIRE(client.create_message(a_create()).outcome == call_outcome::ok);

  CHECK(stub.request_count() == 6);
  CHECK(stub.connections_accepted() == 1);
}

TEST_CASE("a kept-alive connection the server closed while idle is replaced before a create goes out",
          "[twilio][rest]") {
  stub_http_server stub;
  auto first = stub_reply::json(200, message_json("SM1"));
  first.close_after = true;
  stub.script({first, stub_reply::json(201, message_json("SM2"))});
  rest_client client(config_for(stub.base_url()));
  REQUIRE(client.fetch_message("SM1").outcome == call_outcome::ok);
  REQUIRE(stub.wait_until([&] { return stub.connections_closed() == 1; }));

  auto result = client.create_message(a_create());

  CHECK(result.outcome == call_outcome::ok);
  CHECK(result.attempts == 1);
  CHECK(stub.request_count() == 2);
  CHECK(stub.connections_accepted() == 2);
}

TEST_CASE("no more than max_concurrency requests are in flight at once", "[twilio][rest]") {
  stub_http_server stub;
  auto slow = stub_reply::json(200, message_json("SM1"));
  slow.delay_ms = 30;
  stub.fallback(slow);
  auto cfg = config_for(stub.base_url());
  cfg.max_concurrency = 3;
  rest_client client(cfg);

  std::atomic<int> ok{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 12; ++i)
    callers.emplace_back([&] {
      if (client.fetch_message("SM1").outcome == call_outcome::ok)
        ++ok;
    });
  for (auto& t : callers)
    t.join();

  CHECK(ok == 12);
  CHECK(stub.request_count() == 12);
  CHECK(stub.max_in_flight() <= 3);
  CHECK(stub.max_in_flight() >= 2);
  CHECK(stub.connections_accepted() <= 3);
}

TEST_CASE("a list filters by To and DateSent>=/<=, follows next_page_uri and combines the pages",
          "[twilio][rest]") {
  stub_http_server stub;
  const std::string next =
    messages_path + "?To=%2B15551234567&DateSent%3E=2024-03-05&PageSize=2&Page=1&PageToken=PA2";
  stub.handler([&](const stub_request& r) {
    if (r.query.find("PageToken=PA2") != std::string::npos)
      return stub_reply::json(200, page_json({message_json("SM3")}, ""));
    return stub_reply::json(200, page_json({message_json("SM1"), message_json("SM2")}, next));
  });
  rest_client client(config_for(stub.base_url()));
  list_messages_query q;
  q.to = "+15551234567";
  q.date_sent_after = parse_iso8601("2024-03-05T23:59:59Z");
  q.date_sent_before = parse_iso8601("2024-03-07T00:00:00Z");
  q.page_size = 2;

  auto result = client.list_messages(q);

  REQUIRE(result.outcome == call_outcome::ok);
  CHECK(result.attempts == 2);
  REQUIRE(result.value->size() == 3);
  CHECK(result.value->at(0).sid == "SM1");
  CHECK(result.value->at(2).sid == "SM3");
  CHECK(result.value->at(2).raw_json.find("\"SM3\"") != std::string::npos);
  auto seen = stub.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].method == "GET");
  CHECK(seen[0].path == messages_path);
  CHECK(seen[0].query
        == "To=%2B15551234567&DateSent%3E=2024-03-05&DateSent%3C=2024-03-07&PageSize=2");
  CHECK(seen[1].target == next);
  CHECK(seen[1].header("Authorization") == seen[0].header("Authorization"));
}

TEST_CASE("a list stops after max_pages", "[twilio][rest]") {
  stub_http_server stub;
  stub.fallback(stub_reply::json(
    200, page_json({message_json("SM1")}, messages_path + "?PageSize=1&PageToken=PAnext")));
  rest_client client(config_for(stub.base_url()));
  list_messages_query q;
  q.page_size = 1;
  q.max_pages = 3;

  auto result = client.list_messages(q);

  REQUIRE(result.outcome == call_outcome::ok);
  CHECK(result.value->size() == 3);
  CHECK(stub.request_count() == 3);
}

TEST_CASE("a list whose later page fails reports that failure, not a partial list",
          "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::json(200, page_json({message_json("SM1")}, messages_path + "?PageToken=PA2")),
               stub_reply::json(401, twilio_error(20003, 401, "Authenticate"))});
  rest_client client(config_for(stub.base_url()));

  auto result = client.list_messages({});

  CHECK(result.outcome == call_outcome::rejected);
  CHECK_FALSE(result.value);
  REQUIRE(result.error);
  CHECK(result.error->code == 20003);
  CHECK(result.attempts == 2);
  CHECK(result.detail.find("page 2") != std::string::npos);
}

TEST_CASE("a base_url with a path puts every request under it, page URIs included",
          "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::json(200, message_json("SM1")),
               stub_reply::json(200, page_json({message_json("SM1")}, messages_path + "?PageToken=PA2")),
               stub_reply::json(200, page_json({message_json("SM2")}, ""))});
  rest_client client(config_for(stub.base_url() + "/twilio/"));

  REQUIRE(client.fetch_message("SM1").outcome == call_outcome::ok);
  REQUIRE(client.list_messages({}).outcome == call_outcome::ok);

  auto seen = stub.requests();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].path == "/twilio/2010-04-01/Accounts/" + account_sid + "/Messages/SM1.json");
  CHECK(seen[1].path == "/twilio" + messages_path);
  CHECK(seen[2].target == "/twilio" + messages_path + "?PageToken=PA2");
}

TEST_CASE("the log never shows the auth token nor a whole phone number", "[twilio][rest]") {
  stub_http_server stub;
  stub.script({stub_reply::json(429, twilio_error(20429, 429, "Too Many Requests")),
               stub_reply::drop()});
  rest_client client(config_for(stub.base_url()));
  captured_log log;

  auto result = client.create_message(a_create());
  list_messages_query q;
  q.to = "+15551234567";
  client.list_messages(q);

  CHECK(result.outcome == call_outcome::unknown);
  auto text = log.text();
  CHECK_FALSE(text.empty());
  CHECK(text.find(auth_token) == std::string::npos);
  CHECK(text.find("+15551234567") == std::string::npos);
  CHECK(text.find(mask_phone("+15551234567")) != std::string::npos);
  CHECK(result.detail.find(auth_token) == std::string::npos);
}

TEST_CASE("a base_url that is not http or https is refused at construction", "[twilio][rest]") {
  CHECK_THROWS_AS(rest_client(config_for("ftp://127.0.0.1:21")), std::invalid_argument);
  CHECK_THROWS_AS(rest_client(config_for("http://")), std::invalid_argument);
}

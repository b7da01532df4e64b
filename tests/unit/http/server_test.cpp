#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>
#include <catch2/catch.hpp>

#include "server_fixture.hpp"
#include "tests/support/signed_callbacks.hpp"
#include "http/twilio_signature.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

// Sends raw bytes on a new connection and returns what comes back until the server closes
// (or "" if it reset the connection).
std::string raw_exchange(std::uint16_t port, const std::string& bytes) {
  Poco::Net::StreamSocket socket;
  socket.connect(Poco::Net::SocketAddress("127.0.0.1", port), Poco::Timespan(5, 0));
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  std::string reply;
  try {
    socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
    socket.shutdownSend();
    char buf[4096];
    while (true) {
      const int n = socket.receiveBytes(buf, sizeof buf);
      if (n <= 0)
        break;
      reply.append(buf, static_cast<std::size_t>(n));
    }
  } catch (const Poco::Exception&) {
    // a reset after the answer: keep what arrived
  }
  return reply;
}

int status_of_raw(const std::string& reply) {
  // "HTTP/1.1 400 Bad Request"
  if (reply.size() < 12 || reply.compare(0, 5, "HTTP/") != 0)
    return 0;
  return std::stoi(reply.substr(9, 3));
}

} // namespace

TEST_CASE("livez answers without a database", "[server]") {
  server_fixture f;
  auto r = f.client().get("/livez");
  CHECK(r.status == 200);
  CHECK(r.json() == nlohmann::json{{"status", "ok"}});
  CHECK(r.header("Content-Type") == "application/json");
}

TEST_CASE("the server binds port 0 to a free port and stops cleanly", "[server]") {
  server_fixture a;
  server_fixture b;
  CHECK(a.port() != 0);
  CHECK(b.port() != 0);
  CHECK(a.port() != b.port());
  a.server->stop();
  a.server->stop(); // idempotent
  CHECK_THROWS_AS(a.client().get("/livez"), Poco::Exception);
  CHECK(b.client().get("/livez").status == 200);
}

TEST_CASE("a port already in use is a clear start error", "[server]") {
  server_fixture a;
  auto cfg = http_test_config();
  cfg.listen_port = a.port();
  fake_status_intake intake;
  http_server second{http_dependencies{&cfg, &intake, nullptr}};
  auto err = second.start();
  REQUIRE(err);
  CHECK(describe(err).find("cannot listen") != std::string::npos);
}

TEST_CASE("unknown paths are 404 and wrong methods 405, both as JSON errors", "[server]") {
  server_fixture f;
  auto r = f.client().get("/no/such/thing");
  CHECK(r.status == 404);
  CHECK(r.json().at("error").is_string());
  r = f.client().request("POST", "/livez", {}, "x=1", "application/x-www-form-urlencoded");
  CHECK(r.status == 405);
  CHECK(r.header("Allow") == "GET");
  CHECK(r.json().at("error").is_string());
  r = f.client().request("BREW", "/livez");
  CHECK(r.status == 405);
  r = f.client().request("BREW", "/coffee");
  CHECK(r.status == 404);
}

TEST_CASE("a keep-alive connection survives requests whose bodies no handler read", "[server]") {
  server_fixture f;
  auto c = f.client(true);
  CHECK(c.request("POST", "/nowhere", {}, std::string(5000, 'a'), "text/plain").status == 404);
  CHECK(c.request("POST", "/livez", {}, std::string(7000, 'b'), "text/plain").status == 405);
  auto r = c.get("/livez");
  CHECK(r.status == 200);
  CHECK(r.json().at("status") == "ok");
}

TEST_CASE("bodies over the cap are 413 for Content-Length and chunked alike", "[server]") {
  server_fixture f;
  const std::string big(f.cfg.max_body_bytes + 1, '[');
  auto headers = header_list{bearer(test_admin_token)};
  auto r = f.client().put_json("/api/admin/events/e1", big, headers);
  CHECK(r.status == 413);
  CHECK(r.json().at("error").is_string());
  CHECK(Poco::icompare(r.header("Connection"), std::string("close")) == 0);
  http_request_spec spec;
  spec.method = "PUT";
  spec.target = "/api/admin/events/e1";
  spec.headers = headers;
  spec.content_type = "application/json";
  spec.chunked = true;
  spec.body = big;
  r = http_send(f.port(), spec);
  CHECK(r.status == 413);
  CHECK(r.json().at("error").is_string());
  // Exactly the cap is fine as far as size goes (it is then malformed JSON: 400).
  r = f.client().put_json("/api/admin/events/e1", std::string(f.cfg.max_body_bytes, ' '), headers);
  CHECK(r.status == 400);
  CHECK(f.client().get("/livez").status == 200);
}

TEST_CASE("an oversized body announced with Expect: 100-continue is refused before it is sent",
          "[server]") {
  server_fixture f;
  const std::string reply =
    raw_exchange(f.port(), std::string("PUT /api/admin/events/e1 HTTP/1.1\r\nHost: x\r\n")
                             + "Authorization: Bearer " + test_admin_token + "\r\n"
                             + "Content-Type: application/json\r\n"
                             + "Content-Length: 10000000\r\nExpect: 100-continue\r\n\r\n");
  CHECK(status_of_raw(reply) == 413);
  CHECK(reply.find("100 Continue") == std::string::npos);
}

TEST_CASE("100000 nested arrays are a 400, and the server lives on", "[server]") {
  auto cfg = http_test_config();
  cfg.max_body_bytes = 1 << 20;
  server_fixture f{cfg};
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  auto r = f.client().put_json("/api/admin/events/e1", deep, {bearer(test_admin_token)});
  CHECK(r.status == 400);
  CHECK(r.json().at("error").get<std::string>().find("nested") != std::string::npos);
  std::string objects;
  for (int i = 0; i < 100000; ++i)
    objects += "{\"a\":";
  objects += "1" + std::string(100000, '}');
  r = f.client().put_json("/api/admin/events/e1", objects, {bearer(test_admin_token)});
  CHECK(r.status == 400);
  CHECK(f.client().get("/livez").status == 200);
}

TEST_CASE("oversized request headers get a 4xx and the server answers the next request",
          "[server]") {
  server_fixture f;
  SECTION("one huge header value") {
    http_request_spec spec;
    spec.target = "/livez";
    spec.headers = {{"X-Huge", std::string(20000, 'h')}};
    int status = 0;
    try {
      status = http_send(f.port(), spec).status;
    } catch (const Poco::Exception&) {
      // the server may close while we still send; check the raw exchange below instead
    }
    const std::string raw = "GET /livez HTTP/1.1\r\nHost: x\r\nX-Huge: " + std::string(20000, 'h')
                            + "\r\n\r\n";
    const int raw_status = status_of_raw(raw_exchange(f.port(), raw));
    CHECK(raw_status >= 400);
    CHECK(raw_status < 500);
    if (status != 0)
      CHECK(status == raw_status);
  }
  SECTION("too many header fields") {
    std::string raw = "GET /livez HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 200; ++i)
      raw += "X-Field-" + std::to_string(i) + ": v\r\n";
    raw += "\r\n";
    const int status = status_of_raw(raw_exchange(f.port(), raw));
    CHECK(status >= 400);
    CHECK(status < 500);
  }
  SECTION("a huge request line") {
    const std::string raw = "GET /" + std::string(100000, 'p') + " HTTP/1.1\r\nHost: x\r\n\r\n";
    const int status = status_of_raw(raw_exchange(f.port(), raw));
    CHECK(status >= 400);
    CHECK(status < 500);
  }
  auto r = f.client().get("/livez");
  CHECK(r.status == 200);
}

TEST_CASE("a request without a length has no body and is answered at once", "[server]") {
  server_fixture f;
  const std::string reply =
    raw_exchange(f.port(), "POST /api/webhooks/twilio/status HTTP/1.1\r\nHost: x\r\n"
                           "Connection: close\r\n\r\n");
  CHECK(status_of_raw(reply) == 403);
}

TEST_CASE("keep-alive connections hold no thread: many more than http_threads are served",
          "[server]") {
  auto cfg = http_test_config();
  cfg.http_threads = 2;
  server_fixture f{cfg};
  std::vector<std::unique_ptr<http_test_client>> held;
  for (int i = 0; i < 50; ++i) {
    held.push_back(std::make_unique<http_test_client>(f.port(), true));
    REQUIRE(held.back()->get("/livez").status == 200);
  }
  // All fifty connections stay open and keep being answered.
  for (auto& c : held)
    CHECK(c->get("/livez").status == 200);
}

TEST_CASE("beyond http_max_connections, the reserve answers health checks and 503s the rest; a "
          "freed slot is reused", "[server]") {
  auto cfg = http_test_config();
  cfg.http_max_connections = 4;
  server_fixture f{cfg};
  std::vector<std::unique_ptr<http_test_client>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<http_test_client>(f.port(), true));
    REQUIRE(held.back()->get("/livez").status == 200);
  }
  // A fifth connection is in the reserve: a health check is answered, then it closes.
  {
    http_test_client fifth(f.port(), false, "127.0.0.1", 5000);
    CHECK(fifth.get("/livez").status == 200);
  }
  {
    http_test_client fifth(f.port(), false, "127.0.0.1", 5000);
    auto r = fifth.get("/api/events");
    CHECK(r.status == 503);
    CHECK(r.json().at("error").get<std::string>().find("too many connections") != std::string::npos);
  }
  for (auto& c : held)
    CHECK(c->get("/livez").status == 200);
  // Closing one connection frees its slot for the next.
  held.front().reset();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    http_test_client next(f.port(), false, "127.0.0.1", 5000);
    served = next.get("/api/events").status == 401; // within the limit: the route answers
    if (!served)
      std::this_thread::sleep_for(std::chrono::milliseconds(20)); // the close is on its way
  }
  CHECK(served);
}

TEST_CASE("stop does not wait for callbacks the intake never answers", "[server]") {
  auto cfg = http_test_config();
  cfg.callback_ack_timeout_ms = 30000;
  server_fixture f{cfg};
  f.intake.set_answer(fake_status_intake::answer::never);
  form_params params{{"MessageSid", "SM1"}, {"MessageStatus", "sent"}};
  const std::string path = callback_path;
  auto pending = std::async(std::launch::async, [&] {
    try {
      return f.client().post_form(path, form_encode(params),
                                  {{"X-Twilio-Signature",
                                    twilio_signature(test_auth_token, test_public_url + path,
                                                     params)}})
        .status;
    } catch (const Poco::Exception&) {
      return 0; // the connection was shut down under the request: Twilio retries
    }
  });
  REQUIRE(f.intake.wait_for_count(1, std::chrono::seconds(10)));
  const auto started = std::chrono::steady_clock::now();
  f.server->stop();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  const int status = pending.get();
  CHECK((status == 503 || status == 0));
}

TEST_CASE("readyz is 503 without a database", "[server]") {
  server_fixture f;
  auto r = f.client().get("/readyz");
  CHECK(r.status == 503);
  CHECK(r.json().at("error").is_string());
}

#include "twilio/rest_client.hpp"

#include <string>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <catch2/catch.hpp>

#include "tests/support/stub_http_server.hpp"

using namespace smsd::twilio;
using smsd::test::self_signed_cert;
using smsd::test::stub_http_server;
using smsd::test::stub_reply;

namespace {

rest_client_config config_for(const std::string& base_url) {
  rest_client_config c;
  c.base_url = base_url;
  c.account_sid = "AC0123456789abcdef0123456789abcdef";
  c.auth_token = "token";
  c.connect_timeout_ms = 2000;
  c.read_timeout_ms = 2000;
  c.max_attempts = 3;
  c.backoff_initial_ms = 1;
  c.backoff_max_ms = 5;
  return c;
}

const std::string message = R"({"sid": "SM1", "status": "delivered"})";

} // namespace

TEST_CASE("https to a server whose self-signed certificate nobody trusts fails verification and sends nothing",
          "[twilio][rest][tls]") {
  self_signed_cert cert("IP:127.0.0.1");
  stub_http_server stub(cert.files());
  stub.fallback(stub_reply::json(200, message));
  rest_client client(config_for(stub.base_url()));

  auto result = client.fetch_message("SM1");

  CHECK(result.outcome == call_outcome::unavailable);
  CHECK(result.attempts == 1); // a certificate that fails verification is not retried
  CHECK(result.detail.find("TLS") != std::string::npos);
  CHECK(stub.request_count() == 0);
}

TEST_CASE("the same server is trusted once its certificate is given as ca_file, over one kept-alive connection",
          "[twilio][rest][tls]") {
  self_signed_cert cert("IP:127.0.0.1");
  stub_http_server stub(cert.files());
  stub.fallback(stub_reply::json(200, message));
  auto cfg = config_for(stub.base_url());
  cfg.ca_file = cert.cert_file();
  rest_client client(cfg);

  for (int i = 0; i < 3; ++i) {
    auto result = client.fetch_message("SM1");
    INFO(result.detail);
    REQUIRE(result.outcome == call_outcome::ok);
    CHECK(result.value->status == "delivered");
  }
  CHECK(stub.connections_accepted() == 1);
}

TEST_CASE("a trusted certificate issued for another host name is refused", "[twilio][rest][tls]") {
  self_signed_cert cert("DNS:api.example.invalid");
  stub_http_server stub(cert.files());
  stub.fallback(stub_reply::json(200, message));
  auto cfg = config_for(stub.base_url());
  cfg.ca_file = cert.cert_file();
  rest_client client(cfg);

  auto result = client.fetch_message("SM1");

  CHECK(result.outcome == call_outcome::unavailable);
  CHECK(stub.request_count() == 0);
}

TEST_CASE("https to a plain-HTTP port fails the handshake", "[twilio][rest][tls]") {
  stub_http_server plain;
  plain.fallback(stub_reply::json(200, message));
  auto url = plain.base_url();
  auto cfg = config_for("https" + url.substr(4));
  // The stub may take the ClientHello for the start of a request line and wait for more: then
  // the handshake times out instead of failing at once.
  cfg.connect_timeout_ms = 300;
  cfg.max_attempts = 2;
  rest_client client(cfg);

  auto result = client.fetch_message("SM1");

  CHECK(result.outcome == call_outcome::unavailable);
  // The stub may read the ClientHello as a garbled request; what matters is that no request of
  // ours, credentials and all, went out in the clear.
  for (const auto& r : plain.requests()) {
    CHECK(r.path.find("/2010-04-01/") == std::string::npos);
    CHECK(r.header("Authorization").empty());
  }
}

TEST_CASE("a TLS handshake the server never answers is a connect failure: a create is retried, "
          "not taken as sent",
          "[twilio][rest][tls]") {
  // Listening but never accepting: the kernel completes the TCP connect, nobody answers the
  // ClientHello.
  Poco::Net::ServerSocket silent(Poco::Net::SocketAddress("127.0.0.1", 0));
  auto cfg = config_for("https://127.0.0.1:" + std::to_string(silent.address().port()));
  cfg.connect_timeout_ms = 200;
  cfg.max_attempts = 2;
  rest_client client(cfg);
  create_message_request r;
  r.to = "+15551234567";
  r.body = "hi";

  auto result = client.create_message(r);

  CHECK(result.outcome == call_outcome::unavailable);
  CHECK(result.attempts == 2);
  CHECK(result.detail.find("handshake") != std::string::npos);
}

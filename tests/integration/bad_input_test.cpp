// Bad input gets a clear 4xx, changes nothing, and never takes the server down.
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "tests/integration/integration_support.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

const std::string webhook = "/api/webhooks/twilio/status";

// Sends raw bytes on a new connection and returns the status of the answer (0 if the server
// closed the connection without one).
int raw_status(std::uint16_t port, const std::string& bytes) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  std::size_t off = 0;
  while (off < bytes.size()) {
    auto n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      break;
    off += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) {
    reply.append(buf, static_cast<std::size_t>(n));
    if (reply.find("\r\n") != std::string::npos)
      break;
  }
  close(fd);
  if (reply.rfind("HTTP/1.", 0) != 0 || reply.size() < 12)
    return 0;
  return std::stoi(reply.substr(9, 3));
}

struct bad_input_fixture : running_smsd {
  bad_input_fixture() : running_smsd(temp_sqlite_url()) {
    seed_event();
    seed_message("m1", std::string("SMbad1"));
  }

  // The server still answers, and nothing was written.
  void check_unharmed() {
    CHECK(http_send(port(), {"GET", "/livez", {}, "", "", false}).status == 200);
    CHECK(message("m1")->state.status == "queued");
    CHECK(events("m1").empty());
    auto ev = db->find_event("ev1");
    REQUIRE(ev);
    REQUIRE(*ev);
    CHECK((*ev)->name == "No Edges");
  }

  http_reply signed_post(const std::string& body) {
    form_params none;
    auto parsed = parse_form(body);
    auto sig = sign_callback(auth_token, public_url, webhook, parsed ? *parsed : none).signature;
    return http_send(port(), {"POST", webhook, {{"X-Twilio-Signature", sig}}, body,
                              "application/x-www-form-urlencoded", false});
  }
};

} // namespace

TEST_CASE_METHOD(bad_input_fixture, "malformed callback forms get 400 and change nothing",
                 "[integration][bad_input]") {
  // Signed, but missing what a status needs.
  CHECK(signed_post("MessageSid=SMbad1").status == 400);
  CHECK(signed_post("MessageStatus=delivered").status == 400);
  CHECK(signed_post("").status == 400);
  // Bad percent-escapes cannot even be checked for a signature.
  for (auto body : {"MessageSid=SMbad1&MessageStatus=deliv%ZZered", "MessageSid=%",
                    "MessageSid=SMbad1&MessageStatus=%4"}) {
    INFO(body);
    auto r = http_send(port(), {"POST", webhook, {{"X-Twilio-Signature", "AAAA"}}, body,
                                "application/x-www-form-urlencoded", false});
    CHECK(r.status == 400);
    CHECK(r.json().contains("error"));
  }
  check_unharmed();
}

TEST_CASE_METHOD(bad_input_fixture, "oversized bodies get 413 and oversized headers a 4xx",
                 "[integration][bad_input]") {
  std::string big = "MessageSid=SMbad1&MessageStatus=delivered&Pad=" + std::string(70 * 1024, 'x');
  CHECK(signed_post(big).status == 413);
  // The same body chunked, with no Content-Length to refuse up front.
  auto chunked = http_send(port(), {"POST", webhook, {{"X-Twilio-Signature", "AAAA"}}, big,
                                    "application/x-www-form-urlencoded", true});
  CHECK(chunked.status == 413);
  // A declared length far beyond the cap is refused before the body is read.
  int declared = raw_status(port(), "POST " + webhook + " HTTP/1.1\r\nHost: x\r\n"
                                    "Content-Type: application/x-www-form-urlencoded\r\n"
                                    "X-Twilio-Signature: AAAA\r\n"
                                    "Content-Length: 1000000000\r\n\r\nMessageSid=");
  CHECK(declared == 413);
  // A header line of 1 MiB, and ten thousand headers.
  int long_header = raw_status(port(), "GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: "
                                         + std::string(1 << 20, 'a') + "\r\n\r\n");
  CHECK((long_header == 0 || (long_header >= 400 && long_header < 500)));
  std::string many = "GET /livez HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 10000; ++i)
    many += "X-H" + std::to_string(i) + ": v\r\n";
  int many_headers = raw_status(port(), many + "\r\n");
  CHECK((many_headers == 0 || (many_headers >= 400 && many_headers < 500)));
  // Garbage instead of HTTP.
  int garbage = raw_status(port(), std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
  CHECK((garbage == 0 || (garbage >= 400 && garbage < 500)));
  check_unharmed();
}

TEST_CASE_METHOD(bad_input_fixture, "deep, huge or ill-typed JSON on admin endpoints gets a 4xx "
                                    "and changes nothing",
                 "[integration][bad_input]") {
  auto admin = bearer(admin_token);
  std::string deep(30000, '['); // deep, yet under the body cap
  deep += std::string(30000, ']');
  auto r = http_send(port(), {"PUT", "/api/admin/events/ev1", {admin}, deep, "application/json", false});
  CHECK(r.status == 400);
  std::string deep_obj;
  for (int i = 0; i < 5000; ++i)
    deep_obj += "{\"a\":";
  deep_obj += "1" + std::string(5000, '}');
  CHECK(http_send(port(), {"PUT", "/api/admin/events/ev1", {admin}, deep_obj, "application/json", false})
          .status
        == 400);
  std::string huge = "{\"name\":\"" + std::string(200 * 1024, 'n') + "\",\"date\":\"2026-12-01\",\"ownerId\":\"u1\"}";
  CHECK(http_send(port(), {"PUT", "/api/admin/events/ev1", {admin}, huge, "application/json", false})
          .status
        == 413);
  for (auto body : {"{", "null", "[]", "{\"name\":1,\"date\":\"2026-12-01T19:00:00Z\",\"ownerId\":\"u1\"}",
                    "{\"name\":\"\",\"date\":\"2026-12-01T19:00:00Z\",\"ownerId\":\"u1\"}",
                    "{\"name\":\"X\",\"date\":\"someday\",\"ownerId\":\"u1\"}",
                    "{\"name\":\"X\",\"date\":\"2026-12-01T19:00:00Z\"}"}) {
    INFO(body);
    auto reply = http_send(port(), {"PUT", "/api/admin/events/ev1", {admin}, body, "application/json", false});
    CHECK(reply.status == 400);
    CHECK(reply.json().contains("error"));
  }
  for (auto body : {"{\"firstName\":\"\"}", "{\"firstName\":\"A\",\"phone\":5}", "{\"lastName\":\"B\"}"}) {
    INFO(body);
    CHECK(http_send(port(), {"PUT", "/api/admin/events/ev1/attendees/at1", {admin}, body,
                             "application/json", false})
            .status
          == 400);
  }
  CHECK(http_send(port(), {"PUT", "/api/admin/events/ev1/organizers/u2", {admin},
                           "{\"permissions\":[\"view\",\"fly\"]}", "application/json", false})
          .status
        == 400);
  check_unharmed();
  auto att = db->find_attendee("ev1", "at1");
  REQUIRE(att);
  CHECK((*att)->first_name == "John");
}

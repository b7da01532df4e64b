#include <string>

#include <catch2/catch.hpp>

#include "http/http_parser.hpp"

using namespace smsd;

namespace {

head_parse parse(const std::string& in, request_head& head, head_limits limits = {}) {
  return parse_head(in, limits, head);
}

body_framing framing(std::initializer_list<std::pair<const char*, const char*>> fields) {
  header_fields h;
  for (auto& [n, v] : fields)
    h.add(n, v);
  return framing_of(h);
}

} // namespace

TEST_CASE("a complete head is parsed, and what follows it is left alone", "[http_parser]") {
  request_head head;
  const std::string in = "POST /api/webhooks/twilio/status?mid=m1 HTTP/1.1\r\n"
                         "Host: example.test\r\n"
                         "X-Twilio-Signature:  abc= \r\n"
                         "x-twilio-signature: second\r\n"
                         "Content-Length: 3\r\n"
                         "\r\n"
                         "a=b";
  auto r = parse(in, head);
  REQUIRE(r.result == head_parse::state::complete);
  CHECK(r.consumed == in.size() - 3);
  CHECK(head.method == "POST");
  CHECK(head.target == "/api/webhooks/twilio/status?mid=m1");
  CHECK(head.minor_version == 1);
  CHECK(head.headers.size() == 4);
  // Names compare case-insensitively; the first of a repeated name wins; OWS is trimmed.
  REQUIRE(head.headers.find("X-TWILIO-SIGNATURE"));
  CHECK(*head.headers.find("X-TWILIO-SIGNATURE") == "abc=");
  CHECK_FALSE(head.headers.has("Content-Type"));
}

TEST_CASE("a head that has not fully arrived is incomplete at every cut", "[http_parser]") {
  const std::string in = "GET /livez HTTP/1.0\r\nHost: x\r\nAccept: */*\r\n\r\n";
  for (std::size_t cut = 0; cut < in.size(); ++cut) {
    request_head head;
    INFO("cut at " << cut);
    CHECK(parse(in.substr(0, cut), head).result == head_parse::state::incomplete);
  }
  request_head head;
  auto r = parse(in, head);
  REQUIRE(r.result == head_parse::state::complete);
  CHECK(head.minor_version == 0);
}

TEST_CASE("bare LF line ends and empty lines before the request line are accepted",
          "[http_parser]") {
  request_head head;
  auto r = parse("\r\n\nGET / HTTP/1.1\nHost: x\n\n", head);
  REQUIRE(r.result == head_parse::state::complete);
  CHECK(head.target == "/");
  CHECK(*head.headers.find("host") == "x");
}

TEST_CASE("malformed heads are refused with the right status", "[http_parser]") {
  struct bad_case {
    std::string in;
    int status;
  } cases[] = {
    {"GET /\r\n\r\n", 400},                              // no version
    {"GET  / HTTP/1.1\r\n\r\n", 400},                    // two spaces
    {"G(T / HTTP/1.1\r\n\r\n", 400},                     // not a token
    {"GET /a b HTTP/1.1\r\n\r\n", 400},                  // space in the target
    {std::string("GET /a\x01 HTTP/1.1\r\n\r\n"), 400},  // control character in the target
    {"GET / HTTP/1.x\r\n\r\n", 400},                     // bad version
    {"GET / HTTP/2.0\r\n\r\n", 505},                     // unsupported version
    {"GET / HTTP/1.1\r\nNo-Colon\r\n\r\n", 400},         // field without ':'
    {"GET / HTTP/1.1\r\nBad Name: v\r\n\r\n", 400},      // space in the name
    {"GET / HTTP/1.1\r\nName : v\r\n\r\n", 400},         // space before ':'
    {"GET / HTTP/1.1\r\nA: b\r\n  folded\r\n\r\n", 400}, // obsolete line folding
    {std::string("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n"), 400},
    {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15), 400}, // TLS
  };
  for (auto& c : cases) {
    request_head head;
    INFO(c.in);
    auto r = parse(c.in, head);
    REQUIRE(r.result == head_parse::state::invalid);
    CHECK(r.status == c.status);
    CHECK_FALSE(r.error.empty());
  }
}

TEST_CASE("oversized heads are refused as soon as the limit is passed", "[http_parser]") {
  head_limits limits;
  limits.max_request_line = 100;
  limits.max_field = 50;
  limits.max_head = 300;
  limits.max_fields = 3;
  request_head head;
  // A request line longer than its limit, complete or not.
  CHECK(parse("GET /" + std::string(200, 'a') + " HTTP/1.1\r\n\r\n", head, limits).status == 414);
  CHECK(parse("GET /" + std::string(200, 'a'), head, limits).status == 414);
  // One field line too long, complete or still arriving.
  CHECK(parse("GET / HTTP/1.1\r\nA: " + std::string(60, 'v') + "\r\n\r\n", head, limits).status
        == 431);
  CHECK(parse("GET / HTTP/1.1\r\nA: " + std::string(60, 'v'), head, limits).status == 431);
  // Too many fields.
  CHECK(parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", head, limits).status
        == 431);
  // The whole head too long, though each line is short.
  std::string many = "GET / HTTP/1.1\r\n";
  limits.max_fields = 1000;
  for (int i = 0; i < 40; ++i)
    many += "A" + std::to_string(i) + ": v\r\n";
  CHECK(parse(many, head, limits).status == 431);
  // At the limits exactly, fine.
  limits = head_limits{};
  limits.max_field = 50;
  std::string exact = "GET / HTTP/1.1\r\nA: " + std::string(47, 'v') + "\r\n\r\n";
  CHECK(parse(exact, head, limits).result == head_parse::state::complete);
}

TEST_CASE("Content-Length and Transfer-Encoding frame the body", "[http_parser]") {
  CHECK(framing({}).type == body_framing::kind::none);
  CHECK(framing({{"Content-Length", "0"}}).type == body_framing::kind::none);
  auto f = framing({{"content-length", "42"}});
  CHECK(f.type == body_framing::kind::length);
  CHECK(f.length == 42);
  CHECK(framing({{"Content-Length", "7, 7"}}).length == 7);
  CHECK(framing({{"Content-Length", "7"}, {"Content-Length", "7"}}).length == 7);
  CHECK(framing({{"Transfer-Encoding", "Chunked"}}).type == body_framing::kind::chunked);
  CHECK(framing({{"Transfer-Encoding", "gzip, chunked"}}).type == body_framing::kind::chunked);

  for (auto bad : {framing({{"Content-Length", "-1"}}), framing({{"Content-Length", "1e3"}}),
                   framing({{"Content-Length", ""}}), framing({{"Content-Length", "7, 8"}}),
                   framing({{"Content-Length", "7"}, {"Content-Length", "8"}}),
                   framing({{"Content-Length", "99999999999999999999"}}),
                   framing({{"Transfer-Encoding", "gzip"}}),
                   framing({{"Transfer-Encoding", "chunked, gzip"}}),
                   framing({{"Transfer-Encoding", ""}}),
                   framing({{"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}})}) {
    CHECK(bad.type == body_framing::kind::invalid);
    CHECK(bad.status == 400);
    CHECK_FALSE(bad.error.empty());
  }
}

TEST_CASE("a chunked body decodes whole or byte by byte alike", "[http_parser]") {
  const std::string body = "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  {
    chunked_decoder d;
    std::string out;
    std::size_t used = 0;
    CHECK(d.feed(body, used, out, 1000) == chunked_decoder::state::done);
    CHECK(out == "hello, world");
    CHECK(body.substr(used) == "NEXT");
  }
  // Fed one byte more each time, keeping what was not consumed, as the server does.
  chunked_decoder d;
  std::string out;
  std::string buffer;
  chunked_decoder::state s = chunked_decoder::state::more;
  std::size_t i = 0;
  for (; i < body.size() && s == chunked_decoder::state::more; ++i) {
    buffer += body[i];
    std::size_t used = 0;
    s = d.feed(buffer, used, out, 1000);
    buffer.erase(0, used);
  }
  CHECK(s == chunked_decoder::state::done);
  CHECK(out == "hello, world");
  CHECK(body.substr(i) == "NEXT");
}

TEST_CASE("a chunked body over the cap, or malformed, stops the decoder", "[http_parser]") {
  std::size_t used = 0;
  {
    chunked_decoder d;
    std::string out;
    CHECK(d.feed("8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n", used, out, 10)
          == chunked_decoder::state::too_large);
    CHECK(out.size() <= 10);
  }
  for (const char* bad : {"x\r\n", "5\r\nhelloX\r\n", "\r\n", "fffffffffffffffff\r\n"}) {
    chunked_decoder d;
    std::string out;
    INFO(bad);
    CHECK(d.feed(bad, used, out, 1 << 20) != chunked_decoder::state::done);
    CHECK(d.feed(bad, used, out, 1 << 20) != chunked_decoder::state::more);
  }
  // A size line that never ends is refused once it is implausibly long.
  chunked_decoder d;
  std::string out;
  CHECK(d.feed(std::string(5000, '1'), used, out, 1 << 20) == chunked_decoder::state::invalid);
}

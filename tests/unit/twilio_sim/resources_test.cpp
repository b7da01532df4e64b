#include <catch2/catch.hpp>

#include "twilio_sim/resources.hpp"

using namespace smsd;
using namespace smsd::sim;

TEST_CASE("dates are written as Twilio writes them", "[twilio_sim]") {
  CHECK(format_rfc2822(1438287153000) == "Thu, 30 Jul 2015 20:12:33 +0000");
  CHECK(format_rfc2822(1438287153999) == "Thu, 30 Jul 2015 20:12:33 +0000");
  CHECK(format_rfc2822(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
  CHECK(format_dlr_date(1438287153000) == "1507302012");
}

TEST_CASE("num_segments counts GSM-7 and UCS-2 bodies as carriers do", "[twilio_sim]") {
  CHECK(count_segments("") == 1);
  CHECK(count_segments(std::string(160, 'a')) == 1);
  CHECK(count_segments(std::string(161, 'a')) == 2);
  CHECK(count_segments(std::string(306, 'a')) == 2);
  CHECK(count_segments(std::string(307, 'a')) == 3);
  std::string euros;
  for (int i = 0; i < 80; ++i)
    euros += "€"; // an extension character: two septets each
  CHECK(count_segments(euros) == 1);
  CHECK(count_segments(euros + "a") == 2);
  CHECK(count_segments("Café à Zürich, ÆØÅ") == 1); // all in the GSM-7 basic set
  std::string cyrillic;
  for (int i = 0; i < 70; ++i)
    cyrillic += "ж";
  CHECK(count_segments(cyrillic) == 1);
  CHECK(count_segments(cyrillic + "ж") == 2);
  std::string long_cyrillic;
  for (int i = 0; i < 135; ++i)
    long_cyrillic += "ж";
  CHECK(count_segments(long_cyrillic) == 3);
  CHECK(count_segments(std::string(100, 'a') + "😀") == 2); // one UCS-2 character switches it all
}

TEST_CASE("a To number is E.164 when it is + and 8 to 15 digits", "[twilio_sim]") {
  CHECK(is_e164("+15551234567"));
  CHECK(is_e164("+12345678"));
  CHECK(is_e164("+123456789012345"));
  CHECK_FALSE(is_e164("+1234567"));
  CHECK_FALSE(is_e164("+1234567890123456"));
  CHECK_FALSE(is_e164("15551234567"));
  CHECK_FALSE(is_e164("+1555123456a"));
  CHECK_FALSE(is_e164("+1 555 123 4567"));
  CHECK_FALSE(is_e164(""));
}

TEST_CASE("callback URLs are cut without re-encoding anything", "[twilio_sim]") {
  auto u = split_http_url("https://user:pw@smsd.example.test/api/x%2By?mid=msg_1&a=%2B1#rc=5");
  REQUIRE(u);
  CHECK(u->scheme == "https");
  CHECK(u->host == "smsd.example.test");
  CHECK(u->port == 443);
  CHECK(u->origin == "https://smsd.example.test");
  CHECK(u->path_and_query == "/api/x%2By?mid=msg_1&a=%2B1");
  u = split_http_url("http://127.0.0.1:8080?x=1");
  REQUIRE(u);
  CHECK(u->port == 8080);
  CHECK(u->path_and_query == "?x=1");
  u = split_http_url("HTTP://[::1]:9000/cb");
  REQUIRE(u);
  CHECK(u->scheme == "http");
  CHECK(u->host == "::1");
  CHECK(u->port == 9000);
  CHECK_FALSE(split_http_url("ftp://example.test/"));
  CHECK_FALSE(split_http_url("not a url"));
  CHECK_FALSE(split_http_url("http:///path"));
  CHECK_FALSE(split_http_url("http://host:99999/"));
  CHECK_FALSE(split_http_url("http://host:x/"));
}

TEST_CASE("callback bodies are form-encoded with spaces as plus", "[twilio_sim]") {
  CHECK(form_encode({{"To", "+1555"}, {"Body", "a b&c=d"}}) == "To=%2B1555&Body=a+b%26c%3Dd");
  CHECK(query_encode("DateSent>") == "DateSent%3E");
  CHECK(api_error_body(400, 21211, "x")
        == nlohmann::json{{"code", 21211},
                          {"message", "x"},
                          {"more_info", "https://www.twilio.com/docs/errors/21211"},
                          {"status", 400}});
}

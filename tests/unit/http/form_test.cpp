#include "http/form.hpp"

#include <catch2/catch.hpp>

#include "common/errors.hpp"

using namespace smsd;

TEST_CASE("form data decodes plus as space and percent-escapes as bytes", "[form]") {
  auto p = parse_form("To=%2B15551234567&Body=hello+world%21&Name=caf%C3%A9");
  REQUIRE(p);
  REQUIRE(p->size() == 3);
  CHECK((*p)[0] == std::pair<std::string, std::string>{"To", "+15551234567"});
  CHECK((*p)[1].second == "hello world!");
  CHECK((*p)[2].second == "caf\xc3\xa9");
}

TEST_CASE("form data keeps order, repeats and empty values", "[form]") {
  auto p = parse_form("a=1&b=&c&a=2&&=x&");
  REQUIRE(p);
  REQUIRE(p->size() == 5);
  CHECK((*p)[0] == std::pair<std::string, std::string>{"a", "1"});
  CHECK((*p)[1] == std::pair<std::string, std::string>{"b", ""});
  CHECK((*p)[2] == std::pair<std::string, std::string>{"c", ""});
  CHECK((*p)[3] == std::pair<std::string, std::string>{"a", "2"});
  CHECK((*p)[4] == std::pair<std::string, std::string>{"", "x"});
  CHECK(first_value(*p, "a") == "1");
  CHECK_FALSE(first_value(*p, "A"));
}

TEST_CASE("an empty body is an empty form", "[form]") {
  auto p = parse_form("");
  REQUIRE(p);
  CHECK(p->empty());
}

TEST_CASE("a value may contain '=' and encoded separators", "[form]") {
  auto p = parse_form("q=a=b&r=x%26y%3Dz");
  REQUIRE(p);
  CHECK((*p)[0].second == "a=b");
  CHECK((*p)[1].second == "x&y=z");
}

TEST_CASE("malformed percent-escapes are refused", "[form]") {
  for (const char* bad : {"a=%", "a=%4", "a=%G1", "a=%1G", "%zz=1", "a=1&b=%%41", "a=%-1"}) {
    INFO(bad);
    auto p = parse_form(bad);
    REQUIRE_FALSE(p);
    CHECK(code_of(p.error()) == errc::invalid_argument);
  }
}

TEST_CASE("percent-decoding in a path keeps plus signs", "[form]") {
  CHECK(percent_decode("a+b%20c", false) == "a+b c");
  CHECK(percent_decode("a+b%20c", true) == "a b c");
  CHECK(percent_decode("%e2%82%AC", false) == "\xe2\x82\xac");
  CHECK_FALSE(percent_decode("50%", false));
}

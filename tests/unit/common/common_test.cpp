#include <set>

#include <catch2/catch.hpp>

#include "common/ids.hpp"
#include "common/log.hpp"
#include "common/time.hpp"

using namespace smsd;

TEST_CASE("timestamps print as ISO-8601 with milliseconds and Z", "[common]") {
  CHECK(to_iso8601(0) == "1970-01-01T00:00:00.000Z");
  CHECK(to_iso8601(1770911100123) == "2026-02-12T15:45:00.123Z");
}

TEST_CASE("ISO-8601 dates parse in UTC, with zones and fractions", "[common]") {
  CHECK(parse_iso8601("2026-02-12T15:45:00.123Z") == 1770911100123);
  CHECK(parse_iso8601("2026-02-12T15:45:00Z") == 1770911100000);
  CHECK(parse_iso8601("2026-02-12T16:45:00+01:00") == 1770911100000);
  CHECK(parse_iso8601("2026-02-12T10:45-05:00") == 1770911100000);
  CHECK(parse_iso8601("2026-02-12") == 1770854400000);
  CHECK(parse_iso8601("1970-01-01T00:00:00Z") == 0);
  for (auto bad : {"", "2026", "2026-13-01", "2026-02-12T15:45:00", "2026-02-12T25:00:00Z",
                   "2026-02-12T15:45:00.Z", "yesterday", "2026-02-12T15:45:00Zjunk"}) {
    INFO(bad);
    CHECK_FALSE(parse_iso8601(bad));
  }
}

TEST_CASE("round trip of a timestamp through ISO-8601", "[common]") {
  for (millis t : {millis{0}, millis{1}, millis{1770911100123}, millis{4102444799999}})
    CHECK(parse_iso8601(to_iso8601(t)) == t);
}

TEST_CASE("phone numbers are masked in the middle", "[common]") {
  CHECK(mask_phone("+15551234567") == "+1555***4567");
  CHECK(mask_phone("+4915112345678") == "+4915*****5678");
  CHECK(mask_phone("12345") == "*****");
  CHECK(mask_phone("+1234567") == "+1****67");
  CHECK(mask_phone("+15551234567").find("123") == std::string::npos);
}

TEST_CASE("new ids are unique and carry their prefix", "[common]") {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    auto id = new_id("msg_");
    CHECK(id.rfind("msg_", 0) == 0);
    CHECK(id.size() == 4 + 26);
    seen.insert(id);
  }
  CHECK(seen.size() == 10000);
}

#include "sending/phone_number.hpp"

#include <catch2/catch.hpp>

using namespace smsd;

TEST_CASE("numbers are normalised to E.164 in the default region", "[sending]") {
  struct vec {
    const char* input;
    const char* region;
    const char* e164;
  };
  const vec vectors[] = {
    {"+14158675309", "US", "+14158675309"},
    {"(415) 867-5309", "US", "+14158675309"},
    {"415.867.5309", "US", "+14158675309"},
    {"1 415 867 5309", "US", "+14158675309"},
    {"+1 (555) 123-4567", "US", "+15551234567"}, // possible, if not in service: Twilio decides
    {"+15005550001", "US", "+15005550001"},      // Twilio's magic numbers pass through
    {"07911 123456", "GB", "+447911123456"},
    {"+44 7911 123456", "US", "+447911123456"},
  };
  for (const auto& v : vectors) {
    INFO(v.input << " in " << v.region);
    auto n = normalize_phone(v.input, v.region);
    REQUIRE(n.e164.has_value());
    CHECK(*n.e164 == v.e164);
  }
}

TEST_CASE("what cannot be a phone number is refused with a reason", "[sending]") {
  for (const char* input : {"", "   ", "abc", "12", "+999123456", "+1 415 867 5309 ext. 12",
                            "07911 123456", "+1415867530912345"}) {
    INFO(input);
    auto n = normalize_phone(input, "US");
    CHECK_FALSE(n.e164.has_value());
    CHECK_FALSE(n.problem.empty());
  }
}

TEST_CASE("region codes are checked against libphonenumber's", "[sending]") {
  CHECK(known_region("US"));
  CHECK(known_region("GB"));
  CHECK_FALSE(known_region("XX"));
  CHECK_FALSE(known_region("us"));
}

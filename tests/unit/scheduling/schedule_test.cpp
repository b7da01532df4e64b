#include "scheduling/schedule.hpp"

#include <catch2/catch.hpp>

#include "common/errors.hpp"

using namespace smsd;

namespace {

millis at(const char* iso) {
  auto t = parse_iso8601(iso);
  REQUIRE(t);
  return *t;
}

schedule parsed(const char* text) {
  auto s = parse_schedule(text);
  if (!s)
    FAIL(describe(s.error()));
  return *s;
}

} // namespace

TEST_CASE("durations read seconds, minutes, hours and days", "[scheduling]") {
  CHECK(*parse_duration("30s") == 30'000);
  CHECK(*parse_duration("15m") == 900'000);
  CHECK(*parse_duration("12h") == 43'200'000);
  CHECK(*parse_duration("1d") == 86'400'000);
  CHECK(*parse_duration("250ms") == 250);
  CHECK(format_duration(3'600'000) == "1h");
  CHECK(format_duration(90'000) == "90s");
  CHECK(format_duration(7LL * 86'400'000) == "7d");
}

TEST_CASE("bad durations and schedules are refused with a reason", "[scheduling]") {
  for (auto text : {"", "12", "h", "0s", "-5m", "5 weeks", "1.5h", "5y"})
    CHECK_FALSE(parse_duration(text));
  for (auto text : {"", "hourly", "daily", "daily 3:00", "daily 24:00", "daily 03:60", "every",
                    "every 0s", "every 1x", "weekly 03:00"})
    CHECK_FALSE(parse_schedule(text));
  CHECK_THAT(describe(parse_schedule("daily 25:00").error()), Catch::Contains("hour"));
  CHECK_THAT(describe(parse_duration("10").error()), Catch::Contains("unit"));
}

TEST_CASE("schedules read back as their canonical text", "[scheduling]") {
  CHECK(parsed("daily 03:00").text() == "daily 03:00");
  CHECK(parsed("daily at 23:59").text() == "daily 23:59");
  CHECK(parsed("every 60m").text() == "every 1h");
  CHECK(parsed("  every 2s ").text() == "every 2s");
}

TEST_CASE("daily at 03:00 runs at the next 03:00 UTC, across midnight", "[scheduling]") {
  auto s = parsed("daily 03:00");
  CHECK(next_after(s, at("2026-03-01T02:59:59.999Z")) == at("2026-03-01T03:00:00Z"));
  // Exactly at the tick: the next one is tomorrow's.
  CHECK(next_after(s, at("2026-03-01T03:00:00Z")) == at("2026-03-02T03:00:00Z"));
  CHECK(next_after(s, at("2026-03-01T23:30:00Z")) == at("2026-03-02T03:00:00Z"));
  CHECK(next_after(s, at("2026-12-31T23:59:00Z")) == at("2027-01-01T03:00:00Z"));
  CHECK(tick_at_or_before(s, at("2026-03-02T01:00:00Z")) == at("2026-03-01T03:00:00Z"));
  CHECK(tick_at_or_before(s, at("2026-03-02T03:00:00Z")) == at("2026-03-02T03:00:00Z"));
}

TEST_CASE("every 1h ticks on the full hour, the same on every instance", "[scheduling]") {
  auto s = parsed("every 1h");
  CHECK(next_after(s, at("2026-03-01T10:15:00Z")) == at("2026-03-01T11:00:00Z"));
  CHECK(next_after(s, at("2026-03-01T11:00:00Z")) == at("2026-03-01T12:00:00Z"));
  CHECK(next_after(s, at("2026-03-01T23:59:59Z")) == at("2026-03-02T00:00:00Z"));
  CHECK(tick_at_or_before(s, at("2026-03-01T10:59:59.999Z")) == at("2026-03-01T10:00:00Z"));
  auto two = parsed("every 2s");
  CHECK(next_after(two, 10'500) == 12'000);
  CHECK(tick_at_or_before(two, 13'999) == 12'000);
}

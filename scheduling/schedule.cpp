#include "scheduling/schedule.hpp"

#include <cctype>
#include <cstdio>

#include "common/errors.hpp"

namespace smsd {

namespace {

constexpr millis day_ms = 24LL * 3600 * 1000;

caf::error bad(std::string_view text, const std::string& why) {
  return make_error(errc::invalid_argument, "'" + std::string{text} + "': " + why);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

/// Floor division that also holds for times before the epoch.
millis floor_div(millis a, millis b) {
  millis q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

} // namespace

clock_source system_clock_source() {
  return [] { return now_millis(); };
}

caf::expected<millis> parse_duration(std::string_view text) {
  auto s = trim(text);
  std::size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits])))
    ++digits;
  if (digits == 0)
    return bad(text, "expected a duration such as 30s, 15m, 12h or 1d");
  if (digits > 12)
    return bad(text, "duration too large");
  millis n = std::stoll(std::string{s.substr(0, digits)});
  auto unit = trim(s.substr(digits));
  millis factor = 0;
  if (unit == "ms")
    factor = 1;
  else if (unit == "s")
    factor = 1000;
  else if (unit == "m")
    factor = 60 * 1000;
  else if (unit == "h")
    factor = 3600 * 1000;
  else if (unit == "d")
    factor = day_ms;
  else
    return bad(text, "unknown unit; use ms, s, m, h or d (e.g. 30s, 15m, 12h, 1d)");
  if (n <= 0)
    return bad(text, "a duration must be positive");
  if (n > 100LL * 365 * day_ms / factor)
    return bad(text, "duration too large");
  return n * factor;
}

std::string format_duration(millis ms) {
  struct unit {
    millis size;
    const char* name;
  };
  for (auto u : {unit{day_ms, "d"}, unit{3600000, "h"}, unit{60000, "m"}, unit{1000, "s"}})
    if (ms % u.size == 0)
      return std::to_string(ms / u.size) + u.name;
  return std::to_string(ms) + "ms";
}

std::string schedule::text() const {
  if (type == kind::every)
    return "every " + format_duration(period_ms);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute_of_day / 60, minute_of_day % 60);
  return std::string{"daily "} + buf;
}

caf::expected<schedule> parse_schedule(std::string_view text) {
  auto s = trim(text);
  schedule out;
  if (s.substr(0, 6) == "every ") {
    auto d = parse_duration(s.substr(6));
    if (!d)
      return bad(text, "after 'every' " + describe(d.error()));
    out.type = schedule::kind::every;
    out.period_ms = *d;
    return out;
  }
  if (s.substr(0, 6) == "daily ") {
    auto t = trim(s.substr(6));
    if (t.substr(0, 3) == "at ")
      t = trim(t.substr(3));
    auto digit = [&](std::size_t i) { return std::isdigit(static_cast<unsigned char>(t[i])) != 0; };
    if (t.size() != 5 || t[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4))
      return bad(text, "expected daily HH:MM (UTC), e.g. daily 03:00");
    int h = (t[0] - '0') * 10 + (t[1] - '0');
    int m = (t[3] - '0') * 10 + (t[4] - '0');
    if (h > 23 || m > 59)
      return bad(text, "hour must be 00-23 and minute 00-59");
    out.type = schedule::kind::daily;
    out.minute_of_day = h * 60 + m;
    return out;
  }
  return bad(text, "expected 'daily HH:MM' or 'every <duration>' (e.g. every 1h)");
}

millis tick_at_or_before(const schedule& s, millis t) {
  if (s.type == schedule::kind::every)
    return floor_div(t, s.period_ms) * s.period_ms;
  millis offset = static_cast<millis>(s.minute_of_day) * 60000;
  millis today = floor_div(t, day_ms) * day_ms + offset;
  return today <= t ? today : today - day_ms;
}

millis next_after(const schedule& s, millis t) {
  return tick_at_or_before(s, t) + (s.type == schedule::kind::every ? s.period_ms : day_ms);
}

} // namespace smsd

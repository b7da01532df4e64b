#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "common/time.hpp"

namespace smsd {

/// Where "now" comes from: now_millis in production, a variable in tests. UTC milliseconds.
using clock_source = std::function<millis()>;

/// The wall clock.
clock_source system_clock_source();

/// When a job runs, in UTC: "daily HH:MM" (also "daily at HH:MM") or "every <duration>".
/// Ticks of "every" are aligned to the Unix epoch (every 1h: at each full hour), so every
/// instance computes the same ticks.
struct schedule {
  enum class kind { daily, every };
  kind type = kind::every;
  int minute_of_day = 0;        ///< daily: minutes after 00:00 UTC
  millis period_ms = 3600000;   ///< every: the period, > 0

  /// The canonical text: "daily 03:00", "every 1h".
  std::string text() const;
};

/// "30s", "15m", "12h", "1d" (also "500ms"); a positive whole number and a unit. An
/// invalid_argument error saying what is wrong.
caf::expected<millis> parse_duration(std::string_view text);

/// The shortest text parse_duration reads back as `ms`: 3600000 -> "1h", 90000 -> "90s".
std::string format_duration(millis ms);

/// "daily 03:00", "daily at 03:00", "every 1h". An invalid_argument error saying what is wrong.
caf::expected<schedule> parse_schedule(std::string_view text);

/// The first tick strictly after `t`.
millis next_after(const schedule& s, millis t);

/// The tick a run started at `t` belongs to: the last tick at or before `t`.
millis tick_at_or_before(const schedule& s, millis t);

} // namespace smsd

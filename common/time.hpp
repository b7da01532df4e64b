#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smsd {

/// Milliseconds since the Unix epoch, UTC. Every timestamp smsd stores is one of these.
using millis = std::int64_t;

millis now_millis();

/// "2026-02-12T15:45:00.000Z".
std::string to_iso8601(millis t);

/// Parses ISO-8601 date-times with a zone ("Z" or "+hh:mm"), optional fractional seconds,
/// and plain dates ("2026-12-01", taken as midnight UTC). nullopt if malformed.
std::optional<millis> parse_iso8601(std::string_view text);

} // namespace smsd

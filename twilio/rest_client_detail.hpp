#pragma once

// The pure pieces of rest_client, apart so that tests can reach them. Not for other callers.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/time.hpp"

namespace smsd::twilio::detail {

/// RFC 3986 percent-encoding: everything but unreserved characters (A-Z a-z 0-9 - . _ ~) becomes
/// %XX, so `+` is `%2B`, `>` is `%3E` and a space `%20`.
std::string percent_encode(std::string_view text);

/// `name=value&...`, both sides percent-encoded, in the order given (a form body or a query).
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

/// "YYYY-MM-DD" of the UTC day that holds `t` (Twilio's DateSent filters compare whole days).
std::string utc_date(millis t);

/// Full-jitter backoff before retry number `retry` (1 for the second attempt): a uniform draw
/// from [0, min(max_ms, initial_ms * 2^(retry-1))]; `unit` is the draw in [0, 1).
int backoff_delay_ms(int retry, int initial_ms, int max_ms, double unit);

/// A Retry-After header in seconds as milliseconds; nullopt when absent or not a number of
/// seconds (the HTTP-date form is not used by Twilio and falls back to the backoff).
std::optional<long long> retry_after_ms(const std::string& header);

/// True if no array or object in `json` nests deeper than `max_depth` (nlohmann::json crashes on
/// very deep documents when it prints or copies them).
bool json_depth_within(std::string_view json, int max_depth);

} // namespace smsd::twilio::detail

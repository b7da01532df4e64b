#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/time.hpp"
#include "http/form.hpp"

namespace smsd::sim {

/// Twilio's API version, in paths and payloads.
constexpr const char* api_version = "2010-04-01";

/// The sender Twilio's test credentials accept, and what the simulator picks for a service.
constexpr const char* service_sender = "+15005550006";

/// "Thu, 30 Jul 2015 20:12:33 +0000", as Twilio writes dates.
std::string format_rfc2822(millis t);

/// "YYMMDDhhmm" in UTC, as Twilio's RawDlrDoneDate.
std::string format_dlr_date(millis t);

/// How many SMS segments a body takes: GSM-7 (extension characters count twice) 160 alone or
/// 153 per part, otherwise UCS-2 70 alone or 67 per part (UTF-16 units). At least 1.
int count_segments(std::string_view utf8_body);

/// Whether `to` is "+" followed by 8 to 15 digits.
bool is_e164(std::string_view to);

/// Twilio's error body: {"code", "message", "more_info", "status"}.
nlohmann::json api_error_body(int http_status, int code, const std::string& message);

/// The message Twilio gives for an error code at create (magic numbers, validation), or
/// "Simulated error <code>".
std::string create_error_message(int code, const std::string& to, const std::string& from);

/// Twilio's error_message for a delivery error code (30003 ...), or "Error <code>".
std::string delivery_error_message(int code);

/// application/x-www-form-urlencoded, as Twilio sends callbacks (space as '+').
std::string form_encode(const form_params& params);

/// An http(s) URL cut where the simulator needs it, without re-encoding anything.
struct url_parts {
  std::string scheme; ///< lower case, "http" or "https"
  std::string host;   ///< without brackets for an IPv6 literal
  std::uint16_t port = 0; ///< the explicit port, else 80 or 443
  std::string origin;          ///< "scheme://authority" as written, user info dropped
  std::string path_and_query;  ///< from the first '/' or '?' up to any '#', exactly as written
};

/// Splits an absolute http:// or https:// URL with a host; nullopt for anything else.
std::optional<url_parts> split_http_url(std::string_view url);

/// Percent-encodes a query component (everything but unreserved characters).
std::string query_encode(std::string_view text);

/// `n` random lowercase hex digits from a non-deterministic source (sids must not repeat across
/// runs of the simulator, whatever the seed).
std::string random_hex(std::size_t n);

} // namespace smsd::sim

#pragma once

#include <optional>
#include <string>

namespace smsd {

/// A phone number in E.164 ("+14155550123"), or why the input is not one.
struct normalized_phone {
  std::optional<std::string> e164;
  std::string problem; ///< when !e164: what is wrong, for the organizer
};

/// Normalises a phone number to E.164 with libphonenumber. Numbers without a leading '+' are read
/// in `default_region` (ISO 3166 alpha-2, e.g. "US"). Only numbers that cannot be a phone number
/// (letters, wrong length for their country, an unknown country code, an extension) are refused;
/// whether a possible number is in service is Twilio's to say.
normalized_phone normalize_phone(const std::string& input, const std::string& default_region);

/// Whether libphonenumber knows the region code ("US", "GB", ...).
bool known_region(const std::string& region);

} // namespace smsd

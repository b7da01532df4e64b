#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/form.hpp"

namespace smsd {

/// The data Twilio signs: the URL, then each body parameter's name and value, sorted
/// byte-wise by name (repeated names by value), with no separators.
std::string twilio_signed_data(std::string_view url, const form_params& params);

/// base64(HMAC-SHA1(token, twilio_signed_data(url, params))): what X-Twilio-Signature carries.
std::string twilio_signature(std::string_view token, std::string_view url,
                             const form_params& params);

/// The URL as given plus, as Twilio's own libraries accept, the same URL with the default port
/// (443 for https, 80 for http) added when it has none, or removed when it has it.
/// Any other port is kept as is. A URL that cannot be parsed is returned alone.
std::vector<std::string> twilio_url_variants(std::string_view url);

/// Whether `signature` is the signature of the request under any of the tokens (empty ones are
/// ignored) for any of twilio_url_variants(url). Compares in constant time.
bool twilio_signature_valid(const std::vector<std::string>& tokens, std::string_view url,
                            const form_params& params, std::string_view signature);

} // namespace smsd

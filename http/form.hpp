#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "common/percent.hpp"

namespace smsd {

/// Name/value pairs in the order received; names are case-sensitive and may repeat.
using form_params = std::vector<std::pair<std::string, std::string>>;

/// Decodes one application/x-www-form-urlencoded component: `+` is a space, `%XX` a byte.
std::optional<std::string> form_decode(std::string_view text);

/// Parses an application/x-www-form-urlencoded body (or query string). Pairs are separated by
/// `&` (empty pieces are skipped); a piece without `=` is a name with an empty value.
/// invalid_argument on a malformed escape.
caf::expected<form_params> parse_form(std::string_view text);

/// The first value of a name, if present.
std::optional<std::string> first_value(const form_params& params, std::string_view name);

} // namespace smsd

#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace smsd {

/// Decodes `%XX` escapes (and, if plus_is_space, `+` as a space, as in form data; in a path or
/// a URL's user, password or database a `+` is itself). nullopt on a malformed escape (`%`,
/// `%4`, `%G1`).
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

} // namespace smsd

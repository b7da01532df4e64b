#pragma once

#include <string>
#include <string_view>

namespace smsd {

/// Appends `v` as a JSON string, exactly as nlohmann/json's dump(-1, ' ', false, replace) writes
/// it: printable ASCII without `"` or `\` is copied as it is (most of what smsd writes), anything
/// else goes through nlohmann/json (escapes, and U+FFFD for bytes that are not UTF-8).
void append_json_string(std::string& out, std::string_view v);

} // namespace smsd

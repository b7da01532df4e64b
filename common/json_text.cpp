#include "common/json_text.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace smsd {

void append_json_string(std::string& out, std::string_view v) {
  const bool plain = std::all_of(v.begin(), v.end(), [](char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  });
  if (plain) {
    out += '"';
    out += v;
    out += '"';
    return;
  }
  out += nlohmann::json(std::string(v)).dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace);
}

} // namespace smsd

#include "common/percent.hpp"

namespace smsd {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    // Runs without an escape are copied whole (most of a Twilio callback's bytes).
    std::size_t end = i;
    while (end < text.size() && text[end] != '%' && !(plus_is_space && text[end] == '+'))
      ++end;
    out.append(text.data() + i, end - i);
    if (end == text.size())
      break;
    if (text[end] == '+') {
      out.push_back(' ');
      i = end + 1;
      continue;
    }
    if (end + 2 >= text.size())
      return std::nullopt;
    const int hi = hex_value(text[end + 1]);
    const int lo = hex_value(text[end + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i = end + 3;
  }
  return out;
}

} // namespace smsd

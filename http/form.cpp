#include "http/form.hpp"

#include "common/errors.hpp"

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

std::optional<std::string> form_decode(std::string_view text) {
  return percent_decode(text, true);
}

caf::expected<form_params> parse_form(std::string_view text) {
  form_params out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t amp = text.find('&', pos);
    if (amp == std::string_view::npos)
      amp = text.size();
    std::string_view piece = text.substr(pos, amp - pos);
    pos = amp + 1;
    if (piece.empty())
      continue;
    const std::size_t eq = piece.find('=');
    auto name = form_decode(piece.substr(0, eq));
    auto value = eq == std::string_view::npos ? std::optional<std::string>{std::string{}}
                                              : form_decode(piece.substr(eq + 1));
    if (!name || !value)
      return make_error(errc::invalid_argument, "malformed form data: bad percent-escape");
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

std::optional<std::string> first_value(const form_params& params, std::string_view name) {
  for (const auto& [n, v] : params)
    if (n == name)
      return v;
  return std::nullopt;
}

} // namespace smsd

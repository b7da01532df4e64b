#include "http/form.hpp"

#include "common/errors.hpp"

namespace smsd {

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

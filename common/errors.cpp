#include "common/errors.hpp"

namespace smsd {

const char* to_string(errc x) {
  switch (x) {
    case errc::none: return "none";
    case errc::invalid_argument: return "invalid_argument";
    case errc::not_found: return "not_found";
    case errc::conflict: return "conflict";
    case errc::unavailable: return "unavailable";
    case errc::timeout: return "timeout";
    case errc::database: return "database";
    case errc::internal: return "internal";
  }
  return "unknown";
}

caf::error make_error(errc x) {
  return {static_cast<std::uint8_t>(x), error_category::value};
}

caf::error make_error(errc x, std::string message) {
  return {static_cast<std::uint8_t>(x), error_category::value,
          caf::make_message(std::move(message))};
}

errc code_of(const caf::error& e) {
  if (!e)
    return errc::none;
  if (e.category() != error_category::value)
    return errc::internal;
  return static_cast<errc>(e.code());
}

std::string message_of(const caf::error& e) {
  if (e && e.category() == error_category::value && e.context().match_elements<std::string>())
    return e.context().get_as<std::string>(0);
  return {};
}

std::string describe(const caf::error& e) {
  if (!e)
    return "none";
  if (e.category() == error_category::value) {
    auto msg = message_of(e);
    std::string out = to_string(static_cast<errc>(e.code()));
    if (!msg.empty())
      out += ": " + msg;
    return out;
  }
  return caf::to_string(e);
}

} // namespace smsd

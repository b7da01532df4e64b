#include "http/errors.hpp"

#include <nlohmann/json.hpp>

#include "common/log.hpp"

namespace smsd {

int http_status_of(errc code) {
  switch (code) {
    case errc::invalid_argument: return 400;
    case errc::not_found: return 404;
    case errc::conflict: return 409;
    case errc::unavailable:
    case errc::timeout: return 503;
    case errc::none: // an empty error reaching here is our own bug
    case errc::database:
    case errc::internal: return 500;
  }
  return 500;
}

http_response error_response(int status, const std::string& message) {
  return json_response(status, nlohmann::json{{"error", message}});
}

http_response error_response(const caf::error& e) {
  const errc code = code_of(e);
  const int status = http_status_of(code);
  if (status >= 500) {
    spdlog::warn("request failed: {}", describe(e));
    switch (code) {
      case errc::unavailable: return error_response(status, "service unavailable, try again later");
      case errc::timeout: return error_response(status, "timed out, try again later");
      default: return error_response(status, "internal error");
    }
  }
  auto message = message_of(e);
  if (message.empty())
    message = to_string(code);
  return error_response(status, message);
}

} // namespace smsd

#pragma once
// The environment of a child smsd in integration tests.

#include <map>
#include <string>

#include "tests/integration/integration_support.hpp"

namespace smsd::test {

inline std::map<std::string, std::string> child_env(const std::string& database_url,
                                                    std::uint16_t port = 0) {
  return {{"SMSD_DATABASE_URL", database_url},
          {"SMSD_LISTEN", "127.0.0.1:" + std::to_string(port)},
          {"PUBLIC_APP_URL", public_url},
          {"TWILIO_AUTH_TOKEN", auth_token},
          {"SMSD_ADMIN_TOKEN", admin_token},
          {"SMSD_HTTP_THREADS", "64"},
          {"SMSD_LOG_LEVEL", "warn"}};
}

/// Posts a signed callback to the smsd on `port`; 0 if the connection failed.
inline int post_callback(std::uint16_t port, const std::string& sid, const std::string& status,
                         const std::string& error_code = "", int timeout_ms = 5000) {
  std::string target = "/api/webhooks/twilio/status";
  auto cb = sign_callback(auth_token, public_url, target, status_params(sid, status, error_code));
  try {
    http_test_client client(port, false, "127.0.0.1", timeout_ms);
    return client
      .request("POST", target, {{"X-Twilio-Signature", cb.signature}}, cb.body,
               "application/x-www-form-urlencoded")
      .status;
  } catch (...) {
    return 0;
  }
}

} // namespace smsd::test

#pragma once

#include <string>

#include "http/form.hpp"

namespace smsd::test {

/// application/x-www-form-urlencoded, as Twilio sends it (space as '+').
std::string form_encode(const form_params& params);

/// A status callback ready to post: the request target, its body and X-Twilio-Signature.
struct signed_callback {
  std::string target;
  std::string body;
  std::string signature;
};

/// Signs a callback the way Twilio does, for smsd configured with PUBLIC_APP_URL = public_url.
signed_callback sign_callback(const std::string& token, const std::string& public_url,
                              const std::string& target, const form_params& params);

/// The fields Twilio sends for an SMS status (plus ErrorCode when non-empty).
form_params status_params(const std::string& sid, const std::string& status,
                          const std::string& error_code = "");

} // namespace smsd::test

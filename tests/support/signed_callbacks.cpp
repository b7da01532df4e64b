#include "tests/support/signed_callbacks.hpp"

#include <cctype>

#include "http/twilio_signature.hpp"

namespace smsd::test {

std::string form_encode(const form_params& params) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (auto& [name, value] : params) {
    if (!out.empty())
      out += '&';
    for (const std::string* part : {&name, &value}) {
      for (unsigned char c : *part) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
          out += static_cast<char>(c);
        else if (c == ' ')
          out += '+';
        else {
          out += '%';
          out += hex[c >> 4];
          out += hex[c & 15];
        }
      }
      if (part == &name)
        out += '=';
    }
  }
  return out;
}

signed_callback sign_callback(const std::string& token, const std::string& public_url,
                              const std::string& target, const form_params& params) {
  return {target, form_encode(params), twilio_signature(token, public_url + target, params)};
}

form_params status_params(const std::string& sid, const std::string& status,
                          const std::string& error_code) {
  form_params p{{"AccountSid", "AC00000000000000000000000000000000"},
                {"ApiVersion", "2010-04-01"},
                {"From", "+15005550006"},
                {"MessageSid", sid},
                {"MessageStatus", status},
                {"SmsSid", sid},
                {"SmsStatus", status},
                {"To", "+15551234567"}};
  if (!error_code.empty())
    p.emplace_back("ErrorCode", error_code);
  return p;
}

} // namespace smsd::test

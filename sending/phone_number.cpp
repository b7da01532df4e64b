#include "sending/phone_number.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

namespace smsd {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

normalized_phone normalize_phone(const std::string& input, const std::string& default_region) {
  normalized_phone out;
  if (input.find_first_not_of(" \t") == std::string::npos) {
    out.problem = "no phone number";
    return out;
  }
  auto* util = PhoneNumberUtil::GetInstance();
  PhoneNumber n;
  if (util->Parse(input, default_region, &n) != PhoneNumberUtil::NO_PARSING_ERROR) {
    out.problem = "'" + input + "' is not a phone number";
    return out;
  }
  if (n.has_extension()) {
    out.problem = "'" + input + "' has an extension; a text cannot reach one";
    return out;
  }
  if (!util->IsPossibleNumber(n)) {
    out.problem = "'" + input + "' has the wrong length for its country";
    return out;
  }
  std::string e164;
  util->Format(n, PhoneNumberUtil::E164, &e164);
  out.e164 = std::move(e164);
  return out;
}

bool known_region(const std::string& region) {
  std::set<std::string> regions;
  PhoneNumberUtil::GetInstance()->GetSupportedRegions(&regions);
  return regions.count(region) > 0;
}

} // namespace smsd

#include "twilio_sim/resources.hpp"

#include <cstdio>
#include <ctime>
#include <mutex>
#include <random>

namespace smsd::sim {

namespace {

// Decodes UTF-8 to code points; an invalid byte counts as one U+FFFD.
std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
    if (extra < 0 || (extra > 0 && i + static_cast<std::size_t>(extra) >= s.size())) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1F) : extra == 2 ? (c & 0x0F) : (c & 0x07);
    bool ok = true;
    for (int k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((cc >> 6) != 0x2) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<std::size_t>(extra) + 1;
  }
  return out;
}

const std::u32string& gsm_basic() {
  static const std::u32string set = decode_utf8(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà");
  return set;
}

const std::u32string& gsm_extension() {
  static const std::u32string set = decode_utf8("\f^{}\\[~]|€");
  return set;
}

std::string format_utc(millis t, const char* pattern) {
  const std::time_t secs = static_cast<std::time_t>(t / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  const auto n = std::strftime(buf, sizeof buf, pattern, &tm);
  return std::string(buf, n);
}

// Everything but unreserved characters as %XX; a space as '+' in form data.
std::string percent_encode(std::string_view text, bool space_as_plus) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
        || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ' && space_as_plus) {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

} // namespace

std::string format_rfc2822(millis t) {
  // strftime's %a and %b follow the locale; Twilio's are always English, as C's are.
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t secs = static_cast<std::time_t>(t / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
                tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string format_dlr_date(millis t) {
  return format_utc(t, "%y%m%d%H%M");
}

int count_segments(std::string_view utf8_body) {
  const std::u32string text = decode_utf8(utf8_body);
  std::size_t septets = 0;
  bool gsm = true;
  for (char32_t c : text) {
    if (gsm_basic().find(c) != std::u32string::npos) {
      septets += 1;
    } else if (gsm_extension().find(c) != std::u32string::npos) {
      septets += 2;
    } else {
      gsm = false;
      break;
    }
  }
  std::size_t units = septets, single = 160, part = 153;
  if (!gsm) {
    units = 0;
    for (char32_t c : text)
      units += c > 0xFFFF ? 2 : 1;
    single = 70;
    part = 67;
  }
  if (units <= single)
    return 1;
  return static_cast<int>((units + part - 1) / part);
}

bool is_e164(std::string_view to) {
  if (to.size() < 9 || to.size() > 16 || to[0] != '+')
    return false;
  for (std::size_t i = 1; i < to.size(); ++i)
    if (to[i] < '0' || to[i] > '9')
      return false;
  return true;
}

nlohmann::json api_error_body(int http_status, int code, const std::string& message) {
  return {{"code", code},
          {"message", message},
          {"more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code)},
          {"status", http_status}};
}

std::string create_error_message(int code, const std::string& to, const std::string& from) {
  switch (code) {
  case 21211:
    return "The 'To' number " + to + " is not a valid phone number.";
  case 21408:
    return "Permission to send an SMS has not been enabled for the region indicated by the 'To' "
           "number: "
           + to + ".";
  case 21602:
    return "Message body is required.";
  case 21603:
    return "A 'From' phone number is required.";
  case 21604:
    return "A 'To' phone number is required.";
  case 21610:
    return "Attempt to send to unsubscribed recipient";
  case 21612:
    return "The 'To' phone number: " + to
           + ", is not currently reachable using the 'From' phone number: " + from + " via SMS.";
  case 21614:
    return "'To' number is not a valid mobile number";
  default:
    return "Simulated error " + std::to_string(code);
  }
}

std::string delivery_error_message(int code) {
  switch (code) {
  case 30001:
    return "Queue overflow";
  case 30002:
    return "Account suspended";
  case 30003:
    return "Unreachable destination handset";
  case 30004:
    return "Message blocked";
  case 30005:
    return "Unknown destination handset";
  case 30006:
    return "Landline or unreachable carrier";
  case 30007:
    return "Message filtered";
  case 30008:
    return "Unknown error";
  default:
    return "Error " + std::to_string(code);
  }
}

std::string form_encode(const form_params& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty())
      out += '&';
    out += percent_encode(name, true);
    out += '=';
    out += percent_encode(value, true);
  }
  return out;
}

std::optional<url_parts> split_http_url(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return std::nullopt;
  url_parts out;
  for (char c : url.substr(0, scheme_end))
    out.scheme += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (out.scheme != "http" && out.scheme != "https")
    return std::nullopt;
  const std::size_t authority_begin = scheme_end + 3;
  std::size_t authority_end = url.find_first_of("/?#", authority_begin);
  if (authority_end == std::string_view::npos)
    authority_end = url.size();
  std::string_view authority = url.substr(authority_begin, authority_end - authority_begin);
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos)
    authority.remove_prefix(at + 1);
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t bracket = authority.find(']');
    if (bracket == std::string_view::npos)
      return std::nullopt;
    host = authority.substr(1, bracket - 1);
    if (bracket + 1 < authority.size()) {
      if (authority[bracket + 1] != ':')
        return std::nullopt;
      port = authority.substr(bracket + 2);
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty())
    return std::nullopt;
  out.host = std::string(host);
  if (port.empty()) {
    out.port = out.scheme == "https" ? 443 : 80;
  } else {
    unsigned value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535)
        return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535)
      return std::nullopt;
    out.port = static_cast<std::uint16_t>(value);
  }
  out.origin = out.scheme + "://" + std::string(authority);
  std::string_view rest = url.substr(authority_end);
  if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos)
    rest = rest.substr(0, hash);
  out.path_and_query = std::string(rest);
  return out;
}

std::string query_encode(std::string_view text) {
  return percent_encode(text, false);
}

std::string random_hex(std::size_t n) {
  static std::mutex mu;
  static std::mt19937_64 gen{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }()};
  static const char digits[] = "0123456789abcdef";
  std::string out(n, '0');
  std::lock_guard<std::mutex> lock(mu);
  for (auto& c : out)
    c = digits[gen() & 15];
  return out;
}

} // namespace smsd::sim

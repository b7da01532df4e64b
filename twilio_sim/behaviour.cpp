#include "twilio_sim/behaviour.hpp"

#include <cmath>
#include <algorithm>

#include "common/errors.hpp"
#include "http/json_body.hpp"

namespace smsd::sim {

namespace {

using json = nlohmann::json;

constexpr int max_json_depth = 8;
constexpr int max_delay_ms = 24 * 3600 * 1000;

caf::error invalid(const std::string& what) {
  return make_error(errc::invalid_argument, what);
}

// Each reader checks one key's value and stores it; a non-empty string is the reason it failed.
std::string read_int(const json& v, const char* key, int min, int max, int& out) {
  if (!v.is_number_integer())
    return std::string(key) + " must be an integer";
  const auto x = v.get<std::int64_t>();
  if (x < min || x > max)
    return std::string(key) + " must be between " + std::to_string(min) + " and "
           + std::to_string(max);
  out = static_cast<int>(x);
  return {};
}

std::string read_share(const json& v, const char* key, double& out) {
  if (!v.is_number())
    return std::string(key) + " must be a number";
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < 0.0 || x > 1.0)
    return std::string(key) + " must be between 0.0 and 1.0";
  out = x;
  return {};
}

std::string read_bool(const json& v, const char* key, bool& out) {
  if (!v.is_boolean())
    return std::string(key) + " must be true or false";
  out = v.get<bool>();
  return {};
}

std::string read_delays(const json& v, std::vector<int>& out) {
  if (!v.is_array() || v.empty())
    return "callback_delays_ms must be a non-empty array of integers";
  std::vector<int> delays;
  for (const auto& d : v) {
    int x = 0;
    if (auto why = read_int(d, "each of callback_delays_ms", 0, max_delay_ms, x); !why.empty())
      return why;
    delays.push_back(x);
  }
  out = std::move(delays);
  return {};
}

std::string read_create_failures(const json& v, std::map<std::string, int>& out) {
  if (!v.is_object())
    return "create_failures must be an object of To number to Twilio error code";
  std::map<std::string, int> m;
  for (const auto& [to, code] : v.items()) {
    int x = 0;
    if (auto why = read_int(code, "each error code of create_failures", 1, 99999, x);
        !why.empty())
      return why;
    m[to] = x;
  }
  out = std::move(m);
  return {};
}

std::string read_delivery_failures(const json& v, std::map<std::string, delivery_failure>& out) {
  if (!v.is_object())
    return "delivery_failures must be an object of To number to {status, error_code}";
  std::map<std::string, delivery_failure> m;
  for (const auto& [to, f] : v.items()) {
    if (!f.is_object())
      return "delivery_failures[" + to + "] must be an object {status, error_code}";
    delivery_failure df;
    for (const auto& [key, value] : f.items()) {
      if (key == "status") {
        if (!value.is_string() || (value != "undelivered" && value != "failed"))
          return "delivery_failures[" + to + "].status must be \"undelivered\" or \"failed\"";
        df.status = value.get<std::string>();
      } else if (key == "error_code") {
        if (auto why = read_int(value, "delivery_failures error_code", 1, 99999, df.error_code);
            !why.empty())
          return why;
      } else {
        return "delivery_failures[" + to + "]: unknown key " + key;
      }
    }
    if (df.status.empty() || df.error_code == 0)
      return "delivery_failures[" + to + "] needs both status and error_code";
    m[to] = df;
  }
  out = std::move(m);
  return {};
}

std::string read_numbers(const json& v, std::set<std::string>& out) {
  if (!v.is_array())
    return "drop_after_accept must be an array of To numbers";
  std::set<std::string> s;
  for (const auto& n : v) {
    if (!n.is_string())
      return "drop_after_accept must be an array of To numbers";
    s.insert(n.get<std::string>());
  }
  out = std::move(s);
  return {};
}

std::string read_seed(const json& v, std::uint64_t& out) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
    return "seed must be a non-negative integer";
  out = v.get<std::uint64_t>();
  return {};
}

} // namespace

int behaviour::callback_delay_ms(std::size_t i) const {
  if (callback_delays_ms.empty())
    return 0;
  return callback_delays_ms[std::min(i, callback_delays_ms.size() - 1)];
}

caf::expected<behaviour> behaviour_from_json(const json& j) {
  if (!j.is_object())
    return invalid("the behaviour must be a JSON object");
  behaviour b;
  for (const auto& [key, v] : j.items()) {
    std::string why;
    if (key == "callback_delays_ms")
      why = read_delays(v, b.callback_delays_ms);
    else if (key == "create_failures")
      why = read_create_failures(v, b.create_failures);
    else if (key == "delivery_failures")
      why = read_delivery_failures(v, b.delivery_failures);
    else if (key == "reorder_callbacks")
      why = read_bool(v, "reorder_callbacks", b.reorder_callbacks);
    else if (key == "duplicate_callbacks")
      why = read_bool(v, "duplicate_callbacks", b.duplicate_callbacks);
    else if (key == "drop_callbacks")
      why = read_share(v, "drop_callbacks", b.drop_callbacks);
    else if (key == "rate_limit_share")
      why = read_share(v, "rate_limit_share", b.rate_limit_share);
    else if (key == "retry_after_s")
      why = read_int(v, "retry_after_s", 0, 3600, b.retry_after_s);
    else if (key == "response_delay_ms")
      why = read_int(v, "response_delay_ms", 0, 600000, b.response_delay_ms);
    else if (key == "drop_after_accept")
      why = read_numbers(v, b.drop_after_accept);
    else if (key == "seed")
      why = read_seed(v, b.seed);
    else
      why = "unknown key " + key;
    if (!why.empty())
      return invalid(why);
  }
  return b;
}

caf::expected<behaviour> parse_behaviour(std::string_view json_text) {
  auto j = parse_json_body(json_text, max_json_depth);
  if (!j)
    return std::move(j.error());
  return behaviour_from_json(*j);
}

json to_json(const behaviour& b) {
  json failures = json::object();
  for (const auto& [to, f] : b.delivery_failures)
    failures[to] = {{"status", f.status}, {"error_code", f.error_code}};
  return {{"callback_delays_ms", b.callback_delays_ms},
          {"create_failures", b.create_failures},
          {"delivery_failures", failures},
          {"reorder_callbacks", b.reorder_callbacks},
          {"duplicate_callbacks", b.duplicate_callbacks},
          {"drop_callbacks", b.drop_callbacks},
          {"rate_limit_share", b.rate_limit_share},
          {"retry_after_s", b.retry_after_s},
          {"response_delay_ms", b.response_delay_ms},
          {"drop_after_accept", b.drop_after_accept},
          {"seed", b.seed}};
}

} // namespace smsd::sim

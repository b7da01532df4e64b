#include "http/request_json.hpp"

#include <utility>

#include "config/config.hpp"
#include "http/errors.hpp"
#include "http/json_body.hpp"

namespace smsd {

std::string field_reader::text(const char* name, std::size_t max_length) {
  auto i = obj_.find(name);
  if (i == obj_.end() || i->is_null()) {
    fail(std::string(name) + " is required");
    return {};
  }
  return checked(name, *i, max_length).value_or("");
}

std::optional<std::string> field_reader::optional_text(const char* name, std::size_t max_length) {
  auto i = obj_.find(name);
  if (i == obj_.end() || i->is_null()
      || (i->is_string() && i->get_ref<const std::string&>().empty()))
    return std::nullopt;
  return checked(name, *i, max_length);
}

const nlohmann::json* field_reader::value(const char* name) const {
  auto i = obj_.find(name);
  return i == obj_.end() ? nullptr : &*i;
}

void field_reader::fail(std::string message) {
  if (!error_)
    error_ = std::move(message);
}

std::optional<std::string> field_reader::checked(const char* name, const nlohmann::json& v,
                                                 std::size_t max_length) {
  if (!v.is_string()) {
    fail(std::string(name) + " must be a string");
    return std::nullopt;
  }
  const auto& s = v.get_ref<const std::string&>();
  if (s.find_first_not_of(" \t\r\n") == std::string::npos) {
    fail(std::string(name) + " must not be empty");
    return std::nullopt;
  }
  if (s.size() > max_length) {
    fail(std::string(name) + " must be at most " + std::to_string(max_length) + " bytes");
    return std::nullopt;
  }
  return s;
}

std::optional<http_response> check_id(const request_context& req, const char* name,
                                      const char* label) {
  const std::string& id = req.param(name);
  if (id.size() > max_id_length)
    return error_response(400, std::string(label) + " must be at most "
                                 + std::to_string(max_id_length) + " bytes");
  for (unsigned char c : id)
    if (c < 0x20 || c == 0x7f)
      return error_response(400, std::string(label) + " must not contain control characters");
  return std::nullopt;
}

std::optional<http_response> read_json_object(const handler_env& env, const request_context& req,
                                              nlohmann::json& body) {
  if (req.body_too_large)
    return error_response(413, "request body exceeds " + std::to_string(env.cfg->max_body_bytes)
                                 + " bytes");
  auto parsed = parse_json_body(req.body, env.cfg->max_json_depth);
  if (!parsed)
    return error_response(parsed.error());
  if (!parsed->is_object())
    return error_response(400, "request body must be a JSON object");
  body = std::move(*parsed);
  return std::nullopt;
}

} // namespace smsd

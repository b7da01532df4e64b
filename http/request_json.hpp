#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "http/handler_env.hpp"
#include "http/response.hpp"
#include "http/router.hpp"

namespace smsd {

/// Longest id smsd accepts in a path or a body (events, attendees, users, messages).
constexpr std::size_t max_id_length = 128;

/// Reads the fields of a JSON object body, keeping the first problem found (for the 400).
class field_reader {
public:
  explicit field_reader(const nlohmann::json& obj) : obj_(obj) {}

  /// A required, non-empty string.
  std::string text(const char* name, std::size_t max_length);

  /// An optional string: absent, null or "" is nullopt.
  std::optional<std::string> optional_text(const char* name, std::size_t max_length);

  /// The raw value of a field, or nullptr when absent.
  const nlohmann::json* value(const char* name) const;

  void fail(std::string message);

  const std::optional<std::string>& error() const { return error_; }

private:
  std::optional<std::string> checked(const char* name, const nlohmann::json& v,
                                     std::size_t max_length);

  const nlohmann::json& obj_;
  std::optional<std::string> error_;
};

/// The path parameter `name` checked as an id (length, no control characters); the 400 naming
/// it as `label` otherwise.
std::optional<http_response> check_id(const request_context& req, const char* name,
                                      const char* label);

/// The body size (413), then the JSON (400) of a request whose body must be a JSON object.
/// On success `body` holds it.
std::optional<http_response> read_json_object(const handler_env& env, const request_context& req,
                                              nlohmann::json& body);

} // namespace smsd

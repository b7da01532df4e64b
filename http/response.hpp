#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace smsd {

class response_stream;

/// What a route handler answers; the dispatcher writes it to the connection.
struct http_response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  /// Close the connection after this response (the request was not read to its end).
  bool close = false;
  /// Set for an answer that stays open (Server-Sent Events; http/response_stream.hpp): the head
  /// goes out without a length, then `body`, then whatever is written to the stream, until it
  /// ends; the connection closes after it.
  std::shared_ptr<response_stream> stream;
};

/// Renders JSON for the wire. Invalid UTF-8 in strings (a form value may carry any byte) is
/// replaced by U+FFFD instead of throwing.
std::string dump_json(const nlohmann::json& value);

/// A response with a JSON body.
http_response json_response(int status, const nlohmann::json& body);

/// A response without a body (204).
http_response empty_response(int status);

} // namespace smsd

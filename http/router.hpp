#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/http_parser.hpp"
#include "http/response.hpp"

namespace smsd {

/// Path parameters of a matched route, by name, percent-decoded.
using path_params = std::vector<std::pair<std::string, std::string>>;

/// One request as a route handler sees it. The body has already been read (at most the
/// configured cap; body_too_large says the request carried more, and the handler decides when
/// that becomes a 413 relative to its other checks).
struct request_context {
  std::string method;
  std::string peer;   ///< the client's address, for logs
  std::string target; ///< the raw request target, exactly as received (path and query)
  std::string path;   ///< the raw path part of the target
  std::string query;  ///< the raw query (after '?'), "" if none
  path_params params;
  header_fields headers; ///< case-insensitive names
  std::string body;
  bool body_too_large = false;

  /// A path parameter ("" if the route has none of that name).
  const std::string& param(std::string_view name) const;

  /// A header's value ("" if absent).
  const std::string& header(const std::string& name) const;

  bool has_header(const std::string& name) const;
};

/// A handler that may block (on the database, on Twilio): run on a handler thread.
using route_handler = std::function<http_response(const request_context&)>;

/// Delivers an async handler's answer; callable once, from any thread.
using responder = std::function<void(http_response)>;

/// A handler that never blocks: run on the connection's event loop, it answers through
/// `respond`, at once or later from another thread (the webhook answers once its report is
/// durable). If no answer came within `timeout`, the server sends `on_timeout` instead and
/// drops the late one.
struct async_route {
  std::function<void(request_context&, responder respond)> handler;
  std::chrono::milliseconds timeout{10000};
  http_response on_timeout;
};

/// Method + path pattern ("/api/admin/events/{id}") to handler. Literal segments match exactly
/// (case-sensitive, raw); a `{name}` segment matches one non-empty segment.
class router {
public:
  void add(std::string method, std::string_view pattern, route_handler handler);
  void add_async(std::string method, std::string_view pattern, async_route route);

  struct match {
    /// 200: found; 404: no route has this path; 405: the path exists for other methods;
    /// 400: a path parameter has a malformed percent-escape.
    int status = 404;
    const route_handler* handler = nullptr;             ///< set for a blocking route
    const async_route* async_handler = nullptr;         ///< set for an async route
    path_params params;
    std::string allow; ///< for 405: the methods the path accepts ("DELETE, PUT")
  };

  match find(std::string_view method, std::string_view path) const;

  /// Every registered route as (method, pattern), in the order added; the pattern as given to
  /// add() ("/api/admin/events/{eventId}"). For tests that compare with docs/openapi.yaml.
  std::vector<std::pair<std::string, std::string>> routes() const;

  /// The answer for a match that found neither handler: 404, 405 with Allow, or 400.
  static http_response failure_response(const match& m);

private:
  struct route {
    std::string method;
    std::vector<std::string> segments; ///< "{name}" for parameters
    route_handler handler;
    async_route async_handler; ///< used when its handler is set
  };
  /// Appends a route for `method` and `pattern` and returns it, for its handler to be set.
  route& add_route(std::string method, std::string_view pattern);

  std::vector<route> routes_;
};

/// Splits a raw request target into path and query ("/a?b=1" -> "/a", "b=1"). An absolute
/// target ("http://host/a?b") yields its path and query too.
std::pair<std::string, std::string> split_target(std::string_view target);

} // namespace smsd

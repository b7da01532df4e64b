#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace Poco::Net {
class HTTPClientSession;
}

namespace smsd::test {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// One request to send.
struct http_request_spec {
  std::string method = "GET";
  std::string target = "/"; ///< path and query, sent exactly as given
  header_list headers;
  std::string body;
  std::string content_type; ///< sets Content-Type when not empty
  bool chunked = false;     ///< send the body with Transfer-Encoding: chunked
};

/// What came back.
struct http_reply {
  int status = 0;
  header_list headers;
  std::string body;

  /// A header's value, case-insensitively ("" if absent).
  std::string header(const std::string& name) const;
  bool has_header(const std::string& name) const;
  /// The body as JSON; throws nlohmann::json::parse_error if it is not JSON.
  nlohmann::json json() const;
};

/// A small blocking HTTP/1.1 client for tests (Poco's HTTPClientSession underneath). With
/// keep_alive, requests reuse one connection (reconnecting if the server closed it); without,
/// each request uses a new connection and asks the server to close it. Network failures throw
/// (Poco::Exception).
class http_test_client {
public:
  explicit http_test_client(std::uint16_t port, bool keep_alive = false,
                            std::string host = "127.0.0.1", int timeout_ms = 30000);
  ~http_test_client();
  http_test_client(const http_test_client&) = delete;
  http_test_client& operator=(const http_test_client&) = delete;

  http_reply send(const http_request_spec& spec);

  http_reply request(const std::string& method, const std::string& target,
                     const header_list& headers = {}, const std::string& body = {},
                     const std::string& content_type = {});

  http_reply get(const std::string& target, const header_list& headers = {});
  http_reply del(const std::string& target, const header_list& headers = {});
  http_reply put_json(const std::string& target, const std::string& json,
                      const header_list& headers = {});
  http_reply post_json(const std::string& target, const std::string& json,
                       const header_list& headers = {});
  http_reply post_form(const std::string& target, const std::string& body,
                       const header_list& headers = {});

  /// Drops the current connection (the next request opens a new one).
  void reset();

private:
  std::uint16_t port_;
  bool keep_alive_;
  std::string host_;
  int timeout_ms_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

/// One request on a new connection.
http_reply http_send(std::uint16_t port, const http_request_spec& spec);

/// `Authorization: Bearer <token>` as a header list entry.
std::pair<std::string, std::string> bearer(const std::string& token);

} // namespace smsd::test

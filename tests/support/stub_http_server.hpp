#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace smsd::test {

/// One request as the stub received it.
struct stub_request {
  std::string method;
  std::string target; ///< path and query, as sent
  std::string path;   ///< target up to '?'
  std::string query;  ///< target after '?', still encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connection = 0; ///< which connection it came on, counting from 1

  /// A header's value, case-insensitively ("" if absent).
  std::string header(const std::string& name) const;
};

/// What the stub does with one request.
struct stub_reply {
  enum class action {
    respond, ///< answer with status, headers and body
    drop,    ///< read the request, then close the connection without a byte of answer
    hang,    ///< read the request and never answer, until the client goes away
  };
  action what = action::respond;
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int delay_ms = 0;         ///< simulated latency before answering
  bool close_after = false; ///< close the connection after the answer (no Connection: close)

  static stub_reply json(int status, std::string body,
                         std::vector<std::pair<std::string, std::string>> headers = {});
  static stub_reply text(int status, std::string content_type, std::string body);
  static stub_reply drop();
  static stub_reply hang();
};

/// A scriptable HTTP/1.1 server on 127.0.0.1, port 0, for testing HTTP clients: it answers a
/// scripted sequence (or asks a function), records every request, counts connections and the
/// most requests in flight at once, and can misbehave on purpose (drop, hang, close after an
/// answer). One thread per connection; keep-alive unless the client asks to close. With TLS
/// files, it speaks HTTPS (Poco NetSSL) instead.
class stub_http_server {
public:
  struct tls_files {
    std::string cert_file;
    std::string key_file;
  };

  stub_http_server();
  explicit stub_http_server(tls_files tls);
  ~stub_http_server();
  stub_http_server(const stub_http_server&) = delete;
  stub_http_server& operator=(const stub_http_server&) = delete;

  std::uint16_t port() const;
  /// "http://127.0.0.1:PORT" (or https://).
  std::string base_url() const;

  /// Answers the next requests in this order (appended to what is left of the script).
  void script(std::vector<stub_reply> replies);
  /// Answers every request once the script has run out (default: 404 with `{}`).
  void fallback(stub_reply reply);
  /// Decides each answer instead of the script (for answers that depend on the request).
  void handler(std::function<stub_reply(const stub_request&)> decide);

  std::vector<stub_request> requests() const;
  std::size_t request_count() const;
  int connections_accepted() const;
  int connections_closed() const;
  int max_in_flight() const;

  /// Waits until `done()` holds (checked under the stub's lock after every change) or the
  /// timeout passes; returns whether it holds.
  bool wait_until(const std::function<bool()>& done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

private:
  struct state;
  std::shared_ptr<state> state_;
};

/// A key and a self-signed certificate in PEM files in a new temporary directory (removed by the
/// destructor). `subject_alt_name` in OpenSSL's syntax: "IP:127.0.0.1", "DNS:localhost".
class self_signed_cert {
public:
  explicit self_signed_cert(const std::string& subject_alt_name);
  ~self_signed_cert();
  self_signed_cert(const self_signed_cert&) = delete;
  self_signed_cert& operator=(const self_signed_cert&) = delete;

  const std::string& cert_file() const { return cert_file_; }
  const std::string& key_file() const { return key_file_; }
  stub_http_server::tls_files files() const { return {cert_file_, key_file_}; }

private:
  std::string dir_, cert_file_, key_file_;
};

} // namespace smsd::test

#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace smsd::test {

/// Twilio's OpenAPI description of the 2010-04-01 API, as @twilio/cli-core ships it in tests/node.
std::string twilio_api_spec();

struct prism_options {
  std::string command = "mock"; ///< "mock", or "proxy" (validates, then forwards to `upstream`)
  std::string spec = twilio_api_spec();
  std::string upstream;  ///< proxy only: the server Prism forwards to, e.g. "http://127.0.0.1:P"
  bool errors = true;    ///< --errors: a request or response that breaks the spec gets an error
  int start_timeout_ms = 60000;
  /// More arguments, after the others (e.g. "--validate-request=false" for a proxy that checks
  /// only the answers, so that smsd's own refusals of bad requests are checked too).
  std::vector<std::string> extra_args;
};

/// Stoplight Prism (tests/node/node_modules/.bin/prism) as a child process on a free loopback
/// port: `prism mock SPEC` or `prism proxy SPEC UPSTREAM`, with --errors by default. The
/// constructor returns once Prism answers HTTP (a port taken meanwhile is retried with another);
/// it throws std::runtime_error with Prism's output otherwise. Prism runs in a process group of
/// its own, stopped by its id; the destructor never leaves it running.
class prism_process {
public:
  explicit prism_process(prism_options options = {});
  ~prism_process();
  prism_process(const prism_process&) = delete;
  prism_process& operator=(const prism_process&) = delete;

  std::uint16_t port() const { return port_; }
  /// "http://127.0.0.1:PORT"
  std::string base_url() const;
  pid_t pid() const { return pid_; }

  /// SIGTERM to its process group, SIGKILL after `timeout_ms`; returns the exit status or
  /// -signal (0 if it was not running).
  int stop(int timeout_ms = 5000);
  /// Everything Prism wrote so far (each request and its validation), for failure messages.
  std::string log() const;

private:
  bool start(const prism_options& options, std::string& why);
  bool answers_http() const;
  /// Whether it exited within `timeout_ms`, leaving it unreaped.
  bool exited(int timeout_ms) const;
  /// Collects its exit status; returns it (or -signal).
  int reap();

  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string log_path_;
};

} // namespace smsd::test

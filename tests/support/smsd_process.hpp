#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

namespace smsd::test {

/// The real smsd binary as a child process: started with a given environment on port 0, its
/// port read from its "listening on" line, stopped by its own pid (SIGTERM, or SIGKILL for
/// crash tests). The destructor never leaves it running.
class smsd_process {
public:
  /// Starts `smsd serve` with exactly these variables (plus PATH); SMSD_LISTEN defaults to
  /// 127.0.0.1:0. Throws std::runtime_error (with its stderr) if it does not come up in 30 s.
  explicit smsd_process(std::map<std::string, std::string> env);
  ~smsd_process();
  smsd_process(const smsd_process&) = delete;
  smsd_process& operator=(const smsd_process&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  /// SIGTERM and wait (SIGKILL after 20 s). Returns the exit status (or -signal).
  int stop();
  /// SIGKILL and wait: a crash, as far as smsd can tell.
  void kill9();
  /// What it wrote to stderr so far (its log), for failure messages.
  std::string log() const;

private:
  int wait_for_exit(int timeout_ms);

  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string log_path_;
};

/// A TCP port on 127.0.0.1 that was free a moment ago (for a server that must keep its port
/// across restarts).
std::uint16_t free_port();

/// Runs `smsd ARGS...` to completion with the environment; returns exit code and output.
struct run_result {
  int exit_code;
  std::string output; ///< stdout and stderr together
};
run_result run_smsd(const std::string& args, const std::map<std::string, std::string>& env,
                    int timeout_ms = 60000);

} // namespace smsd::test

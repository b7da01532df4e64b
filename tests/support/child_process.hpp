#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace smsd::test {

/// One of our programs run as a child of the test: stdout is read until its
/// "<marker>HOST:PORT" line, stderr goes to a log file, and it is stopped by its own pid.
/// The destructor never leaves it running. smsd_process and twilio_sim_process are this with
/// their binary's arguments.
class child_process {
public:
  /// Starts argv[0] with argv and exactly `env` (plus PATH). Throws std::runtime_error (with
  /// what it printed) if no "<marker>HOST:PORT" line comes within start_timeout_ms.
  child_process(std::vector<std::string> argv, const std::map<std::string, std::string>& env,
                std::string marker, int start_timeout_ms = 30000);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  /// Sends `signal` and waits up to timeout_ms. Returns the exit status, -signal if a signal
  /// ended it, or INT32_MIN if it is still running (the caller decides what comes next).
  int signal_and_wait(int signal, int timeout_ms);
  /// SIGKILL and wait.
  void kill9();
  /// What it wrote to stderr so far.
  std::string log() const;

private:
  int wait_for_exit(int timeout_ms);

  std::string name_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string log_path_;
};

/// Exit code and output (stdout and stderr together) of a program run to completion.
struct run_result {
  int exit_code;
  std::string output;
};

/// Runs argv to completion with exactly `env` (plus PATH), killing it after timeout_ms.
run_result run_child(const std::vector<std::string>& argv,
                     const std::map<std::string, std::string>& env, int timeout_ms);

/// Runs a shell command (popen); its exit status (-1 if it did not exit normally) and its stdout
/// (stderr too, with 2>&1 in the command).
std::pair<int, std::string> run_shell(const std::string& command);

/// A TCP port on 127.0.0.1 that was free a moment ago (for a server that must keep its port
/// across restarts, or whose port another process must know before it starts).
std::uint16_t free_port();

} // namespace smsd::test

#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace smsd::test {

/// The real twilio_sim binary as a child process: started with the given arguments (plus
/// `--listen 127.0.0.1:0` unless they name a --listen), its port read from its
/// "twilio_sim listening on" line, stopped by its own pid. The destructor never leaves it running.
class twilio_sim_process {
public:
  /// Throws std::runtime_error (with its output) if it does not come up in 30 s.
  explicit twilio_sim_process(std::vector<std::string> args);

  std::uint16_t port() const { return child_.port(); }
  pid_t pid() const { return child_.pid(); }
  bool running() const { return child_.running(); }

  /// Sends `signal` (SIGTERM unless told) and waits up to timeout_ms (then SIGKILL). Returns the
  /// exit status, -signal if a signal ended it, or INT32_MIN if it had to be killed.
  int stop(int timeout_ms = 20000, int signal = SIGTERM);
  /// What it wrote to stderr so far (its log).
  std::string log() const { return child_.log(); }

private:
  child_process child_;
};

/// Runs `twilio_sim ARGS...` to completion; exit code and output (stdout and stderr together).
run_result run_twilio_sim(const std::vector<std::string>& args, int timeout_ms = 30000);

} // namespace smsd::test

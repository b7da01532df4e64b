#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "tests/support/child_process.hpp"

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

  std::uint16_t port() const { return child_.port(); }
  pid_t pid() const { return child_.pid(); }
  bool running() const { return child_.running(); }

  /// SIGTERM and wait (SIGKILL after 20 s, with its threads' stacks printed first). Returns
  /// the exit status (or -signal); a non-zero one prints the end of its log.
  int stop();
  /// SIGKILL and wait: a crash, as far as smsd can tell.
  void kill9() { child_.kill9(); }
  /// What it wrote to stderr so far (its log), for failure messages.
  std::string log() const { return child_.log(); }

private:
  child_process child_;
};

/// Runs `smsd ARGS...` to completion with the environment; returns exit code and output.
run_result run_smsd(const std::string& args, const std::map<std::string, std::string>& env,
                    int timeout_ms = 60000);

} // namespace smsd::test

#include "tests/support/twilio_sim_process.hpp"

#include <algorithm>
#include <climits>
#include <utility>

#ifndef SMSD_TWILIO_SIM_BINARY
#define SMSD_TWILIO_SIM_BINARY "twilio_sim"
#endif

namespace smsd::test {

namespace {

std::vector<std::string> sim_argv(std::vector<std::string> args) {
  if (std::find(args.begin(), args.end(), "--listen") == args.end())
    args.insert(args.begin(), {"--listen", "127.0.0.1:0"});
  args.insert(args.begin(), SMSD_TWILIO_SIM_BINARY);
  return args;
}

} // namespace

twilio_sim_process::twilio_sim_process(std::vector<std::string> args)
  : child_(sim_argv(std::move(args)), {}, "twilio_sim listening on ") {
}

int twilio_sim_process::stop(int timeout_ms, int signal) {
  const int rc = child_.signal_and_wait(signal, timeout_ms);
  if (rc == INT32_MIN)
    child_.kill9();
  return rc;
}

run_result run_twilio_sim(const std::vector<std::string>& args, int timeout_ms) {
  std::vector<std::string> argv{SMSD_TWILIO_SIM_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_child(argv, {}, timeout_ms);
}

} // namespace smsd::test

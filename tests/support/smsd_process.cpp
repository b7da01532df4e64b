#include "tests/support/smsd_process.hpp"

#include <signal.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <utility>
#include <vector>

#ifndef SMSD_BINARY
#define SMSD_BINARY "smsd"
#endif

namespace smsd::test {

namespace {

std::map<std::string, std::string> with_listen(std::map<std::string, std::string> env) {
  env.emplace("SMSD_LISTEN", "127.0.0.1:0");
  return env;
}

} // namespace

smsd_process::smsd_process(std::map<std::string, std::string> env)
  : child_({SMSD_BINARY, "serve"}, with_listen(std::move(env)), "smsd listening on ") {
}

smsd_process::~smsd_process() {
  if (running())
    stop();
}

int smsd_process::stop() {
  if (!running())
    return 0;
  int rc = child_.signal_and_wait(SIGTERM, 20000);
  if (rc == INT32_MIN) {
    std::fprintf(stderr, "smsd (pid %d) did not stop within 20 s of SIGTERM: killing it\n",
                 static_cast<int>(pid()));
    // Where it hangs, for the test's output.
    if (access("/usr/bin/gdb", X_OK) == 0) {
      auto cmd = "timeout 60 /usr/bin/gdb -p " + std::to_string(pid())
                 + " -batch -ex 'thread apply all bt 20' 2>/dev/null | grep -E '^Thread|^#' >&2";
      if (std::system(cmd.c_str()) != 0)
        std::fprintf(stderr, "(gdb could not read its threads)\n");
    }
    rc = child_.signal_and_wait(SIGKILL, 10000);
  }
  if (rc != 0) {
    auto text = log();
    std::fprintf(stderr, "smsd exited with %d; the end of its log:\n%s\n", rc,
                 text.substr(text.size() > 4000 ? text.size() - 4000 : 0).c_str());
  }
  return rc;
}

run_result run_smsd(const std::string& args, const std::map<std::string, std::string>& env,
                    int timeout_ms) {
  std::vector<std::string> argv{SMSD_BINARY};
  std::istringstream words(args);
  for (std::string w; words >> w;)
    argv.push_back(w);
  return run_child(argv, env, timeout_ms);
}

} // namespace smsd::test

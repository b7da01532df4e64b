#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "server_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

struct command_result {
  int exit_code = -1;
  std::string output;
};

command_result run(const std::string& command) {
  command_result r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe)
    return r;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe))
    r.output += buf;
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

} // namespace

TEST_CASE("callbacks signed by the official twilio library are accepted exactly when correct",
          "[webhook][node]") {
  const auto dir = std::filesystem::path(SMSD_SOURCE_DIR) / "tests" / "node";
  if (!std::filesystem::exists(dir / "node_modules" / "twilio"))
    FAIL("tests/node/node_modules is missing: run `npm ci` in tests/node first");
  if (run("node --version").exit_code != 0)
    FAIL("node is not installed (Debian package nodejs); it runs tests/node/signed_callbacks.mjs");

  server_fixture f;
  const auto result = run("node '" + (dir / "signed_callbacks.mjs").string() + "'"
                          + " --base-url http://127.0.0.1:" + std::to_string(f.port())
                          + " --public-url " + test_public_url
                          + " --auth-token " + test_auth_token);
  INFO(result.output);
  CHECK(result.exit_code == 0);
  CHECK(result.output.find("FAIL") == std::string::npos);
  // Only the correctly signed cases reached the intake.
  CHECK(f.intake.count() == 3);
  for (const auto& report : f.intake.reports()) {
    CHECK(report.message_id == "msg_node_check");
    CHECK(report.provider_status == "undelivered");
    CHECK(report.error_code == "30003");
  }
}

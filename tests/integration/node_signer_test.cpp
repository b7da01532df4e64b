// Callbacks signed by Twilio's official Node library (an independent signer) against the real
// smsd process: accepted and applied when signed right; refused for any one-byte change.
#include <array>
#include <cstdio>
#include <filesystem>

#include "tests/integration/process_env.hpp"
#include "tests/support/smsd_process.hpp"

using namespace smsd;
using namespace smsd::test;

TEST_CASE("callbacks signed by the official twilio library are accepted by smsd, and one-byte "
          "changes are refused",
          "[integration][node]") {
  const auto dir = std::filesystem::path(SMSD_SOURCE_DIR) / "tests" / "node";
  if (!std::filesystem::exists(dir / "node_modules" / "twilio"))
    FAIL("tests/node/node_modules is missing: run `npm ci` in tests/node (install-deps.sh does)");
  auto url = temp_sqlite_url();
  auto db = seeded_store(url);
  // The message the script's callbacks name (?mid=msg_node_check, its SID).
  seed_message(*db, "msg_node_check", std::string("SM0123456789abcdef0123456789abcdef"));

  smsd_process p(child_env(url));
  std::string cmd = "node '" + (dir / "signed_callbacks.mjs").string() + "' --base-url http://127.0.0.1:"
                    + std::to_string(p.port()) + " --public-url " + public_url + " --auth-token "
                    + auth_token + " 2>&1";
  std::string output;
  int rc = -1;
  if (FILE* pipe = popen(cmd.c_str(), "r")) {
    std::array<char, 4096> buf{};
    while (fgets(buf.data(), static_cast<int>(buf.size()), pipe))
      output += buf.data();
    rc = pclose(pipe);
  }
  INFO(output);
  CHECK(rc == 0);
  CHECK(output.find("FAIL") == std::string::npos);
  CHECK(p.stop() == 0);
  auto row = db->find_message_by_id("msg_node_check");
  REQUIRE(row);
  REQUIRE(*row);
  CHECK((*row)->state.status == "undelivered");
  CHECK((*row)->state.error_code == std::string("30003"));
  auto t = db->timeline("msg_node_check");
  REQUIRE(t);
  REQUIRE(*t);
  CHECK((*t)->events.size() == 1); // three accepted deliveries of one status: stored once
}

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include <catch2/catch.hpp>

#include "sim_fixture.hpp"
#include "tests/support/twilio_sim_process.hpp"

using namespace smsd;
using namespace smsd::test;
using json = nlohmann::json;

namespace {

// A file removed at the end of the test.
struct temp_file {
  explicit temp_file(const std::string& text) {
    char tmpl[] = "/tmp/twilio-sim-config-XXXXXX";
    const int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    path = tmpl;
    std::ofstream(path) << text;
  }
  ~temp_file() { std::remove(path.c_str()); }
  std::string path;
};

} // namespace

TEST_CASE("the binary prints its port, serves, and stops on SIGTERM with callbacks pending",
          "[twilio_sim][process][slow]") {
  callback_receiver receiver;
  temp_file config(R"({"callback_delays_ms": [60000]})");
  twilio_sim_process sim({"--account-sid", sim_account, "--auth-token", sim_token, "--config",
                          config.path, "--callback-base", receiver.url("")});
  REQUIRE(sim.port() != 0);
  http_test_client client(sim.port());
  auto r = client.post_form(sim_messages_path,
                            create_body({"+15551230100", "hi", "+15005550006", "",
                                         "https://smsd.example.test/cb"}),
                            sim_auth());
  REQUIRE(r.status == 201);
  CHECK(client.get("/_sim/stats").json().at("callbacks_pending") == 2);
  const auto start = std::chrono::steady_clock::now();
  CHECK(sim.stop() == 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK(receiver.received().empty());
}

TEST_CASE("the binary stops on SIGINT too", "[twilio_sim][process][slow]") {
  twilio_sim_process sim({"--account-sid", sim_account, "--auth-token", sim_token});
  http_test_client client(sim.port());
  CHECK(client.get("/_sim/stats").status == 200);
  CHECK(sim.stop(5000, SIGINT) == 0);
}

TEST_CASE("the binary refuses bad arguments and bad behaviour files with exit code 2",
          "[twilio_sim][process]") {
  auto r = run_twilio_sim({"--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("--callback-base") != std::string::npos);
  CHECK(r.output.find("--account-sid") != std::string::npos);

  CHECK(run_twilio_sim({"--auth-token", "t"}).exit_code != 0);
  CHECK(run_twilio_sim({"--account-sid", "XX12", "--auth-token", "t"}).exit_code == 2);
  CHECK(run_twilio_sim({"--account-sid", "AC12", "--auth-token", "t", "--listen", "nowhere"})
          .exit_code
        == 2);
  temp_file bad(R"({"callback_delays": [1]})");
  r = run_twilio_sim({"--account-sid", "AC12", "--auth-token", "t", "--config", bad.path});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("unknown key callback_delays") != std::string::npos);
  CHECK(run_twilio_sim({"--account-sid", "AC12", "--auth-token", "t", "--config", "/nonexistent"})
          .exit_code
        == 2);
}

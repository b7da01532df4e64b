// The smsd binary's command line: help, version, migrate, and clear refusals of bad settings.
#include "tests/integration/process_env.hpp"
#include "tests/support/smsd_process.hpp"

using namespace smsd;
using namespace smsd::test;

TEST_CASE("smsd --help and --version answer and exit 0", "[integration][cli]") {
  auto help = run_smsd("--help", {});
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("serve") != std::string::npos);
  CHECK(help.output.find("migrate") != std::string::npos);
  auto version = run_smsd("--version", {});
  CHECK(version.exit_code == 0);
  CHECK(version.output.find("smsd " SMSD_VERSION) != std::string::npos);
}

TEST_CASE("smsd migrate applies the migrations once and reports the version",
          "[integration][cli]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  SECTION(dialect) {
    auto url = database_url_of(dialect);
    auto first = run_smsd("migrate", {{"SMSD_DATABASE_URL", url}});
    INFO(first.output);
    CHECK(first.exit_code == 0);
    CHECK(first.output.find("database at migration") != std::string::npos);
    auto again = run_smsd("migrate", {{"SMSD_DATABASE_URL", url}});
    CHECK(again.exit_code == 0);
    auto db = open_store(url);
    REQUIRE(db);
    auto st = (*db)->migrations();
    REQUIRE(st);
    CHECK(st->applied == st->latest);
    CHECK(st->latest >= 1);
  }
}

TEST_CASE("a bad setting stops start-up with a clear message and a non-zero exit",
          "[integration][cli]") {
  auto bad_listen = run_smsd("serve", {{"SMSD_LISTEN", "nonsense"}});
  CHECK(bad_listen.exit_code == 2);
  CHECK(bad_listen.output.find("SMSD_LISTEN") != std::string::npos);
  auto bad_db = run_smsd("serve", {{"SMSD_DATABASE_URL", "mysql://x"}});
  CHECK(bad_db.exit_code == 2);
  CHECK(bad_db.output.find("SMSD_DATABASE_URL") != std::string::npos);
  // A database that cannot be reached: exit 1 with the reason, and no secret in the output.
  auto unreachable = run_smsd("serve", {{"SMSD_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none"},
                                        {"TWILIO_AUTH_TOKEN", "very-secret-token"}},
                              60000);
  CHECK(unreachable.exit_code == 1);
  CHECK(unreachable.output.find("database") != std::string::npos);
  CHECK(unreachable.output.find("very-secret-token") == std::string::npos);
  auto unwritable = run_smsd("migrate", {{"SMSD_DATABASE_URL", "sqlite:/proc/nope/smsd.db"}});
  CHECK(unwritable.exit_code == 1);
}

TEST_CASE("smsd serve answers health checks and stops cleanly on SIGTERM", "[integration][cli]") {
  smsd_process p(child_env(temp_sqlite_url()));
  auto live = http_send(p.port(), {"GET", "/livez", {}, "", "", false});
  CHECK(live.status == 200);
  auto ready = http_send(p.port(), {"GET", "/readyz", {}, "", "", false});
  CHECK(ready.status == 200);
  CHECK(ready.json()["migrations"]["applied"] == ready.json()["migrations"]["latest"]);
  CHECK(p.stop() == 0);
}

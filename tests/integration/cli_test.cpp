// The smsd binary's command line: help, version, migrate, token, and clear refusals of bad
// settings.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "http/organizer_token.hpp"
#include "tests/integration/process_env.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/smsd_process.hpp"

using namespace smsd;
using namespace smsd::test;

TEST_CASE("smsd --help and --version answer and exit 0", "[integration][cli]") {
  auto help = run_smsd("--help", {});
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("serve") != std::string::npos);
  CHECK(help.output.find("migrate") != std::string::npos);
  CHECK(help.output.find("token") != std::string::npos);
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

// -- smsd token ---------------------------------------------------------------------------------------

namespace {

const std::string token_secret = "cli-test-jwt-secret-0123456789abcdef";

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// `smsd token ARGS` run by the shell with exactly `vars`: its exit status and what it wrote to
/// stdout alone, or (`stderr_only`) to stderr alone.
std::pair<int, std::string> token_cli(const std::string& vars, const std::string& args,
                                      bool stderr_only = false) {
  const std::string redirect = stderr_only ? " 2>&1 >/dev/null" : " 2>/dev/null";
  return run_shell("env -i PATH=\"$PATH\" " + vars + " '" SMSD_BINARY "' token " + args + redirect);
}

} // namespace

TEST_CASE("smsd token prints a token the server accepts for that user, for the time asked",
          "[integration][cli]") {
  const auto before = unix_seconds();
  auto [status, out] = token_cli("SMSD_JWT_SECRET=" + token_secret, "--user u-owner-1");
  REQUIRE(status == 0);
  REQUIRE_FALSE(out.empty());
  CHECK(out.back() == '\n');
  const auto token = out.substr(0, out.find('\n'));
  CHECK(out.size() == token.size() + 1); // one line: the token alone
  CHECK(out.find(token_secret) == std::string::npos);
  auto id = verify_organizer_token(token, token_secret, unix_seconds());
  REQUIRE(id);
  CHECK(id->user_id == "u-owner-1");
  CHECK(id->expires_at >= before + 3600); // the default: an hour
  CHECK(id->expires_at <= unix_seconds() + 3600);

  auto [s90, out90] = token_cli("SMSD_JWT_SECRET=" + token_secret, "--user u2 --ttl 90s");
  REQUIRE(s90 == 0);
  auto id90 = verify_organizer_token(out90.substr(0, out90.find('\n')), token_secret, unix_seconds());
  REQUIRE(id90);
  CHECK(id90->user_id == "u2");
  CHECK(id90->expires_at >= before + 90);
  CHECK(id90->expires_at <= unix_seconds() + 90);
  auto [s2d, out2d] = token_cli("SMSD_JWT_SECRET=" + token_secret, "--user u3 --ttl 2d");
  REQUIRE(s2d == 0);
  auto id2d = verify_organizer_token(out2d.substr(0, out2d.find('\n')), token_secret,
                                     unix_seconds() + 2 * 86400 - 60);
  CHECK(id2d);

  // A real smsd with the same secret lets the token in (no events: an empty list).
  auto env = child_env(temp_sqlite_url());
  env["SMSD_JWT_SECRET"] = token_secret;
  smsd_process p(env);
  auto r = http_send(p.port(), {"GET", "/api/events", {bearer(token)}, "", "", false});
  CHECK(r.status == 200);
  CHECK(r.json() == nlohmann::json{{"events", nlohmann::json::array()}});
  CHECK(p.stop() == 0);
}

TEST_CASE("smsd token refuses without a secret, a user or a sensible ttl, and says why on stderr",
          "[integration][cli]") {
  // No secret: exit 1, nothing on stdout, the reason on stderr.
  auto [no_secret, out] = token_cli("", "--user u1");
  CHECK(no_secret == 1);
  CHECK(out.empty());
  auto [no_secret_again, why] = token_cli("", "--user u1", true);
  CHECK(no_secret_again == 1);
  CHECK_THAT(why, Catch::Contains("SMSD_JWT_SECRET"));
  CHECK(token_cli("SMSD_JWT_SECRET=", "--user u1").first == 1); // empty is no secret

  const std::string with_secret = "SMSD_JWT_SECRET=" + token_secret;
  for (const auto* ttl : {"soon", "0s", "-5m", "500ms", "1y", "''"}) {
    INFO("--ttl " << ttl);
    auto [status, err] = token_cli(with_secret, std::string("--user u1 --ttl ") + ttl, true);
    CHECK(status == 2);
    CHECK_THAT(err, Catch::Contains("--ttl"));
    CHECK(token_cli(with_secret, std::string("--user u1 --ttl ") + ttl).second.empty());
  }
  auto [empty_user, err] = token_cli(with_secret, "--user ''", true);
  CHECK(empty_user == 2);
  CHECK_THAT(err, Catch::Contains("--user"));
  auto [long_user, long_err] = token_cli(with_secret, "--user " + std::string(129, 'u'), true);
  CHECK(long_user == 2);
  CHECK_THAT(long_err, Catch::Contains("user id"));
  // No --user at all: the command line is refused.
  auto [missing, missing_err] = token_cli(with_secret, "", true);
  CHECK(missing != 0);
  CHECK_THAT(missing_err, Catch::Contains("--user"));
  CHECK(err.find(token_secret) == std::string::npos);
  CHECK(long_err.find(token_secret) == std::string::npos);
}

// smsd's entry point: command line, configuration, start, wait for a signal, stop.
#include <chrono>
#include <csignal>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "app/application.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"
#include "config/config.hpp"
#include "http/organizer_token.hpp"
#include "scheduling/schedule.hpp"

namespace {

int serve(const smsd::config& cfg) {
  // Block the stop signals before any thread exists, so only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto app = smsd::application::start(cfg);
  if (!app) {
    std::cerr << "smsd: cannot start: " << smsd::describe(app.error()) << "\n";
    return 1;
  }
  // Tests and scripts read this line to learn the port (SMSD_LISTEN may ask for port 0).
  std::cout << "smsd listening on " << cfg.listen_host << ":" << (*app)->port() << std::endl;
  spdlog::info("smsd {} listening on {}:{}", SMSD_VERSION, cfg.listen_host, (*app)->port());
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("signal {}: stopping", sig);
  (*app)->stop();
  spdlog::info("stopped");
  return 0;
}

/// `smsd token`: prints an organizer token for `user`, valid for `ttl` (90s, 15m, 1h, 2d).
/// Exit 2 for a bad argument, 1 without a secret to sign with.
int print_token(const smsd::config& cfg, const std::string& user, const std::string& ttl) {
  auto ttl_ms = smsd::parse_duration(ttl);
  if (!ttl_ms) {
    std::cerr << "smsd token: --ttl: " << smsd::message_of(ttl_ms.error()) << "\n";
    return 2;
  }
  if (*ttl_ms % 1000 != 0) {
    std::cerr << "smsd token: --ttl must be whole seconds (90s, 15m, 1h, 2d)\n";
    return 2;
  }
  if (user.empty()) {
    std::cerr << "smsd token: --user must name a user id\n";
    return 2;
  }
  if (cfg.jwt_secret.empty()) {
    std::cerr << "smsd token: SMSD_JWT_SECRET is not set: organizer tokens are disabled, so "
                 "there is nothing to sign with\n";
    return 1;
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  auto token = smsd::sign_organizer_token(user, cfg.jwt_secret, now, *ttl_ms / 1000);
  if (!token) {
    std::cerr << "smsd token: " << smsd::message_of(token.error()) << "\n";
    return 2;
  }
  std::cout << *token << std::endl;
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App cli{"smsd: tracks every SMS sent through Twilio and its delivery status.\n"
               "Configuration comes from the environment (and the JSON file named by "
               "SMSD_CONFIG); see docs/configuration.md."};
  cli.set_version_flag("--version", std::string("smsd ") + SMSD_VERSION);
  auto serve_cmd = cli.add_subcommand("serve", "Migrate the database and serve HTTP (the default)");
  auto migrate_cmd = cli.add_subcommand("migrate", "Apply the database migrations and exit");
  auto token_cmd = cli.add_subcommand(
    "token", "Print an organizer token for a user (HS256, signed with SMSD_JWT_SECRET) and exit");
  std::string token_user;
  std::string token_ttl = "1h";
  token_cmd->add_option("--user", token_user, "The user id the token names (its sub)")->required();
  token_cmd->add_option("--ttl", token_ttl, "How long the token is valid: 90s, 15m, 1h, 2d")
    ->capture_default_str();
  cli.require_subcommand(0, 1);
  CLI11_PARSE(cli, argc, argv);

  auto cfg = smsd::load_config(smsd::process_env());
  if (!cfg) {
    std::cerr << "smsd: configuration error: " << smsd::message_of(cfg.error()) << "\n";
    return 2;
  }
  if (token_cmd->parsed())
    return print_token(*cfg, token_user, token_ttl);
  smsd::init_logging(cfg->log_level);
  if (migrate_cmd->parsed()) {
    auto v = smsd::run_migrations(*cfg);
    if (!v) {
      std::cerr << "smsd: " << smsd::describe(v.error()) << "\n";
      return 1;
    }
    std::cout << "smsd: database at migration " << *v << "\n";
    return 0;
  }
  (void) serve_cmd;
  return serve(*cfg);
}

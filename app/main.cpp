// smsd's entry point: command line, configuration, start, wait for a signal, stop.
#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

#include "app/application.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"
#include "config/config.hpp"

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

} // namespace

int main(int argc, char** argv) {
  CLI::App cli{"smsd: tracks every SMS sent through Twilio and its delivery status.\n"
               "Configuration comes from the environment (and the JSON file named by "
               "SMSD_CONFIG); see docs/configuration.md."};
  cli.set_version_flag("--version", std::string("smsd ") + SMSD_VERSION);
  auto serve_cmd = cli.add_subcommand("serve", "Migrate the database and serve HTTP (the default)");
  auto migrate_cmd = cli.add_subcommand("migrate", "Apply the database migrations and exit");
  cli.require_subcommand(0, 1);
  CLI11_PARSE(cli, argc, argv);

  auto cfg = smsd::load_config(smsd::process_env());
  if (!cfg) {
    std::cerr << "smsd: configuration error: " << smsd::message_of(cfg.error()) << "\n";
    return 2;
  }
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

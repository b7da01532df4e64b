// twilio_sim's entry point: command line, behaviour file, start, wait for a signal, stop.
#include <signal.h>

#include <csignal>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"
#include "twilio_sim/sim_server.hpp"

namespace {

// "host:port" (an IPv6 host in brackets); false if malformed.
bool split_listen(const std::string& text, std::string& host, std::uint16_t& port) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return false;
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned long value = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || value > 65535)
      return false;
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (value > 65535)
    return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

void init_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("twilio_sim");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App cli{"twilio_sim: a stand-in for Twilio's Messages API that posts signed status "
               "callbacks, for smsd's tests and demo (docs/twilio_sim.md)."};
  std::string listen = "127.0.0.1:0";
  std::string account_sid, auth_token, callback_base, config_file, log_level = "info";
  cli.add_option("--listen", listen, "host:port to listen on (port 0: any free port)")
    ->capture_default_str();
  cli.add_option("--account-sid", account_sid, "the account it plays (AC...)")->required();
  cli.add_option("--auth-token", auth_token, "the auth token: Basic auth and signatures")
    ->required();
  cli.add_option("--callback-base", callback_base,
                 "post callbacks to the StatusCallback's path and query on this origin "
                 "(http://host:port); the signature still covers the StatusCallback");
  cli.add_option("--config", config_file, "behaviour JSON file (see docs/twilio_sim.md)");
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")
    ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  smsd::sim::sim_options opts;
  if (!split_listen(listen, opts.host, opts.port)) {
    std::cerr << "twilio_sim: --listen must be host:port, not " << listen << "\n";
    return 2;
  }
  if (account_sid.size() < 3 || account_sid.compare(0, 2, "AC") != 0) {
    std::cerr << "twilio_sim: --account-sid must start with AC\n";
    return 2;
  }
  if (auth_token.empty()) {
    std::cerr << "twilio_sim: --auth-token must not be empty\n";
    return 2;
  }
  opts.acct.sid = account_sid;
  opts.acct.auth_token = auth_token;
  if (!callback_base.empty()) {
    if (callback_base.compare(0, 7, "http://") != 0) {
      std::cerr << "twilio_sim: --callback-base must be an http:// URL\n";
      return 2;
    }
    opts.acct.callback_base = callback_base;
  }
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    if (!in) {
      std::cerr << "twilio_sim: cannot read " << config_file << "\n";
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    auto b = smsd::sim::parse_behaviour(text.str());
    if (!b) {
      std::cerr << "twilio_sim: " << config_file << ": " << smsd::message_of(b.error()) << "\n";
      return 2;
    }
    opts.initial = *b;
  }
  init_logging(log_level);

  // Block the stop signals before any thread exists, so only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  smsd::sim::sim_server server(opts);
  if (auto err = server.start()) {
    std::cerr << "twilio_sim: " << smsd::message_of(err) << "\n";
    return 1;
  }
  // Tests and scripts read this line to learn the port.
  std::cout << "twilio_sim listening on " << opts.host << ":" << server.port() << std::endl;
  spdlog::info("twilio_sim listening on {}:{} for account {}", opts.host, server.port(),
               account_sid);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("twilio_sim: signal {}: stopping", sig);
  server.stop();
  spdlog::info("twilio_sim: stopped");
  return 0;
}

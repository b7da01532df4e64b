#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/error.hpp>
#include <nlohmann/json.hpp>

#include "twilio_sim/behaviour.hpp"
#include "twilio_sim/callback_poster.hpp"
#include "twilio_sim/simulator.hpp"

namespace smsd::sim {

struct sim_options {
  std::string host = "127.0.0.1"; ///< loopback unless asked otherwise
  std::uint16_t port = 0;         ///< 0: any free port
  account acct;
  behaviour initial;
  /// Each keep-alive connection holds a thread while it is open: this many connections are
  /// served at once; more wait in a queue of http_queue.
  int http_threads = 128;
  int http_queue = 256;
  std::size_t max_body_bytes = 64 * 1024;
  callback_poster::options callbacks;
};

/// The Twilio simulator over HTTP: Twilio's Messages API under `/2010-04-01/`, the control
/// endpoints under `/_sim/` (docs/twilio_sim.md), and the callback poster.
class sim_server {
public:
  explicit sim_server(sim_options opts);
  ~sim_server();
  sim_server(const sim_server&) = delete;
  sim_server& operator=(const sim_server&) = delete;

  /// Binds host:port and starts serving and posting callbacks.
  caf::error start();

  /// The port actually bound (after start).
  std::uint16_t port() const;

  /// Stops accepting, ends open connections and waiting answers, cancels pending callbacks and
  /// interrupts posts in progress. Idempotent.
  void stop();

  simulator& state();

  /// `GET /_sim/stats`: the simulator's counts plus callbacks_pending.
  nlohmann::json stats_json() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace smsd::sim

#pragma once

#include <cstdint>
#include <memory>

#include <caf/expected.hpp>

#include "config/config.hpp"

namespace smsd {

class status_intake;
namespace twilio {
class twilio_api;
}

/// One running smsd: the database (migrated), the actor system with the message router and
/// persistence actor, the scheduled work and the HTTP server. main() runs one; integration
/// tests run one in process on port 0.
class application {
public:
  /// Migrates the database, starts everything and binds the port. A clear error if any step fails.
  static caf::expected<std::unique_ptr<application>> start(const config& cfg);

  ~application();

  std::uint16_t port() const;

  /// The door into the message actors (what callbacks, sends and jobs report through).
  status_intake& intake();

  /// The Twilio REST client; null when sending is not configured.
  twilio::twilio_api* twilio();

  /// Stops in the safe order: HTTP server, its thread pool, the actors (the persistence actor
  /// answers what it holds), then the actor system. Idempotent.
  void stop();

  struct impl;

private:
  explicit application(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// `smsd migrate`: applies the migrations and reports the versions.
caf::expected<int> run_migrations(const config& cfg);

} // namespace smsd

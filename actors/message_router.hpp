#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/db_workers.hpp"
#include "actors/interfaces.hpp"
#include "actors/status_intake.hpp"

namespace smsd {

/// Finds or spawns the actor of a message, by our id or, while that is unknown, by Twilio's SID.
/// Callable from any thread: a Poco request thread hands its report straight to the message
/// actor (one hop, no central router actor in the way). An idle message actor stops only when
/// no message routed to it is still unread (see try_retire), so nothing is ever sent to an
/// actor that has already decided to stop.
class message_router final : public status_intake {
public:
  /// One live message actor, under one or more keys ("id:...", "sid:...").
  struct entry {
    message_actor handle;
    std::uint64_t routed = 0; ///< inputs sent to it via the router (guarded by the mutex)
    std::vector<std::string> keys;
  };

  message_router(caf::actor_system& sys, persistence_actor persistence,
                 std::vector<std::shared_ptr<load_worker>> loaders, int idle_ms);

  using status_intake::submit;
  void submit(status_report report, durable_callback done) override;

  /// Hands a report to its message's actor; `ack` is fulfilled when it is durable.
  void route_report(status_report report, ack_ptr ack);

  /// Tells the actor of the message with this SID to apply its pending events.
  void sweep(const std::string& sid);

  /// Registers `key` for the entry's actor too, unless another actor holds it already.
  void alias(const std::string& key, const std::shared_ptr<entry>& e);

  /// Removes the entry if every input routed to it has been processed; then the actor may stop.
  bool try_retire(const std::shared_ptr<entry>& e, std::uint64_t processed);

  /// Stops every message actor; later submits fail at once. Call before the actor system ends.
  void shutdown();

  /// Live message actors.
  std::size_t size() const;

private:
  template <class... Ts>
  void route(const message_key& key, Ts&&... xs);

  caf::actor_system& sys_;
  persistence_actor persistence_;
  std::vector<std::shared_ptr<load_worker>> loaders_;
  int idle_ms_;
  mutable std::mutex mtx_;
  bool closed_ = false;
  std::unordered_map<std::string, std::shared_ptr<entry>> actors_;
};

} // namespace smsd

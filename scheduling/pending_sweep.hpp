#pragma once

#include <atomic>
#include <memory>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/db_workers.hpp"
#include "actors/interfaces.hpp"
#include "actors/message_router.hpp"

namespace smsd {

struct pending_sweep_state {
  std::shared_ptr<store_worker> worker;
  message_router* router = nullptr;
  int interval_ms = 10000;
  /// A sweep is running on the worker: the next tick does not queue another.
  std::shared_ptr<std::atomic<bool>> busy = std::make_shared<std::atomic<bool>>(false);
  static inline const char* name = "pending_sweep";
};

/// Send it sweep_atom once to start; it re-arms itself every interval_ms. The query runs on
/// `worker`'s thread, which hands each SID found to the router (thread-safe).
pending_sweep_actor::behavior_type
pending_sweep_impl(pending_sweep_actor::stateful_pointer<pending_sweep_state> self,
                   std::shared_ptr<store_worker> worker, message_router* router, int interval_ms);

} // namespace smsd

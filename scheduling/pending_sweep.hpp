#pragma once

#include <memory>
#include <string>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "actors/message_router.hpp"
#include "persistence/store.hpp"

namespace smsd {

struct pending_sweep_state {
  std::string database_url;
  std::unique_ptr<store> db;
  message_router* router = nullptr;
  int interval_ms = 10000;
  static inline const char* name = "pending_sweep";
};

/// Spawn detached; send it sweep_atom once to start (it re-arms itself every interval_ms).
pending_sweep_actor::behavior_type
pending_sweep_impl(pending_sweep_actor::stateful_pointer<pending_sweep_state> self,
                   std::string database_url, message_router* router, int interval_ms);

} // namespace smsd

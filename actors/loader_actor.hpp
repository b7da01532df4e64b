#pragma once

#include <memory>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "persistence/store.hpp"

namespace smsd {

struct loader_state {
  std::string database_url;
  std::unique_ptr<store> db; ///< opened on first use, reopened after a connection failure
  static inline const char* name = "loader";
};

/// Spawn detached: `system.spawn<caf::detached>(loader_impl, url)`.
loader_actor::behavior_type loader_impl(loader_actor::stateful_pointer<loader_state> self,
                                        std::string database_url);

} // namespace smsd

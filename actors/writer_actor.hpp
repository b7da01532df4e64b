#pragma once

#include <memory>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "persistence/store.hpp"

namespace smsd {

struct writer_state {
  std::string database_url;
  std::unique_ptr<store> db;
  static inline const char* name = "writer";
};

/// Spawn detached: `system.spawn<caf::detached>(writer_impl, url)`. Transient failures
/// (errc::unavailable: a lost connection, a busy SQLite file) are retried with backoff for a
/// few seconds; a batch that fails for another reason is retried op by op.
writer_actor::behavior_type writer_impl(writer_actor::stateful_pointer<writer_state> self,
                                        std::string database_url);

} // namespace smsd

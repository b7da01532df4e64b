#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/db_workers.hpp"
#include "actors/interfaces.hpp"
#include "actors/message_router.hpp"

namespace smsd {

/// What a message actor needs besides its key.
struct message_actor_deps {
  message_router* router = nullptr;
  persistence_actor persistence;
  std::shared_ptr<load_worker> loader;
  int idle_ms = 30000;
};

struct message_state {
  message_key key;
  std::shared_ptr<message_router::entry> entry;
  message_actor_deps deps;
  bool loaded = false;
  bool loading = false;
  bool deleted = false; ///< the row existed and was deleted (its event or attendee went)
  std::optional<message_record> row;
  std::vector<std::pair<status_report, ack_ptr>> waiting; ///< reports that came during a load
  std::uint64_t processed = 0; ///< inputs from the router handled (see message_router::try_retire)
  caf::actor_clock::time_point last_input; ///< on the actor clock, so tests can simulate time
  bool timer_armed = false;
  static inline const char* name = "message";
};

/// The state machine of one SMS. State lives in the database; the actor loads it on its first
/// input, applies each report through apply_status (actors/status_machine.hpp), sends the
/// change and the report's status event to the persistence actor, and stops when idle.
/// Reports for a SID with no row yet are stored as pending and applied when the row appears;
/// reports for a deleted message are stored as orphans and recreate nothing.
message_actor::behavior_type message_impl(message_actor::stateful_pointer<message_state> self,
                                          message_key key,
                                          std::shared_ptr<message_router::entry> entry,
                                          message_actor_deps deps);

/// The status event stored for a report (dedup key: the idempotency token when Twilio sent one,
/// else source + SID + status + error code).
status_event_record event_for(const status_report& r);

} // namespace smsd

#pragma once

#include <deque>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"

namespace smsd {

struct persistence_state {
  std::vector<writer_actor> idle_writers;
  std::deque<write_request> pending;
  /// Messages with an update in a batch that has not committed yet. Their next update waits,
  /// so two writers never race on one message.
  std::unordered_set<std::string> in_flight;
  std::size_t max_batch_ops = 2048;
  std::uint64_t batches = 0;
  std::uint64_t ops = 0;
  static inline const char* name = "persistence";
};

/// `writers` are detached writer actors; with one writer (SQLite) batches go out one at a time,
/// with several (PostgreSQL) up to that many commit at once on separate connections.
persistence_actor::behavior_type
persistence_impl(persistence_actor::stateful_pointer<persistence_state> self,
                 std::vector<writer_actor> writers, std::size_t max_batch_ops);

} // namespace smsd

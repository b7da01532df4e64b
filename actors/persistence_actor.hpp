#pragma once

#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/db_workers.hpp"
#include "actors/interfaces.hpp"

namespace smsd {

/// The requests a batch answers, and which requests each (coalesced) op carries. The commit
/// worker answers them itself, on its own thread, the moment the transaction committed.
struct batch_requests {
  std::vector<write_request> requests;
  std::vector<std::vector<std::size_t>> members; ///< per op of the batch: indexes into requests
};

/// Fulfils (or fails) each request's ack and tells message actors whose write did not go as
/// they expected. Thread-safe: runs on a commit worker's thread.
void answer(const batch_requests& b, const batch_outcome* out, const std::string& failure);

/// The status changes a committed batch made: of each op whose update applied, its requests'
/// changes, in order, moved out of the requests (answer() has no use for them).
std::vector<message_change> committed_changes(batch_requests& b, const batch_outcome& out);

/// A batch on its way, as the persistence actor keeps track of it.
struct in_flight_batch {
  std::size_t writer = 0;
  std::vector<std::string> messages; ///< ids whose updates it carries
};

struct persistence_state {
  std::vector<std::shared_ptr<commit_worker>> writers;
  std::vector<std::size_t> idle_writers; ///< indexes into writers
  std::unordered_map<std::uint64_t, in_flight_batch> batches;
  std::uint64_t next_batch = 1;
  std::deque<write_request> pending;
  /// Messages with an update in a batch that has not committed yet. Their next update waits,
  /// so two writers never race on one message.
  std::unordered_set<std::string> in_flight;
  std::size_t max_batch_ops = 2048;
  change_listener on_change;
  std::uint64_t batches_sent = 0;
  std::uint64_t ops = 0;
  static inline const char* name = "persistence";
};

/// With one commit worker (SQLite) batches go out one at a time; with several (PostgreSQL) up to
/// that many commit at once, on separate connections.
/// `on_change` (may be empty) hears of every committed status change, after its commit.
persistence_actor::behavior_type
persistence_impl(persistence_actor::stateful_pointer<persistence_state> self,
                 std::vector<std::shared_ptr<commit_worker>> writers, std::size_t max_batch_ops,
                 change_listener on_change);

} // namespace smsd

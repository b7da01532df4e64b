#pragma once

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"

namespace smsd {

/// Reads one message's state from the database. Detached (own thread, own connection): its
/// blocking reads never hold a CAF scheduler thread.
using loader_actor = caf::typed_actor<
  // The row for the key and its pending events; an error if the database cannot be read.
  caf::replies_to<load_atom, message_key>::with<loaded_state>,
  // Only the pending events of a SID (the pending sweep found some for a live message).
  caf::replies_to<pending_atom, std::string>::with<std::vector<status_event_record>>>;

/// Writes one group commit in one transaction. Detached, own connection. Retries transient
/// failures; if the batch keeps failing it writes op by op, so one bad op fails alone.
using writer_actor = caf::typed_actor<
  // One outcome per op, in order.
  caf::replies_to<commit_atom, write_batch>::with<batch_outcome>>;

/// Group commit for every message actor: while no batch is in flight on a writer, what is
/// pending goes out at once; while all writers are busy, requests collect into the next batch.
/// Acknowledges each request (its ack promise) only after its transaction committed.
using persistence_actor = caf::typed_actor<
  // Queue a write for the next batch.
  caf::reacts_to<write_atom, write_request>>;

/// One SMS's state machine. Every change to a message passes through its actor.
using message_actor = caf::typed_actor<
  // A status report (callback, send result, poll); the ack is fulfilled once it is durable.
  caf::reacts_to<report_atom, status_report, ack_promise>,
  // The pending sweep found events for this message's SID that arrived before its row.
  caf::reacts_to<sweep_atom>,
  // The persistence actor's word that a write did not go as expected.
  caf::reacts_to<feedback_atom, write_feedback>,
  // Timer: stop if nothing happened for a while.
  caf::reacts_to<idle_atom>>;

/// Every few seconds (and once at start), finds status events kept before their message's row
/// had a SID and, now that it has, asks that message's actor to apply them. Detached.
using pending_sweep_actor = caf::typed_actor<
  // Run one sweep now and schedule the next.
  caf::reacts_to<sweep_atom>>;

} // namespace smsd

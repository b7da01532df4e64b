#pragma once

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"

namespace smsd {

// Blocking database work is not done by actors but by commit and load workers on threads of
// their own (actors/db_workers.hpp): CAF 0.17's detached actors can hang its shutdown.

/// Group commit for every message actor: while a commit worker is idle, what is pending goes
/// out at once; while all are busy, requests collect into the next batch. Acknowledges each
/// request (its ack) only after its transaction committed.
using persistence_actor = caf::typed_actor<
  // Queue a write for the next batch.
  caf::reacts_to<write_atom, write_request>,
  // A commit worker finished the batch with this id (and has answered its requests).
  caf::reacts_to<committed_atom, std::uint64_t>>;

/// One SMS's state machine. Every change to a message passes through its actor.
using message_actor = caf::typed_actor<
  // A status report (callback, send result, poll); the ack is fulfilled once it is durable.
  caf::reacts_to<report_atom, status_report, ack_ptr>,
  // The pending sweep found events for this message's SID that arrived before its row.
  caf::reacts_to<sweep_atom>,
  // The persistence actor's word that a write did not go as expected.
  caf::reacts_to<feedback_atom, write_feedback>,
  // Timer: stop if nothing happened for a while.
  caf::reacts_to<idle_atom>,
  // The load worker's answer: the row and pending events, or why they could not be read.
  caf::reacts_to<loaded_atom, load_result>,
  // The load worker's answer to a sweep: the SID's pending events.
  caf::reacts_to<pending_atom, pending_result>>;

/// Every few seconds (and once at start), finds status events kept before their message's row
/// had a SID and, now that it has, asks that message's actor to apply them. The query runs on a
/// store worker's thread.
using pending_sweep_actor = caf::typed_actor<
  // Run one sweep now and schedule the next.
  caf::reacts_to<sweep_atom>>;

/// Arms a job timer (sent once at start).
using arm_atom = caf::atom_constant<caf::atom("arm")>;

/// One scheduled job's timer (scheduling/job_scheduler): computes the job's next tick with the
/// injectable clock, waits for it on CAF's clock, and hands each tick to the job runner, which
/// runs the job on a thread of its own (never on a CAF thread).
using job_timer_actor = caf::typed_actor<
  // Arm the timer for the next tick after now.
  caf::reacts_to<arm_atom>,
  // The tick (its scheduled time, UTC millis) came: hand it to the runner, arm the next one.
  caf::reacts_to<caf::tick_atom, std::int64_t>>;

} // namespace smsd

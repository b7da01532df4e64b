#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "actors/message_change.hpp"
#include "actors/status_intake.hpp"
#include "persistence/records.hpp"

namespace smsd {

// Atoms (text of at most 10 characters).
using loaded_atom = caf::atom_constant<caf::atom("loaded")>;
using committed_atom = caf::atom_constant<caf::atom("committed")>;
using write_atom = caf::atom_constant<caf::atom("write")>;
using report_atom = caf::atom_constant<caf::atom("report")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using feedback_atom = caf::atom_constant<caf::atom("feedback")>;
using pending_atom = caf::atom_constant<caf::atom("pending")>;

/// A message actor's request to the persistence actor.
struct write_request {
  write_op op;
  ack_ptr ack;                ///< may be empty (no caller waiting)
  caf::actor origin;          ///< told when the outcome is not the expected one
  bool expect_update = false; ///< op.update should apply (the actor believes it is newer)
  /// The change op.update makes, told to the change listener once it is committed.
  std::optional<message_change> change;
};

/// One group commit, handed to a commit worker.
using write_batch = std::vector<write_op>;

/// Per op of a batch: what was written, or why nothing was.
struct op_outcome {
  bool ok = false;
  write_result result;
  std::string error; ///< when !ok
};
using batch_outcome = std::vector<op_outcome>;

/// A load worker's answer to a message actor.
struct load_result {
  bool ok = false;
  loaded_state state;
  std::string error; ///< when !ok
};

/// A load worker's answer to a message actor's question for its SID's pending events.
struct pending_result {
  bool ok = false;
  std::vector<status_event_record> events;
  std::string error; ///< when !ok
};

/// The persistence actor's word to a message actor whose write did not go as it expected.
struct write_feedback {
  bool failed = false; ///< nothing written; the actor's in-memory state may be ahead of the row
  write_result result;
};

} // namespace smsd

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(smsd::ack_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(smsd::message_key)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(smsd::load_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(smsd::pending_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(smsd::write_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(smsd::batch_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(smsd::write_feedback)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(smsd::status_report)

#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "persistence/records.hpp"

namespace smsd {

/// How one Twilio status word maps onto ours (DESIGN §3).
struct status_mapping {
  const char* ours; ///< queued, sent, delivered, failed, undelivered
  int rank;
  bool final;
};

/// The mapping of a Twilio status (case-insensitive); nullopt for words we do not know.
std::optional<status_mapping> map_twilio_status(std::string_view twilio_status);

/// A status report, as the state machine needs it.
struct status_change {
  std::string provider_status;
  std::optional<std::string> error_code;
  std::optional<std::string> error_message; ///< from the report; else the catalog's title
  std::string payload = "{}";               ///< becomes raw_payload when applied
  millis at = 0;
};

enum class change_outcome {
  applied,        ///< the message moved forward
  duplicate,      ///< the same status it already has
  stale,          ///< a lower rank than the current one (a late arrival)
  anomaly,        ///< a different final status after a final one, or read over a failure
  unknown_status, ///< a word we do not know; logged, nothing changes
};

/// The disposition text stored for an outcome.
const char* disposition_of(change_outcome x);

struct change_result {
  change_outcome outcome;
  status_fields next; ///< equals the input state unless outcome == applied
};

/// DESIGN §3 as a pure function: what a message's status columns become after one report.
///  1. a change applies only if its rank is higher than the current rank;
///  2. the first final status wins;
///  3. sent_at is set when rank >= 3 is first reached, delivered_at when delivered applies;
///  4. failed/undelivered set the error (report's, else the catalog's); nothing erases one;
///  5. raw_payload is the payload of the last applied report;
///  'read' (rank 5) applies only over 'delivered'.
change_result apply_status(const status_fields& current, const status_change& change);

} // namespace smsd

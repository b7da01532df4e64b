#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace smsd::sim {

/// How a message's timeline ends when it does not end in `delivered`.
struct delivery_failure {
  std::string status; ///< "undelivered" or "failed"
  int error_code = 0;
};

/// What the simulator does besides answering like Twilio: the knobs tests turn (docs/twilio_sim.md).
/// Given by `--config FILE` and replaced as a whole by `PUT /_sim/config`; absent keys take these
/// defaults.
struct behaviour {
  /// Delay before each callback of a timeline, counted from the one before; the last repeats.
  std::vector<int> callback_delays_ms{50, 50, 50};
  /// To numbers refused at create with this Twilio error code (HTTP 400).
  std::map<std::string, int> create_failures;
  /// To numbers whose timeline ends in failed/undelivered with this ErrorCode.
  std::map<std::string, delivery_failure> delivery_failures;
  bool reorder_callbacks = false;   ///< post a timeline's callbacks newest first
  bool duplicate_callbacks = false; ///< post every callback twice with the same idempotency token
  double drop_callbacks = 0.0;      ///< share of callbacks never posted
  double rate_limit_share = 0.0;    ///< share of REST requests answered 429
  int retry_after_s = 0;            ///< Retry-After on a 429; 0: no header
  int response_delay_ms = 0;        ///< every REST answer waits this long
  /// To numbers whose create is carried out but whose connection is closed without an answer.
  std::set<std::string> drop_after_accept;
  std::uint64_t seed = 1; ///< seeds the random choices (429 share, drops)

  /// The delay before callback `i` (0-based) of a timeline.
  int callback_delay_ms(std::size_t i) const;
};

/// Reads a behaviour from its JSON text; invalid_argument (with the reason) for malformed JSON,
/// an unknown key, a value of the wrong type or out of range.
caf::expected<behaviour> parse_behaviour(std::string_view json_text);

/// Reads a behaviour from a parsed JSON object (as parse_behaviour).
caf::expected<behaviour> behaviour_from_json(const nlohmann::json& j);

/// The behaviour as JSON, every key present (what `GET /_sim/config` answers).
nlohmann::json to_json(const behaviour& b);

} // namespace smsd::sim

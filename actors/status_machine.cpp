#include "actors/status_machine.hpp"

#include <algorithm>
#include <cctype>

#include "twilio/error_catalog.hpp"

namespace smsd {

std::optional<status_mapping> map_twilio_status(std::string_view word) {
  std::string w(word);
  std::transform(w.begin(), w.end(), w.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  struct row {
    const char* twilio;
    status_mapping mapping;
  };
  static const row table[] = {
    {"accepted", {"queued", 0, false}},       {"scheduled", {"queued", 0, false}},
    {"queued", {"queued", 1, false}},         {"sending", {"queued", 2, false}},
    {"sent", {"sent", 3, false}},             {"delivered", {"delivered", 4, true}},
    {"undelivered", {"undelivered", 4, true}}, {"partially_delivered", {"undelivered", 4, true}},
    {"failed", {"failed", 4, true}},          {"canceled", {"failed", 4, true}},
    {"read", {"delivered", 5, true}},
  };
  for (auto& r : table)
    if (w == r.twilio)
      return r.mapping;
  return std::nullopt;
}

const char* disposition_of(change_outcome x) {
  switch (x) {
    case change_outcome::applied: return disposition::applied;
    case change_outcome::duplicate: return disposition::duplicate;
    case change_outcome::stale: return disposition::stale;
    case change_outcome::anomaly: return disposition::anomaly;
    case change_outcome::unknown_status: return disposition::unknown_status;
  }
  return disposition::anomaly;
}

change_result apply_status(const status_fields& current, const status_change& change) {
  auto mapping = map_twilio_status(change.provider_status);
  if (!mapping)
    return {change_outcome::unknown_status, current};
  const int rank = mapping->rank;
  const bool current_final = current.status_rank >= 4;
  if (rank == 5 && current.status != "delivered") {
    // 'read' only follows 'delivered'; over a failure it contradicts what we hold.
    if (current_final)
      return {change_outcome::anomaly, current};
    return {change_outcome::stale, current};
  }
  if (rank <= current.status_rank) {
    if (current_final && mapping->final && rank == 4 && current.status != mapping->ours)
      return {change_outcome::anomaly, current};
    if (rank == current.status_rank && current.provider_status
        && map_twilio_status(*current.provider_status)
        && std::string(map_twilio_status(*current.provider_status)->ours) == mapping->ours)
      return {change_outcome::duplicate, current};
    return {change_outcome::stale, current};
  }
  status_fields next = current;
  next.status = mapping->ours;
  std::string lowered(change.provider_status);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  next.provider_status = lowered;
  next.status_rank = rank;
  next.status_updated_at = change.at;
  next.raw_payload = change.payload;
  if (rank >= 3 && !next.sent_at)
    next.sent_at = change.at;
  if (next.status == "delivered" && !next.delivered_at)
    next.delivered_at = change.at;
  const bool failure = next.status == "failed" || next.status == "undelivered";
  if (failure && change.error_code && !change.error_code->empty()) {
    next.error_code = change.error_code;
    if (change.error_message && !change.error_message->empty())
      next.error_message = change.error_message;
    else
      next.error_message = error_info_for(*change.error_code).title;
  } else if (failure && change.error_message && !change.error_message->empty()) {
    // Our own verdicts (not sent, unknown to Twilio) carry a message and no Twilio code.
    next.error_message = change.error_message;
  }
  return {change_outcome::applied, next};
}

} // namespace smsd

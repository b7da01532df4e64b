#include "http/attendee_dot.hpp"

namespace smsd {

const char* attendee_dot(const attendee_counts& c) {
  if (c.open_failed > 0)
    return "red";
  if (c.pending > 0)
    return "yellow";
  return c.total == 0 ? "gray" : "green";
}

nlohmann::json attendee_counts_json(const attendee_counts& c) {
  return {{"total", c.total},
          {"delivered", c.delivered},
          {"pending", c.pending},
          {"failed", c.failed},
          {"openFailed", c.open_failed}};
}

} // namespace smsd

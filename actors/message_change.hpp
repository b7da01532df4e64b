#pragma once

#include <functional>
#include <string>
#include <vector>

namespace smsd {

/// A message whose status changed, as committed: what the organizer page's live stream tells.
struct message_change {
  std::string message_id;
  std::string event_id;
  std::string attendee_id;
  std::string status; ///< ours: queued, sent, delivered, failed, undelivered
};

/// Told the changes of each group commit, in commit order, after the commit (on the commit
/// worker's thread: it must be quick and must not block).
using change_listener = std::function<void(std::vector<message_change>)>;

} // namespace smsd

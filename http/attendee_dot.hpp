#pragma once

#include <nlohmann/json.hpp>

#include "persistence/records.hpp"

namespace smsd {

/// The seed's SMS dot of an attendee: "red" while a failed or undelivered text has not been
/// retried (the organizer has something to do), else "yellow" while texts are on their way,
/// "green" when everything sent arrived, "gray" when nothing was sent.
const char* attendee_dot(const attendee_counts& c);

/// {"total", "delivered", "pending", "failed", "openFailed"}
nlohmann::json attendee_counts_json(const attendee_counts& c);

} // namespace smsd

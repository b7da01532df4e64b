#pragma once

#include <nlohmann/json.hpp>

#include "persistence/records.hpp"

namespace smsd {

/// The JSON shapes of stored records (camelCase, timestamps via to_iso8601, null when absent).

/// {"id", "name", "date", "ownerId", "createdAt", "updatedAt"}
nlohmann::json event_json(const event_record& e);

/// {"id", "eventId", "firstName", "lastName", "phone", "createdAt", "updatedAt"}
nlohmann::json attendee_json(const attendee_record& a);

/// {"eventId", "userId", "permissions": ["view", "curate"]}
nlohmann::json organizer_json(const organizer_record& o);

/// {"title", "description", "retryable"} from the error catalog, or null without a code.
nlohmann::json error_info_json(const std::optional<std::string>& code);

/// The seed's history fields: id, messageSid, status, notificationType, body, createdAt, sentAt,
/// deliveredAt, errorCode, errorMessage, plus errorInfo and retryOfId.
nlohmann::json history_message_json(const message_record& m);

/// The history fields (id, messageSid, status, notificationType, body, createdAt, sentAt,
/// deliveredAt, errorCode, errorMessage, errorInfo, retryOfId) and everything else stored:
/// eventId, attendeeId, toPhone, fromPhone, accountSid, messagingServiceSid, numSegments,
/// providerStatus, statusRank, rawPayload (an object), statusUpdatedAt.
nlohmann::json message_json(const message_record& m);

/// {"id", "messageId", "messageSid", "providerStatus", "errorCode", "source", "receivedAt",
///  "applied", "disposition", "payload" (an object)}
nlohmann::json status_event_json(const status_event_record& e);

/// A stored JSON object text as JSON; text that does not parse (or nests too deep) is kept as a
/// string rather than dropped.
nlohmann::json stored_json(const std::string& text);

} // namespace smsd

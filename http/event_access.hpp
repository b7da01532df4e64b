#pragma once

#include <optional>
#include <string>

#include <caf/error.hpp>

#include "http/handler_env.hpp"
#include "http/response.hpp"
#include "http/router.hpp"
#include "persistence/records.hpp"

namespace smsd {

class store;

/// What a caller may do on an event (DESIGN §5): organizers view and curate as granted.
enum class event_permission { view, curate };

/// What an organizer's role on an event means for one permission.
enum class role_decision {
  allowed,
  forbidden, ///< a role on the event without this permission (403)
  hidden,    ///< no role at all, or no such event: its existence is not revealed (404)
};

/// The owner may do everything; a co-organizer what event_organizers grants, where curate
/// implies view (whoever may send to attendees may see what was sent). `role` is nullopt when
/// the event does not exist.
role_decision decide_role(const std::optional<event_role>& role, event_permission needed);

/// A caller's place on an event as the API shows it.
struct event_permissions {
  const char* role = "organizer"; ///< "owner", "organizer" or "admin"
  bool view = false;
  bool curate = false; ///< implies view
};

/// What a role on an event lets its user do: the owner views and curates; a co-organizer as
/// event_organizers grants, curate implying view. nullopt when it lets nothing be seen (no
/// owner, no grant): the event stays hidden. decide_role follows from it.
std::optional<event_permissions> permissions_of(const event_role& role);

/// The admin token's place on every event: role "admin", view and curate.
event_permissions admin_permissions();

/// Who acts on an event, for logs.
struct event_caller {
  bool is_admin = false;
  std::string user_id; ///< the organizer token's `sub`; "" for the admin token
  double expires_at = 0; ///< the organizer token's `exp` (seconds since the epoch); 0 for the admin
};

/// "admin" or "user <id>".
std::string to_string(const event_caller& caller);

/// The outcome of authorize_event.
struct event_access {
  std::optional<http_response> denied; ///< the answer to send when the caller may not act
  event_caller caller;                 ///< who the caller is, when allowed
  event_permissions permissions;       ///< what the caller may do on the event, when allowed
};

/// Who the request's bearer is, whatever the event: the admin token, or a valid organizer token
/// (organizer_token.hpp); else `denied` holds the 401 with `WWW-Authenticate: Bearer`.
/// `permissions` is left empty.
event_access authenticate(const handler_env& env, const request_context& req);

/// Whether the request's bearer may act on the event with `needed`. The admin token may do
/// everything (without a database lookup; the handler still answers 404 for a missing event).
/// Otherwise the bearer must be a valid organizer token (authenticate); then role_on_event
/// decides: 404 "Event not found" when the event is missing or the user has no role on it, 403
/// when the role lacks the permission. A database failure answers through error_response
/// (503 / 500). When allowed, `permissions` says all the caller may do on the event.
event_access authorize_event(const handler_env& env, const request_context& req,
                             const std::string& event_id, event_permission needed);

/// The event exists: not_found "Event not found" otherwise. Handlers call it where the admin
/// token may have reached them (authorize_event answers organizers without a role 404 itself,
/// but lets the admin token through for any id).
caf::error require_event(store& db, const std::string& event_id);

/// nullopt when the request carries some bearer token (checked later, per event); else the 401.
std::optional<http_response> require_bearer(const request_context& req);

} // namespace smsd

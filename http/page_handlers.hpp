#pragma once

#include <string>

#include "http/handler_env.hpp"
#include "http/router.hpp"

namespace smsd {

/// The organizer page (web/, compiled in; docs/organizer-page.md), for anyone: the page holds no
/// data, it asks the API with the organizer's token.
///  GET /                   the page (the caller's events)
///  GET /events/{eventId}   the page (one event; `?attendee=ID` opens that attendee's panel)
///  GET /assets/{name}      its scripts, styles and images
/// Every answer has a strong ETag (If-None-Match: 304), `Cache-Control: no-cache` and the
/// page's security headers (page_security_headers).
void add_page_routes(router& routes, const handler_env& env);

/// The Content-Security-Policy of the page: only its own origin, no inline script or style,
/// and `frame-ancestors` from SMSD_FRAME_ANCESTORS.
std::string page_content_security_policy(const std::string& frame_ancestors);

/// The Content-Type of a web/ file by its extension.
std::string content_type_of(const std::string& path);

/// Whether an If-None-Match value ("*", or a list of entity tags, weak or strong) matches
/// `etag` (GET uses the weak comparison: W/"x" matches "x").
bool etag_matches(const std::string& if_none_match, const std::string& etag);

} // namespace smsd

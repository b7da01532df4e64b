#pragma once

#include <string>

#include <caf/error.hpp>

#include "common/errors.hpp"
#include "http/response.hpp"

namespace smsd {

/// The one mapping from smsd's error codes to HTTP statuses:
/// invalid_argument 400, not_found 404, conflict 409, unavailable and timeout 503,
/// database, internal and anything else 500.
int http_status_of(errc code);

/// `{"error": message}` with the given status. Every error body smsd sends has this shape.
http_response error_response(int status, const std::string& message);

/// The response for an error of ours: its status from http_status_of, its message when it is
/// meant for the caller (4xx), a generic text for 5xx (details go to the log, never the client).
http_response error_response(const caf::error& e);

} // namespace smsd

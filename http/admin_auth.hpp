#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/response.hpp"
#include "http/router.hpp"

namespace smsd {

/// The token of an `Authorization: Bearer <token>` header; nullopt for any other form.
std::optional<std::string_view> bearer_token(std::string_view authorization);

/// Whether `given` equals `expected`, in time independent of where they differ and of their
/// lengths. An empty `expected` matches nothing.
bool token_matches(std::string_view given, std::string_view expected);

/// nullopt when the request carries the admin token; else the 401 to answer. With no admin
/// token configured, admin endpoints are closed.
std::optional<http_response> require_admin(const request_context& req,
                                           const std::string& admin_token);

} // namespace smsd

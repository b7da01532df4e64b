#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace smsd {

/// How far `exp` and `nbf` may be off from our clock (skew between the platform that issues
/// tokens and smsd). A token is accepted until exp + leeway and from nbf - leeway.
constexpr std::int64_t organizer_token_leeway_seconds = 30;

/// Tokens longer than this are rejected before any parsing.
constexpr std::size_t max_organizer_token_bytes = 8192;

/// Who an organizer token names.
struct organizer_identity {
  std::string user_id; ///< the `sub` claim
  double expires_at = 0; ///< the `exp` claim, seconds since the epoch
};

/// Verifies an organizer JWT (DESIGN §5): compact form `header.payload.signature`, each part
/// base64url without padding; header `alg` exactly "HS256" (no `none`, no other algorithm, no
/// `crit`); an HMAC-SHA256 signature with `secret`, compared in constant time and in its one
/// canonical encoding; `exp` a number with now_seconds < exp + leeway; `nbf`, if present, a number
/// with nbf - leeway <= now_seconds; `sub` a non-empty string of at most 128 bytes.
/// An empty secret rejects every token. On rejection the error (errc::invalid_argument) carries a
/// short reason for the log that never includes the token, its claims or the secret.
caf::expected<organizer_identity> verify_organizer_token(std::string_view token,
                                                         const std::string& secret,
                                                         std::int64_t now_seconds);

/// An organizer token for `user_id` that verify_organizer_token accepts: header
/// {"alg":"HS256","typ":"JWT"}, claims sub = user_id, iat = now_seconds and
/// exp = now_seconds + ttl_seconds, signed with `secret` (for `smsd token`, demos and tests).
/// invalid_argument when the secret is empty, the user id is empty, longer than 128 bytes or not
/// UTF-8, or the ttl is not positive.
caf::expected<std::string> sign_organizer_token(const std::string& user_id,
                                                const std::string& secret,
                                                std::int64_t now_seconds,
                                                std::int64_t ttl_seconds);

} // namespace smsd

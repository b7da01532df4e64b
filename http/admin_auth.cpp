#include "http/admin_auth.hpp"

#include <cctype>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http/errors.hpp"

namespace smsd {

namespace {

bool sha256(std::string_view text, unsigned char (&out)[32]) {
  unsigned int size = 0;
  return EVP_Digest(text.data(), text.size(), out, &size, EVP_sha256(), nullptr) == 1 && size == 32;
}

http_response unauthorized(const std::string& message) {
  auto r = error_response(401, message);
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"smsd-admin\"");
  return r;
}

} // namespace

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "bearer";
  if (authorization.size() <= scheme.size())
    return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i])
      return std::nullopt;
  std::string_view rest = authorization.substr(scheme.size());
  if (rest.front() != ' ' && rest.front() != '\t')
    return std::nullopt;
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t'))
    rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t'))
    rest.remove_suffix(1);
  if (rest.empty())
    return std::nullopt;
  return rest;
}

bool token_matches(std::string_view given, std::string_view expected) {
  if (expected.empty())
    return false;
  // Comparing digests keeps the comparison's time independent of the lengths too.
  unsigned char a[32], b[32];
  if (!sha256(given, a) || !sha256(expected, b))
    return false;
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

std::optional<http_response> require_admin(const request_context& req,
                                           const std::string& admin_token) {
  if (admin_token.empty())
    return unauthorized("admin endpoints are disabled (no admin token configured)");
  if (!req.has_header("Authorization"))
    return unauthorized("missing Authorization: Bearer token");
  auto token = bearer_token(req.header("Authorization"));
  if (!token || !token_matches(*token, admin_token))
    return unauthorized("invalid admin token");
  return std::nullopt;
}

} // namespace smsd

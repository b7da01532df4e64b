#include "http/organizer_token.hpp"

#include <cmath>
#include <exception>
#include <sstream>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JWT/JWTException.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"

namespace smsd {

namespace {

constexpr std::size_t max_user_id_length = 128; // as every id smsd accepts (request_json.hpp)

caf::error rejected(const char* reason) {
  return make_error(errc::invalid_argument, reason);
}

bool is_base64url(std::string_view part) {
  for (unsigned char c : part) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_';
    if (!ok)
      return false;
  }
  return true;
}

std::string base64url(const unsigned char* data, std::size_t size) {
  std::ostringstream out;
  Poco::Base64Encoder enc(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  enc.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  enc.close();
  return out.str();
}

std::string base64url(std::string_view bytes) {
  return base64url(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

/// The canonical signature of `signing_input` (header.payload) under `secret`.
std::string hs256_signature(std::string_view signing_input, const std::string& secret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
       &mac_size);
  return base64url(mac, mac_size);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  // The length of an HS256 signature is public (43 characters); only the content must not leak.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

/// A NumericDate claim: absent, a JSON number, or not usable. Poco's Var calls a boolean
/// numeric and converts strings to numbers, so the type is checked here, not by Poco.
enum class claim_state { absent, number, invalid };

claim_state numeric_claim(const Poco::JSON::Object& payload, const std::string& name,
                          double& out) {
  if (!payload.has(name))
    return claim_state::absent;
  const auto v = payload.get(name);
  if (v.isEmpty() || v.isBoolean() || v.isString() || !v.isNumeric())
    return claim_state::invalid;
  out = v.convert<double>();
  return std::isfinite(out) ? claim_state::number : claim_state::invalid;
}

} // namespace

caf::expected<organizer_identity> verify_organizer_token(std::string_view token,
                                                         const std::string& secret,
                                                         std::int64_t now_seconds) {
  if (secret.empty())
    return rejected("organizer tokens are disabled (SMSD_JWT_SECRET is empty)");
  if (token.size() > max_organizer_token_bytes)
    return rejected("token too long");

  // Exactly three base64url parts. Poco's own parser would accept a fourth part (ignored), a
  // trailing dot, padding and non-canonical encodings of the signature.
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return rejected("malformed token (not three dot-separated parts)");
  const auto header_part = token.substr(0, dot1);
  const auto payload_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const auto signature_part = token.substr(dot2 + 1);
  if (header_part.empty() || payload_part.empty() || !is_base64url(header_part)
      || !is_base64url(payload_part) || !is_base64url(signature_part))
    return rejected("malformed token (parts are not base64url)");

  const std::string jwt(token);
  try {
    // Header first: the algorithm must be HS256 before any signature work.
    const Poco::JWT::Token unverified(jwt);
    const auto alg = unverified.header().get(Poco::JWT::Token::CLAIM_ALGORITHM);
    if (!alg.isString() || alg.extract<std::string>() != Poco::JWT::Signer::ALGO_HS256)
      return rejected("algorithm not allowed (HS256 only)");
    if (unverified.header().has("crit"))
      return rejected("unsupported critical header parameters");

    // Poco's Signer compares HMACs with operator== (its time depends on where they differ), so
    // the signature is checked here in constant time, and only in its canonical encoding.
    if (!equal_constant_time(signature_part,
                             hs256_signature(token.substr(0, dot2), secret)))
      return rejected("bad signature");

    // Poco's verifier, limited to HS256 (its default set; made explicit so that nobody widens
    // it by accident), agrees or the token is refused.
    Poco::JWT::Signer signer(secret);
    signer.setAlgorithms({Poco::JWT::Signer::ALGO_HS256});
    Poco::JWT::Token verified;
    if (!signer.tryVerify(jwt, verified))
      return rejected("bad signature");

    const auto& claims = verified.payload();
    organizer_identity id;
    switch (numeric_claim(claims, Poco::JWT::Token::CLAIM_EXPIRATION, id.expires_at)) {
      case claim_state::absent:
        return rejected("token has no exp claim");
      case claim_state::invalid:
        return rejected("exp claim is not a number");
      case claim_state::number:
        break;
    }
    const auto now = static_cast<double>(now_seconds);
    if (now >= id.expires_at + static_cast<double>(organizer_token_leeway_seconds))
      return rejected("token expired");
    double not_before = 0;
    switch (numeric_claim(claims, Poco::JWT::Token::CLAIM_NOT_BEFORE, not_before)) {
      case claim_state::absent:
        break;
      case claim_state::invalid:
        return rejected("nbf claim is not a number");
      case claim_state::number:
        if (now < not_before - static_cast<double>(organizer_token_leeway_seconds))
          return rejected("token not valid yet (nbf)");
        break;
    }
    const auto sub = claims.get(Poco::JWT::Token::CLAIM_SUBJECT);
    if (!sub.isString())
      return rejected("sub claim missing or not a string");
    id.user_id = sub.extract<std::string>();
    if (id.user_id.empty() || id.user_id.size() > max_user_id_length)
      return rejected("sub claim empty or too long");
    return id;
  } catch (const Poco::JWT::UnallowedAlgorithmException&) {
    return rejected("algorithm not allowed (HS256 only)");
  } catch (const Poco::JWT::ParseException&) {
    return rejected("malformed token (header or payload is not a base64url JSON object)");
  } catch (const Poco::Exception&) {
    return rejected("malformed token");
  } catch (const std::exception&) {
    return rejected("malformed token");
  }
}

caf::expected<std::string> sign_organizer_token(const std::string& user_id,
                                                const std::string& secret,
                                                std::int64_t now_seconds,
                                                std::int64_t ttl_seconds) {
  if (secret.empty())
    return rejected("no secret to sign with (SMSD_JWT_SECRET is empty)");
  if (user_id.empty() || user_id.size() > max_user_id_length)
    return rejected("the user id must be 1 to 128 bytes");
  if (ttl_seconds <= 0)
    return rejected("the lifetime of a token must be positive");
  std::string payload;
  try {
    payload = nlohmann::json{{"sub", user_id}, {"iat", now_seconds}, {"exp", now_seconds + ttl_seconds}}
                .dump();
  } catch (const nlohmann::json::exception&) {
    return rejected("the user id is not UTF-8");
  }
  const auto signing_input =
    base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(payload);
  return signing_input + "." + hs256_signature(signing_input, secret);
}

} // namespace smsd

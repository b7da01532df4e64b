// verify_organizer_token as a pure function: token vectors built here, a fixed "now".
#include "http/organizer_token.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "auth_matrix.hpp"
#include "common/errors.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

const std::string secret = "organizer-secret-0123456789abcdef";
constexpr std::int64_t now = 1'800'000'000;
const std::string hs256 = R"({"alg":"HS256","typ":"JWT"})";

std::string claims(const std::string& sub, std::int64_t exp) {
  return R"({"sub":")" + sub + R"(","exp":)" + std::to_string(exp) + "}";
}

std::string reason_of(const caf::expected<organizer_identity>& r) {
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == errc::invalid_argument);
  return message_of(r.error());
}

struct split_token {
  std::string header, payload, signature;
};

split_token split(const std::string& t) {
  auto d1 = t.find('.');
  auto d2 = t.rfind('.');
  return {t.substr(0, d1), t.substr(d1 + 1, d2 - d1 - 1), t.substr(d2 + 1)};
}

} // namespace

TEST_CASE("a token Poco's Signer made with the secret names its user", "[organizer_token]") {
  auto r = verify_organizer_token(poco_token(secret, "u1", now + 600), secret, now);
  REQUIRE(r);
  CHECK(r->user_id == "u1");
  CHECK(r->expires_at == Approx(now + 600));
}

TEST_CASE("Poco's fractional exp and a hand-made token are accepted alike", "[organizer_token]") {
  // Token::setExpiration writes seconds with a fraction ("exp":1800000600.5).
  Poco::JWT::Token t;
  t.setSubject("u2");
  t.setExpiration(Poco::Timestamp((now + 600) * Poco::Timestamp::resolution() + 500000));
  Poco::JWT::Signer signer(secret);
  auto r = verify_organizer_token(signer.sign(t, "HS256"), secret, now);
  REQUIRE(r);
  CHECK(r->user_id == "u2");

  auto hand = verify_organizer_token(hand_token(hs256, claims("u3", now + 600), secret), secret, now);
  REQUIRE(hand);
  CHECK(hand->user_id == "u3");
}

TEST_CASE("exp is required and honoured with a leeway of 30 seconds", "[organizer_token]") {
  const auto exp = now - 100;
  auto token = hand_token(hs256, claims("u1", exp), secret);
  CHECK(verify_organizer_token(token, secret, exp - 1));
  CHECK(verify_organizer_token(token, secret, exp + organizer_token_leeway_seconds - 1));
  CHECK(reason_of(verify_organizer_token(token, secret, exp + organizer_token_leeway_seconds))
        == "token expired");
  CHECK(reason_of(verify_organizer_token(token, secret, now)) == "token expired");

  CHECK(reason_of(verify_organizer_token(hand_token(hs256, R"({"sub":"u1"})", secret), secret, now))
        == "token has no exp claim");
  // Poco's Var calls a boolean numeric and turns digit strings into numbers: both refused.
  for (const char* bad : {R"("9999999999")", "true", "null", "[1]", "{}"}) {
    INFO(bad);
    auto t = hand_token(hs256, std::string(R"({"sub":"u1","exp":)") + bad + "}", secret);
    CHECK_FALSE(verify_organizer_token(t, secret, now));
  }
}

TEST_CASE("nbf is honoured when present, with the same leeway", "[organizer_token]") {
  const auto nbf = now + 100;
  auto token = hand_token(
    hs256, R"({"sub":"u1","exp":)" + std::to_string(now + 3600) + R"(,"nbf":)" + std::to_string(nbf) + "}",
    secret);
  CHECK(reason_of(verify_organizer_token(token, secret, now)) == "token not valid yet (nbf)");
  CHECK(reason_of(verify_organizer_token(token, secret, nbf - organizer_token_leeway_seconds - 1))
        == "token not valid yet (nbf)");
  CHECK(verify_organizer_token(token, secret, nbf - organizer_token_leeway_seconds));
  CHECK(verify_organizer_token(token, secret, nbf + 1));
  auto text_nbf = hand_token(
    hs256, R"({"sub":"u1","exp":)" + std::to_string(now + 3600) + R"(,"nbf":"0"})", secret);
  CHECK(reason_of(verify_organizer_token(text_nbf, secret, now)) == "nbf claim is not a number");
}

TEST_CASE("sub must be a non-empty string of at most 128 bytes", "[organizer_token]") {
  const auto exp = std::to_string(now + 600);
  for (const auto& payload :
       {R"({"exp":)" + exp + "}", R"({"sub":"","exp":)" + exp + "}",
        R"({"sub":42,"exp":)" + exp + "}", R"({"sub":null,"exp":)" + exp + "}",
        R"({"sub":["u1"],"exp":)" + exp + "}", claims(std::string(129, 'u'), now + 600)}) {
    INFO(payload);
    CHECK_FALSE(verify_organizer_token(hand_token(hs256, payload, secret), secret, now));
  }
  CHECK(verify_organizer_token(hand_token(hs256, claims(std::string(128, 'u'), now + 600), secret),
                               secret, now));
}

TEST_CASE("only HS256 is accepted: none, HS384, HS512 and RS256 are refused",
          "[organizer_token]") {
  const auto payload = claims("u1", now + 600);
  const auto body = b64url(payload);
  const std::string none_header = R"({"alg":"none","typ":"JWT"})";
  const auto rejected_alg = "algorithm not allowed (HS256 only)";

  // alg none with an empty signature, and with a signature that would be right for HS256.
  CHECK(reason_of(verify_organizer_token(b64url(none_header) + "." + body + ".", secret, now))
        == rejected_alg);
  CHECK(reason_of(verify_organizer_token(hand_token(none_header, payload, secret), secret, now))
        == rejected_alg);
  for (const char* alg : {"None", "NONE", "hs256", "", "HS256 "}) {
    INFO(alg);
    auto header = std::string(R"({"alg":")") + alg + R"("})";
    CHECK(reason_of(verify_organizer_token(hand_token(header, payload, secret), secret, now))
          == rejected_alg);
  }
  CHECK(reason_of(verify_organizer_token(hand_token(R"({"typ":"JWT"})", payload, secret), secret,
                                         now))
        == rejected_alg);
  CHECK(reason_of(verify_organizer_token(hand_token(R"({"alg":["HS256"]})", payload, secret),
                                         secret, now))
        == rejected_alg);

  // Correctly signed with the secret, but with another HMAC.
  CHECK(reason_of(verify_organizer_token(poco_token(secret, "u1", now + 600, "HS384"), secret, now))
        == rejected_alg);
  CHECK(reason_of(verify_organizer_token(poco_token(secret, "u1", now + 600, "HS512"), secret, now))
        == rejected_alg);
  CHECK(reason_of(verify_organizer_token(
          hand_token(R"({"alg":"HS512"})", payload, secret, EVP_sha512()), secret, now))
        == rejected_alg);

  // RS256 with a garbage signature, and RS256 "signed" with the secret as an HMAC key (the
  // algorithm-confusion attack on verifiers that let the header pick the algorithm).
  CHECK(reason_of(verify_organizer_token(
          b64url(R"({"alg":"RS256","typ":"JWT"})") + "." + body + "." + b64url(std::string(256, 'x')),
          secret, now))
        == rejected_alg);
  CHECK(reason_of(verify_organizer_token(hand_token(R"({"alg":"RS256"})", payload, secret), secret,
                                         now))
        == rejected_alg);

  // A header naming both: the JSON parser keeps the last, for us and for Poco alike.
  CHECK(reason_of(verify_organizer_token(
          hand_token(R"({"alg":"HS256","alg":"none"})", payload, secret), secret, now))
        == rejected_alg);
}

TEST_CASE("a crit header is refused", "[organizer_token]") {
  auto t = hand_token(R"({"alg":"HS256","crit":["b64"],"b64":false})", claims("u1", now + 600),
                      secret);
  CHECK(reason_of(verify_organizer_token(t, secret, now))
        == "unsupported critical header parameters");
}

TEST_CASE("a wrong key or a tampered token fails the signature", "[organizer_token]") {
  const auto good = poco_token(secret, "u1", now + 600);
  REQUIRE(verify_organizer_token(good, secret, now));
  CHECK(reason_of(verify_organizer_token(poco_token("another-secret", "u1", now + 600), secret, now))
        == "bad signature");
  // A prefix or a longer version of the key is another key.
  CHECK_FALSE(verify_organizer_token(poco_token(secret + "x", "u1", now + 600), secret, now));
  CHECK_FALSE(verify_organizer_token(good, secret.substr(0, secret.size() - 1), now));

  auto p = split(good);
  // Someone else's user id, or a later exp, under the original signature.
  auto other = p.header + "." + b64url(claims("u-admin", now + 600)) + "." + p.signature;
  CHECK(reason_of(verify_organizer_token(other, secret, now)) == "bad signature");
  auto later = p.header + "." + b64url(claims("u1", now + 999999)) + "." + p.signature;
  CHECK(reason_of(verify_organizer_token(later, secret, now)) == "bad signature");
  // The signature truncated, emptied, or with one character changed.
  CHECK_FALSE(verify_organizer_token(p.header + "." + p.payload + "." + p.signature.substr(0, 42),
                                     secret, now));
  CHECK_FALSE(verify_organizer_token(p.header + "." + p.payload + ".", secret, now));
  auto flipped = p.signature;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  CHECK(reason_of(verify_organizer_token(p.header + "." + p.payload + "." + flipped, secret, now))
        == "bad signature");
}

TEST_CASE("only the canonical encoding of the signature is accepted", "[organizer_token]") {
  // 32 bytes take 43 base64 characters; the last one carries 2 unused bits. Poco's decoder
  // ignores them, so it would take four spellings of one signature.
  const std::string alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  auto p = split(poco_token(secret, "u1", now + 600));
  REQUIRE(p.signature.size() == 43);
  auto same_bytes = p.signature;
  same_bytes.back() = alphabet[alphabet.find(same_bytes.back()) ^ 1];
  auto t = p.header + "." + p.payload + "." + same_bytes;
  Poco::JWT::Signer poco(secret);
  Poco::JWT::Token parsed;
  CHECK(poco.tryVerify(t, parsed)); // the pitfall this guards against
  CHECK(reason_of(verify_organizer_token(t, secret, now)) == "bad signature");
}

TEST_CASE("malformed tokens are refused before any signature work", "[organizer_token]") {
  const auto good = poco_token(secret, "u1", now + 600);
  auto p = split(good);
  const std::string not_three = "malformed token (not three dot-separated parts)";
  const std::string not_b64 = "malformed token (parts are not base64url)";
  struct bad {
    std::string token;
    std::string reason;
  };
  const bad cases[] = {
    {"", not_three},
    {"abc", not_three},
    {p.header + "." + p.payload, not_three},
    {good + ".", not_three},                   // Poco accepts a trailing dot
    {good + "." + p.signature, not_three},     // and a fourth part, ignored
    {"." + good, not_three},
    {"." + p.payload + "." + p.signature, not_b64},
    {p.header + ".." + p.signature, not_b64},
    {good + "=", not_b64},                     // and padding
    {p.header + "=." + p.payload + "." + p.signature, not_b64},
    {p.header + "." + p.payload + "." + p.signature.substr(0, 10) + " " + p.signature.substr(10),
     not_b64},
    {p.header + "." + p.payload + "+/." + p.signature, not_b64}, // plain base64, not base64url
    {p.header + ".%%%." + p.signature, not_b64},
    {b64url("not json") + "." + p.payload + "." + p.signature,
     "malformed token (header or payload is not a base64url JSON object)"},
    {p.header + "." + b64url("[1,2]") + "." + p.signature,
     "malformed token (header or payload is not a base64url JSON object)"},
    {b64url(R"("HS256")") + "." + p.payload + "." + p.signature,
     "malformed token (header or payload is not a base64url JSON object)"},
    {std::string(max_organizer_token_bytes + 1, 'a'), "token too long"},
  };
  for (const auto& c : cases) {
    INFO(c.token.substr(0, 120));
    CHECK(reason_of(verify_organizer_token(c.token, secret, now)) == c.reason);
  }
  // Deep nesting and binary junk in an otherwise well-formed token.
  const auto deep = b64url(R"({"sub":"u1","x":)" + std::string(5000, '[') + "}");
  CHECK_FALSE(verify_organizer_token(p.header + "." + deep + "." + p.signature, secret, now));
  const auto junk = b64url(std::string("\x00\xff\xfe{", 4));
  CHECK_FALSE(verify_organizer_token(junk + "." + junk + "." + p.signature, secret, now));
}

TEST_CASE("an empty secret refuses every token, even one signed with the empty key",
          "[organizer_token]") {
  auto t = hand_token(hs256, claims("u1", now + 600), "");
  CHECK(reason_of(verify_organizer_token(t, "", now))
        == "organizer tokens are disabled (SMSD_JWT_SECRET is empty)");
  CHECK_FALSE(verify_organizer_token(poco_token(secret, "u1", now + 600), "", now));
}

TEST_CASE("a reason never repeats the token, its claims or the secret", "[organizer_token]") {
  const std::string sub = "user-with-a-distinctive-name";
  const std::vector<std::string> tokens = {
    poco_token("wrong-key", sub, now + 600),
    poco_token(secret, sub, now - 600),
    hand_token(R"({"alg":"none"})", claims(sub, now + 600), secret),
    hand_token(R"({"alg":"HS256-)" + sub + R"("})", claims(sub, now + 600), secret),
    hand_token(hs256, R"({"sub":")" + sub + R"(","exp":"soon"})", secret),
    split(poco_token(secret, sub, now + 600)).header + ".@" + sub,
  };
  for (const auto& t : tokens) {
    auto why = reason_of(verify_organizer_token(t, secret, now));
    INFO(why);
    CHECK(why.find(sub) == std::string::npos);
    CHECK(why.find(secret) == std::string::npos);
    CHECK(why.find(t.substr(0, 20)) == std::string::npos);
    CHECK(why.size() < 100);
  }
}

// -- signing (smsd token) ---------------------------------------------------------------------------

TEST_CASE("a signed token round-trips through the verifier until it expires", "[organizer_token]") {
  auto token = sign_organizer_token("u-owner", secret, now, 3600);
  REQUIRE(token);
  auto r = verify_organizer_token(*token, secret, now);
  REQUIRE(r);
  CHECK(r->user_id == "u-owner");
  CHECK(r->expires_at == Approx(now + 3600));
  // Valid to the end of its lifetime (and the leeway), refused after.
  CHECK(verify_organizer_token(*token, secret, now + 3600 + organizer_token_leeway_seconds - 1));
  CHECK_FALSE(verify_organizer_token(*token, secret, now + 3600 + organizer_token_leeway_seconds));
  // Another secret does not accept it.
  CHECK_FALSE(verify_organizer_token(*token, secret + "x", now));
}

TEST_CASE("a signed token carries HS256 and the claims sub, iat and exp", "[organizer_token]") {
  auto token = sign_organizer_token("u\"quoted\" é", secret, now, 90);
  REQUIRE(token);
  Poco::JWT::Token parsed(*token);
  CHECK(parsed.getAlgorithm() == "HS256");
  CHECK(parsed.getType() == "JWT");
  CHECK(parsed.getSubject() == "u\"quoted\" é");
  CHECK(parsed.payload().getValue<Poco::Int64>("iat") == now);
  CHECK(parsed.payload().getValue<Poco::Int64>("exp") == now + 90);
  // Poco's own verifier agrees with the signature.
  Poco::JWT::Signer signer(secret);
  CHECK(signer.tryVerify(*token, parsed));
  auto r = verify_organizer_token(*token, secret, now);
  REQUIRE(r);
  CHECK(r->user_id == "u\"quoted\" é");
}

TEST_CASE("nothing is signed without a secret, a user id or a positive lifetime",
          "[organizer_token]") {
  auto reason = [](const caf::expected<std::string>& r) {
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == errc::invalid_argument);
    return message_of(r.error());
  };
  CHECK_THAT(reason(sign_organizer_token("u1", "", now, 60)), Catch::Contains("SMSD_JWT_SECRET"));
  CHECK_THAT(reason(sign_organizer_token("", secret, now, 60)), Catch::Contains("user id"));
  CHECK_THAT(reason(sign_organizer_token(std::string(129, 'u'), secret, now, 60)),
             Catch::Contains("user id"));
  CHECK_THAT(reason(sign_organizer_token("u1", secret, now, 0)), Catch::Contains("lifetime"));
  CHECK_THAT(reason(sign_organizer_token("u1", secret, now, -5)), Catch::Contains("lifetime"));
  CHECK_THAT(reason(sign_organizer_token("u\xff", secret, now, 60)), Catch::Contains("UTF-8"));
  CHECK(sign_organizer_token(std::string(128, 'u'), secret, now, 60));
}

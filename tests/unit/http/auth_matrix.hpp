#pragma once
// The authorization matrix of the organizer endpoints (DESIGN §5): every kind of caller against
// one endpoint, with the status each must get. A new endpoint joins with one line:
//   check_auth_matrix(port, secret, {"GET", [](auto& ev) { return "/api/events/" + ev +
//                                    "/sms-summary"; }, "", event_permission::view});
// It also holds the token helpers the organizer token tests use.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <Poco/Base64Encoder.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>

#include "http/event_access.hpp"
#include "persistence/store.hpp"
#include "tests/support/http_test_client.hpp"

namespace smsd::test {

// -- tokens ------------------------------------------------------------------------------------

inline std::string b64url(const std::string& bytes) {
  std::ostringstream out;
  Poco::Base64Encoder enc(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  enc << bytes;
  enc.close();
  return out.str();
}

inline std::string hmac_b64url(const EVP_MD* md, const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &size);
  return b64url(std::string(reinterpret_cast<const char*>(mac), size));
}

/// A token assembled by hand from header and payload JSON text, signed with HMAC-SHA256 (or
/// `md`) over `b64(header).b64(payload)`, whatever the header says.
inline std::string hand_token(const std::string& header_json, const std::string& payload_json,
                              const std::string& key, const EVP_MD* md = EVP_sha256()) {
  auto input = b64url(header_json) + "." + b64url(payload_json);
  return input + "." + hmac_b64url(md, key, input);
}

/// A token made by Poco's own Signer, as the platform would issue it.
inline std::string poco_token(const std::string& secret, const std::string& sub,
                              std::int64_t exp_seconds,
                              const std::string& alg = Poco::JWT::Signer::ALGO_HS256) {
  Poco::JWT::Token t;
  t.setType("JWT");
  t.setSubject(sub);
  t.payload().set(Poco::JWT::Token::CLAIM_EXPIRATION, Poco::Int64{exp_seconds});
  Poco::JWT::Signer signer(secret);
  return signer.sign(t, alg);
}

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// -- the world the matrix runs in ----------------------------------------------------------------

/// Event A (the one every request names) and event B, each with its owner and co-organizers,
/// and an attendee with a phone in each.
namespace auth_world {
inline const std::string event_a = "evA";
inline const std::string event_b = "evB";
inline const std::string attendee_a = "atA1";
inline const std::string attendee_b = "atB1";
inline const std::string owner_a = "u-owner-a";
inline const std::string viewer_a = "u-view-a";   ///< co-organizer of A with view only
inline const std::string curator_a = "u-curate-a"; ///< co-organizer of A with curate only
inline const std::string organizer_b = "u-co-b";  ///< co-organizer of B with view and curate
inline const std::string owner_b = "u-owner-b";

inline void seed(store& db) {
  REQUIRE(db.upsert_event({event_a, "Event A", 1'800'000'000'000, owner_a, 0, 0}));
  REQUIRE(db.upsert_event({event_b, "Event B", 1'800'000'000'000, owner_b, 0, 0}));
  REQUIRE(db.upsert_organizer({event_a, viewer_a, true, false}));
  REQUIRE(db.upsert_organizer({event_a, curator_a, false, true}));
  REQUIRE(db.upsert_organizer({event_b, organizer_b, true, true}));
  REQUIRE(db.upsert_attendee({attendee_a, event_a, "Ann", std::nullopt,
                              std::string("+14158675309"), 0, 0}));
  REQUIRE(db.upsert_attendee({attendee_b, event_b, "Ben", std::nullopt,
                              std::string("+14158675310"), 0, 0}));
}
} // namespace auth_world

// -- the matrix ------------------------------------------------------------------------------------

/// One organizer endpoint, as the matrix calls it on event A.
struct auth_endpoint {
  std::string method;
  std::function<std::string(const std::string& event_id)> target;
  std::string body; ///< JSON; "" sends none
  event_permission needed;
};

/// One kind of caller: its Authorization header (none when nullopt) and what it must get.
struct auth_row {
  std::string who;
  std::optional<std::string> authorization;
  int status_for_view;
  int status_for_curate;
};

/// The rows of DESIGN §5, with tokens valid for an hour signed with `secret`.
inline std::vector<auth_row> auth_rows(const std::string& secret, const std::string& admin_token) {
  using namespace auth_world;
  const auto now = unix_now();
  auto bearer_of = [](const std::string& t) { return "Bearer " + t; };
  auto valid = [&](const std::string& sub) { return bearer_of(poco_token(secret, sub, now + 3600)); };
  const auto claims = R"({"sub":")" + owner_a + R"(","exp":)" + std::to_string(now + 3600) + "}";
  return {
    {"owner", valid(owner_a), 200, 200},
    {"co-organizer with view only", valid(viewer_a), 200, 403},
    {"co-organizer with curate", valid(curator_a), 200, 200},
    {"co-organizer of another event", valid(organizer_b), 404, 404},
    {"owner of another event", valid(owner_b), 404, 404},
    {"admin token", bearer_of(admin_token), 200, 200},
    {"no token", std::nullopt, 401, 401},
    {"expired token", bearer_of(poco_token(secret, owner_a, now - 3600)), 401, 401},
    {"token signed with another key", bearer_of(poco_token(secret + "-not", owner_a, now + 3600)),
     401, 401},
    {"alg none", bearer_of(b64url(R"({"alg":"none","typ":"JWT"})") + "." + b64url(claims) + "."),
     401, 401},
  };
}

/// Calls the endpoint as every row and checks each status. `side_effects` counts what the
/// endpoint may have done (texts sent, rows written); it must not move unless the answer is 200.
/// Error answers carry the one JSON error shape; 401s carry `WWW-Authenticate: Bearer`.
inline void check_auth_matrix(std::uint16_t port, const std::string& secret,
                              const std::string& admin_token, const auth_endpoint& ep,
                              const std::function<std::size_t()>& side_effects = [] {
                                return std::size_t{0};
                              }) {
  http_test_client client(port, false);
  for (const auto& row : auth_rows(secret, admin_token)) {
    const auto target = ep.target(auth_world::event_a);
    INFO(ep.method << " " << target << " as " << row.who);
    http_request_spec spec;
    spec.method = ep.method;
    spec.target = target;
    if (row.authorization)
      spec.headers.emplace_back("Authorization", *row.authorization);
    if (!ep.body.empty()) {
      spec.body = ep.body;
      spec.content_type = "application/json";
    }
    const auto before = side_effects();
    const auto r = client.send(spec);
    const int expected =
      ep.needed == event_permission::view ? row.status_for_view : row.status_for_curate;
    CHECK(r.status == expected);
    if (r.status != 200) {
      CHECK(side_effects() == before);
      CHECK(r.json().at("error").is_string());
    }
    if (r.status == 401)
      CHECK(r.header("WWW-Authenticate") == "Bearer");
    if (r.status == 404)
      CHECK(r.json().at("error") == "Event not found");
  }
}

} // namespace smsd::test

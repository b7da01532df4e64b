#pragma once
// Shared by the integration tests: an in-process smsd on port 0 over a real database, and
// signed callbacks posted to it over real HTTP.

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <spdlog/spdlog.h>

#include "app/application.hpp"
#include "persistence/store.hpp"
#include "tests/support/http_test_client.hpp"
#include "tests/support/sample_records.hpp"
#include "tests/support/signed_callbacks.hpp"
#include "tests/support/test_databases.hpp"

namespace smsd::test {

inline const std::string auth_token = "integration-auth-token";
inline const std::string admin_token = "integration-admin-token";
/// What Twilio would call; smsd validates signatures against it, whatever port it listens on.
inline const std::string public_url = "https://smsd.example.test";

/// A fresh database of each dialect: a temp SQLite file, and a new PostgreSQL database on the
/// server scripts/test.sh started. Use as GENERATE(database_urls()).
inline std::string database_url_of(const std::string& dialect) {
  return dialect == "sqlite" ? temp_sqlite_url() : fresh_postgres_url();
}

/// Waits until `done()` holds, polling; false if `timeout` passed first.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

inline config test_config(const std::string& database_url) {
  config cfg;
  cfg.listen_host = "127.0.0.1";
  cfg.listen_port = 0;
  cfg.database_url = database_url;
  cfg.public_app_url = public_url;
  cfg.twilio_auth_token = auth_token;
  cfg.twilio_account_sid = "AC00000000000000000000000000000000";
  cfg.admin_token = admin_token;
  cfg.pending_sweep_ms = 100;
  cfg.http_threads = 32;
  // Warnings and errors only, so a failing test's output ends near its assertion; set
  // SMSD_TEST_LOG_LEVEL=info (or debug) to see everything smsd logs.
  const char* level = std::getenv("SMSD_TEST_LOG_LEVEL");
  cfg.log_level = level && *level ? level : "warn";
  return cfg;
}

/// An event with one attendee, as the platform's sync would store them.
inline void seed_event(store& db, const std::string& event_id = "ev1",
                       const std::string& attendee_id = "at1") {
  REQUIRE(db.upsert_event({event_id, "No Edges", 1'800'000'000'000, "u1", 0, 0}));
  REQUIRE(db.upsert_attendee({attendee_id, event_id, "John", std::string("Smith"),
                              std::string("+15551234567"), 0, 0}));
}

/// A message row as the sender writes it (queued, with or without its SID).
inline void seed_message(store& db, const std::string& id, std::optional<std::string> sid,
                         const std::string& event_id = "ev1",
                         const std::string& attendee_id = "at1") {
  REQUIRE_FALSE(db.insert_message(sample_message(id, std::move(sid), event_id, attendee_id)));
}

/// A migrated database of the test's own, with event ev1 and attendee at1.
inline std::unique_ptr<store> seeded_store(const std::string& database_url) {
  auto s = open_store(database_url);
  REQUIRE(s);
  REQUIRE((*s)->migrate());
  seed_event(**s);
  return std::move(*s);
}

/// smsd in this process, plus a store connection of the test's own to seed and inspect.
struct running_smsd {
  config cfg;
  std::unique_ptr<application> app;
  std::unique_ptr<store> db;

  explicit running_smsd(const std::string& database_url)
    : running_smsd(test_config(database_url)) {}

  explicit running_smsd(config c) : cfg(std::move(c)) {
    start();
    auto s = open_store(cfg.database_url);
    REQUIRE(s);
    db = std::move(*s);
  }

  void start() {
    spdlog::set_level(spdlog::level::from_str(cfg.log_level));
    auto a = application::start(cfg);
    REQUIRE(a);
    app = std::move(*a);
  }

  void restart() {
    app.reset();
    start();
  }

  std::uint16_t port() const { return app->port(); }

  /// Posts a correctly signed status callback (to /api/webhooks/twilio/status[?mid=ID]).
  http_reply callback(const std::string& sid, const std::string& status,
                      const std::string& error_code = "", const std::string& mid = "",
                      const header_list& extra = {}) const {
    std::string target = "/api/webhooks/twilio/status";
    if (!mid.empty())
      target += "?mid=" + mid;
    auto cb = sign_callback(auth_token, public_url, target, status_params(sid, status, error_code));
    header_list headers{{"X-Twilio-Signature", cb.signature}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    return http_send(port(), {"POST", target, headers, cb.body,
                              "application/x-www-form-urlencoded", false});
  }

  void seed_event(const std::string& event_id = "ev1", const std::string& attendee_id = "at1") {
    test::seed_event(*db, event_id, attendee_id);
  }

  void seed_message(const std::string& id, std::optional<std::string> sid,
                    const std::string& event_id = "ev1", const std::string& attendee_id = "at1") {
    test::seed_message(*db, id, std::move(sid), event_id, attendee_id);
  }

  std::optional<message_record> message(const std::string& id) const {
    auto m = db->find_message_by_id(id);
    REQUIRE(m);
    return *m;
  }

  std::vector<status_event_record> events(const std::string& id_or_sid) const {
    auto t = db->timeline(id_or_sid);
    REQUIRE(t);
    if (!*t)
      return {};
    return (*t)->events;
  }
};

} // namespace smsd::test

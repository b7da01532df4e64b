#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "config/config.hpp"
#include "http/server.hpp"
#include "persistence/store.hpp"
#include "persistence/store_pool.hpp"
#include "tests/support/fake_status_intake.hpp"
#include "tests/support/http_test_client.hpp"
#include "tests/support/test_databases.hpp"

namespace smsd::test {

constexpr const char* test_public_url = "https://smsd.example.test";
constexpr const char* test_auth_token = "primary-auth-token-0123456789abcdef";
constexpr const char* test_secondary_token = "secondary-auth-token-fedcba9876543210";
constexpr const char* test_admin_token = "admin-token-for-tests";
constexpr const char* callback_path = "/api/webhooks/twilio/status";

/// A configuration for an in-process server on 127.0.0.1:0.
inline config http_test_config() {
  config cfg;
  cfg.listen_host = "127.0.0.1";
  cfg.listen_port = 0;
  cfg.public_app_url = test_public_url;
  cfg.twilio_auth_token = test_auth_token;
  cfg.admin_token = test_admin_token;
  cfg.http_threads = 8;
  cfg.callback_ack_timeout_ms = 2000;
  return cfg;
}

/// An http_server with a fake intake and, if asked, a real SQLite store (migrated unless told
/// otherwise), started on a free port and stopped at the end.
class server_fixture {
public:
  enum class database { none, migrated, unmigrated };

  explicit server_fixture(config c = http_test_config(), database db = database::none)
    : cfg(std::move(c)) {
    spdlog::set_level(spdlog::level::warn);
    if (db != database::none) {
      cfg.database_url = temp_sqlite_url();
      auto s = open_store(cfg.database_url);
      if (!s)
        throw std::runtime_error("open_store: " + describe(s.error()));
      if (db == database::migrated) {
        auto m = (*s)->migrate();
        if (!m)
          throw std::runtime_error("migrate: " + describe(m.error()));
      }
      direct = std::move(*s);
      stores = std::make_unique<store_pool>(cfg.database_url, 4);
    }
    server = std::make_unique<http_server>(http_dependencies{&cfg, &intake, stores.get()});
    if (auto err = server->start())
      throw std::runtime_error("start: " + describe(err));
  }

  ~server_fixture() {
    server->stop();
  }

  std::uint16_t port() const { return server->port(); }

  http_test_client client(bool keep_alive = false) const {
    return http_test_client(port(), keep_alive);
  }

  config cfg;
  fake_status_intake intake;
  std::unique_ptr<store> direct; ///< a connection of the test's own, to arrange and inspect data
  std::unique_ptr<store_pool> stores;
  std::unique_ptr<http_server> server;
};

} // namespace smsd::test

#pragma once
// An http_server with the real sender on a real SQLite file, a fake Twilio on the real
// twilio_api interface and a recording status intake: what the send and organizer endpoint
// tests talk to.

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "sending/sender.hpp"
#include "server_fixture.hpp"
#include "tests/support/fake_twilio.hpp"

namespace smsd::test {

struct sending_server {
  std::string url = temp_sqlite_url();
  config cfg = http_test_config();
  fake_status_intake intake;
  std::unique_ptr<store> direct; ///< the test's own connection, to arrange and inspect data
  std::unique_ptr<store_pool> stores;
  std::unique_ptr<fake_twilio> tw;
  std::unique_ptr<sender> snd;
  std::unique_ptr<http_server> server;

  /// Migrates, lets `seed` fill the database, then starts the server (without a sender when
  /// `with_sender` is false: sending is not configured).
  sending_server(const std::function<void(store&)>& seed, std::string jwt_secret = "",
                 bool with_sender = true) {
    spdlog::set_level(spdlog::level::warn);
    cfg.database_url = url;
    cfg.jwt_secret = std::move(jwt_secret);
    direct = std::move(*open_store(url));
    REQUIRE(direct->migrate());
    seed(*direct);
    stores = std::make_unique<store_pool>(url, 4);
    tw = std::make_unique<fake_twilio>(url);
    if (with_sender) {
      sender_settings ss;
      ss.public_app_url = test_public_url;
      ss.messaging_service_sid = "MG1";
      snd = std::make_unique<sender>(ss, *stores, *tw, intake);
    }
    server = std::make_unique<http_server>(http_dependencies{&cfg, &intake, stores.get(), snd.get()});
    REQUIRE_FALSE(server->start());
  }
  ~sending_server() { server->stop(); }

  http_test_client client() const { return http_test_client(server->port(), false); }

  /// Creates the fake Twilio has answered so far.
  std::size_t creates() {
    std::lock_guard<std::mutex> guard{tw->mtx};
    return tw->creates.size();
  }
};

} // namespace smsd::test

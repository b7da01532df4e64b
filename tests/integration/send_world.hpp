#pragma once
// smsd (in process, real database) wired to the real Twilio simulator (a child process): smsd
// calls the simulator's REST API; the simulator signs callbacks for smsd's public URL and
// delivers them to smsd's real port.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration_support.hpp"
#include "tests/support/smsd_process.hpp"
#include "tests/support/twilio_sim_process.hpp"

namespace smsd::test {

using nlohmann::json;


const std::string sim_account_sid = "AC00000000000000000000000000000000";
const header_list admin_headers{bearer(admin_token)};

/// smsd and the simulator, wired to each other.
struct send_world {
  std::uint16_t smsd_port = free_port();
  twilio_sim_process sim;
  running_smsd smsd;

  explicit send_world(const std::string& database_url, const json& behaviour = json::object())
    : sim({"--account-sid", sim_account_sid, "--auth-token", auth_token, "--callback-base",
           "http://127.0.0.1:" + std::to_string(smsd_port)}),
      smsd(config_for(database_url, smsd_port, sim.port())) {
    configure(behaviour);
  }

  static config config_for(const std::string& url, std::uint16_t port, std::uint16_t sim_port) {
    auto cfg = test_config(url);
    cfg.listen_port = port;
    cfg.twilio_api_base_url = "http://127.0.0.1:" + std::to_string(sim_port);
    cfg.twilio_messaging_service_sid = "MG00000000000000000000000000000000";
    cfg.twilio_backoff_ms = 10;
    cfg.twilio_backoff_max_ms = 200;
    cfg.twilio_max_attempts = 8;
    cfg.twilio_read_timeout_ms = 3000;
    return cfg;
  }

  void configure(const json& behaviour) {
    auto r = http_send(sim.port(), {"PUT", "/_sim/config", {}, behaviour.dump(), "application/json"});
    REQUIRE(r.status == 200);
  }

  json stats() const {
    auto r = http_send(sim.port(), {"GET", "/_sim/stats", {}, "", ""});
    REQUIRE(r.status == 200);
    return r.json();
  }

  void attendee(const std::string& id, std::optional<std::string> phone,
                const std::string& first_name = "Guest") {
    REQUIRE(smsd.db->upsert_attendee({id, "ev1", first_name, std::nullopt, std::move(phone), 0, 0}));
  }

  http_reply notify(const json& body) const {
    return http_send(smsd.port(), {"POST", "/api/events/ev1/notify", admin_headers, body.dump(),
                                   "application/json"});
  }

  http_reply send(const std::string& attendee_id, const std::string& body = "Hello") const {
    json j = {{"eventId", "ev1"},
              {"attendeeId", attendee_id},
              {"body", body},
              {"notificationType", "event_reminder"}};
    return http_send(smsd.port(), {"POST", "/api/sms/send", admin_headers, j.dump(), "application/json"});
  }

  message_record row(const std::string& id) const {
    auto m = smsd.message(id);
    REQUIRE(m);
    return *m;
  }

  bool all_final(const std::vector<std::string>& ids) const {
    for (const auto& id : ids)
      if (smsd.message(id)->state.status_rank < 4)
        return false;
    return true;
  }
};

} // namespace smsd::test

#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "scheduling/schedule.hpp"

namespace smsd {

/// Everything smsd reads at start-up. Names follow DESIGN §6; docs/configuration.md lists them.
struct config {
  // Network
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string public_app_url; ///< scheme://host[:port] Twilio calls; defaults to http://listen

  // Database: "sqlite:PATH" or "postgresql://..."
  std::string database_url = "sqlite:./data/smsd.db";

  // Twilio
  std::string twilio_account_sid;
  std::string twilio_auth_token;
  std::string twilio_auth_token_secondary;
  std::string twilio_messaging_service_sid;
  std::string twilio_from_number;
  std::string twilio_api_base_url = "https://api.twilio.com";
  std::string twilio_ca_file; ///< extra CA bundle for TLS to Twilio; "" = the system's
  int twilio_concurrency = 16;          ///< Twilio requests in flight at once
  int twilio_connect_timeout_ms = 10000;
  int twilio_read_timeout_ms = 15000;
  int twilio_max_attempts = 5;          ///< per request; 429, 5xx and connect errors are retried
  int twilio_backoff_ms = 200;          ///< first retry delay; doubles, with full jitter
  int twilio_backoff_max_ms = 10000;    ///< cap of a delay, Retry-After included

  // Sending
  std::string default_country = "US"; ///< region of numbers written without a country code
  int send_concurrency = 8;           ///< texts of one notify sent at once

  // Access
  std::string jwt_secret;
  std::string admin_token;

  // The organizer page (http/page_handlers): who may frame it, as CSP frame-ancestors sources.
  std::string frame_ancestors = "'none'";

  // HTTP server (http/event_server): event loops own the connections; the webhook runs on them
  // and never blocks; every other endpoint may block and runs on one of http_threads.
  int http_io_threads = 1;          ///< event loops
  int http_threads = 32;            ///< threads for the endpoints that may block
  int http_max_connections = 10000; ///< open at once; more get the reserve's 503
  int http_max_connections_per_peer = 1000; ///< from one client address (0: no limit); more: 429
  std::size_t max_body_bytes = 64 * 1024;
  int max_json_depth = 32;
  int callback_ack_timeout_ms = 10000; ///< Twilio waits 15 s; answer 503 well before that

  // Persistence
  int db_pool_size = 8;      ///< read/admin connections shared by HTTP threads
  int db_writers = 0;        ///< group-commit connections; 0 = auto (1; docs/performance.md)
  int db_readers = 0;        ///< connections loading message actors' state; 0 = auto (SQLite 1, PostgreSQL 4)
  int max_batch_ops = 2048;  ///< upper bound of one group commit

  // Message actors
  int actor_threads = 0;         ///< CAF scheduler threads; 0 = auto (one fewer than the cores, at least 1)
  int message_idle_ms = 30000;   ///< a message actor stops after this long without work
  int pending_sweep_ms = 10000;  ///< how often callbacks kept before their row are retried
  int sqlite_checkpoint_ms = 20; ///< SQLite: how often the WAL checkpointer copies the WAL back

  // Jobs (DESIGN §1, docs/operations.md "Jobs"); schedules in UTC
  int retention_days = 90;                             ///< messages of older events are deleted
  millis reconcile_stale_after_ms = 12LL * 3600 * 1000; ///< a message not final after this is polled
  millis reconcile_window_ms = 7LL * 24 * 3600 * 1000;  ///< older messages are left alone
  schedule retention_schedule = {schedule::kind::daily, 3 * 60, 0};
  schedule reconcile_schedule = {schedule::kind::every, 0, 3600 * 1000};

  std::string log_level = "info";

  bool is_postgres() const;
  /// Whether texts can be sent: account, token, and a Messaging Service or a From number.
  bool can_send() const;
  /// The SQLite file path of a "sqlite:PATH" URL ("" for PostgreSQL).
  std::string sqlite_path() const;
};

/// Reads a variable of the environment; nullopt when unset. Injectable for tests.
using env_lookup = std::function<std::optional<std::string>(const char*)>;

/// The process environment.
env_lookup process_env();

/// Builds the configuration: defaults, then the JSON file named by SMSD_CONFIG (an object whose
/// keys are the environment variables' names), then the environment. Any bad value is an error
/// naming the setting; nothing secret is echoed back.
caf::expected<config> load_config(const env_lookup& env);

} // namespace smsd

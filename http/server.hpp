#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>

namespace smsd {

struct config;
class sender;
class status_intake;
class store_pool;
class job_control;
class sms_stream_hub;

/// What the HTTP layer needs from the rest of smsd.
struct http_dependencies {
  const config* cfg = nullptr;
  status_intake* intake = nullptr; ///< verified Twilio callbacks go here
  store_pool* stores = nullptr;    ///< connections for admin endpoints and readiness
  sender* sms_sender = nullptr;    ///< null when sending is not configured
  job_control* jobs = nullptr;     ///< admin: jobs; null when no job runs
  sms_stream_hub* streams = nullptr; ///< GET .../sms-stream; null: that route answers 503
  /// Appends more metric families to GET /metrics (the application's: actors, jobs).
  std::function<void(std::string&)> extra_metrics{};
};

/// smsd's HTTP server: the event_server (event loops that own the connections, and
/// config::http_threads threads for the endpoints that may block) and the router that maps
/// method + path to the handlers in http/.
class http_server {
public:
  explicit http_server(http_dependencies deps);
  ~http_server();

  /// Binds config::listen_host:listen_port (port 0: any free port) and starts serving.
  caf::error start();

  /// The port actually bound (after start).
  std::uint16_t port() const;

  /// Stops accepting, closes every connection (answers in progress are dropped), and joins the
  /// loops and handler threads.
  void stop();

  /// Every route served, as (method, path pattern) ("GET", "/api/admin/messages/{idOrSid}").
  std::vector<std::pair<std::string, std::string>> routes() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace smsd

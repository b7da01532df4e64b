#pragma once

#include <atomic>
#include <functional>
#include <string>

namespace smsd {

struct config;
class sender;
class status_intake;
class store_pool;
class job_control;
class sms_stream_hub;

/// What route handlers share: the configuration, the doors into the rest of smsd, and the
/// server's stop flag (a handler waiting for an answer gives up once the server stops).
struct handler_env {
  const config* cfg = nullptr;
  status_intake* intake = nullptr;
  store_pool* stores = nullptr;
  sender* sms_sender = nullptr; ///< null when sending is not configured (no Twilio credentials)
  const std::atomic<bool>* stopping = nullptr;
  job_control* jobs = nullptr; ///< the scheduled jobs (admin: jobs); null when none run
  sms_stream_hub* streams = nullptr; ///< the organizer page's live events; null: none
  std::function<int()> open_connections{};            ///< for /metrics
  std::function<void(std::string&)> extra_metrics{};  ///< more /metrics families (actors, jobs)
};

} // namespace smsd

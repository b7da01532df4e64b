#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "common/time.hpp"
#include "persistence/store.hpp"

namespace smsd {

/// What a run started by hand came to (POST /api/admin/jobs/{job}/run).
struct job_run_report {
  std::string job;
  millis started_at = 0;
  millis finished_at = 0;
  std::string outcome; ///< "ok" or "failed"
  nlohmann::json counts = nlohmann::json::object();
};

/// One job as GET /api/admin/jobs shows it.
struct job_overview {
  std::string job;
  std::string schedule;              ///< "daily 03:00", "every 1h"
  millis next_run = 0;               ///< the next tick, by the scheduler's clock
  std::optional<job_run_record> last_run;
};

/// The door the admin endpoints use into the jobs (implemented by job_runner). Thread-safe.
class job_control {
public:
  virtual ~job_control() = default;

  /// Runs the job now on its own thread and waits at most `timeout` for it.
  /// Errors: not_found (no such job), conflict (it is running, here or on another instance),
  /// timeout (no answer within `timeout`; the run goes on), unavailable (database unreachable).
  virtual caf::expected<job_run_report> run_now(const std::string& job,
                                                std::chrono::milliseconds timeout) = 0;

  /// Every job with its schedule, next run and last recorded run (read from job_runs on `db`).
  virtual caf::expected<std::vector<job_overview>> overview(store& db) = 0;
};

} // namespace smsd

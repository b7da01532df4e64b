#pragma once

#include <cstdint>
#include <string>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "common/time.hpp"

namespace smsd {

class store;

/// What one run of a job did. The runner records `outcome` and `counts` in job_runs and adds
/// the four metric fields to the job's job_stats.
struct job_result {
  /// "ok" when the run did its work (per-row failures are counted in `errors`, the run is
  /// still ok), "failed" when it could not do it (for example the candidates could not be read).
  /// The runner itself writes "failed" when run() returns an error and "skipped" when it
  /// could not take the job's lock.
  std::string outcome = "ok";
  /// Free-form counts, stored as JSON text in job_runs.counts and answered by the admin API;
  /// an object of integers (booleans and short strings allowed), keys in snake_case.
  nlohmann::json counts = nlohmann::json::object();

  // Metrics-ready numbers (issue 5 item 5), added to job_stats after each run.
  std::int64_t examined = 0; ///< rows looked at
  std::int64_t updated = 0;  ///< rows changed
  std::int64_t deleted = 0;  ///< rows deleted
  std::int64_t errors = 0;   ///< rows (or steps) that failed and are left for the next run
};

/// A scheduled job (DESIGN §1). The job_scheduler calls run() off the CAF threads, on a
/// thread of its own, with a store connection used only by that thread for the duration of
/// the call; never two runs of the same job at once in one process. Implementations must not
/// throw (an escaping exception is caught and recorded as "failed").
class job {
public:
  virtual ~job() = default;

  /// The job's key: "retention", "reconcile". Used in job_runs.job, the admin URL
  /// (/api/admin/jobs/{name}/run) and the PostgreSQL advisory lock.
  virtual std::string name() const = 0;

  /// One run, relative to `now` (the injectable clock's time, UTC millis). An error when the
  /// run could not be done at all (recorded as outcome "failed", errors = 1).
  virtual caf::expected<job_result> run(store& db, millis now) = 0;
};

} // namespace smsd

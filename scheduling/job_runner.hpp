#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/db_workers.hpp"
#include "scheduling/job.hpp"
#include "scheduling/job_control.hpp"
#include "scheduling/job_stats.hpp"
#include "scheduling/schedule.hpp"

namespace smsd {

/// Runs the registered jobs, each on its own store_worker (its own thread and database
/// connection, never a CAF thread), and records every run in job_runs:
/// - a scheduled tick is claimed first (job_runs' unique (job, tick): exactly one instance
///   inserts it; the others do nothing), then the job's lock is taken (in process, and the
///   PostgreSQL advisory lock across instances); a tick claimed while the job still runs is
///   recorded as "skipped";
/// - a run by hand takes the lock first (not free: conflict), then records a run without tick.
/// Outcomes are "ok", "failed" (run() returned an error or outcome failed) and "skipped".
class job_runner final : public job_control {
public:
  job_runner(clock_source clock, std::shared_ptr<job_stats> stats);
  ~job_runner() override;

  /// Registers a job before any tick or run. The worker is the job's alone.
  void add(std::shared_ptr<job> j, schedule s, std::shared_ptr<store_worker> worker);

  std::vector<std::string> names() const;
  /// The job's schedule; nullptr for an unknown job.
  const schedule* schedule_of(const std::string& job) const;
  millis now() const { return clock_(); }

  /// Hands the tick to the job's worker and returns at once (called by the job's timer actor).
  void run_tick(const std::string& job, millis tick);

  caf::expected<job_run_report> run_now(const std::string& job,
                                        std::chrono::milliseconds timeout) override;
  caf::expected<std::vector<job_overview>> overview(store& db) override;

  /// Stops every worker: a run in progress finishes, queued ticks are dropped. Idempotent.
  void stop();

private:
  struct entry {
    std::shared_ptr<job> j;
    schedule s;
    std::shared_ptr<store_worker> worker;
    /// A run of this job is in progress in this process.
    std::shared_ptr<std::atomic<bool>> running = std::make_shared<std::atomic<bool>>(false);
  };

  /// Runs the job (its lock held) and records the outcome in run `id`.
  job_run_report execute(const entry& e, store& db, std::int64_t id, millis started);

  clock_source clock_;
  std::shared_ptr<job_stats> stats_;
  std::map<std::string, entry> jobs_;
};

} // namespace smsd

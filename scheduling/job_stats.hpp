#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "scheduling/job.hpp"

namespace smsd {

/// Totals of one job since the process started (metrics-ready, issue 5 item 5).
struct job_counters {
  std::int64_t runs = 0;    ///< runs that did work (ok or failed)
  std::int64_t ok = 0;
  std::int64_t failed = 0;
  std::int64_t skipped = 0; ///< ticks claimed while the job was running elsewhere
  std::int64_t examined = 0;
  std::int64_t updated = 0;
  std::int64_t deleted = 0;
  std::int64_t errors = 0;
  millis last_finished_at = 0;
};

/// Per-job counters, updated by the job runner after each run and read by whoever publishes
/// metrics. Thread-safe.
class job_stats {
public:
  void record(const std::string& job, const job_result& r, millis finished_at) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& c = by_job_[job];
    if (r.outcome == "skipped") {
      ++c.skipped;
      return;
    }
    ++c.runs;
    ++(r.outcome == "ok" ? c.ok : c.failed);
    c.examined += r.examined;
    c.updated += r.updated;
    c.deleted += r.deleted;
    c.errors += r.errors;
    c.last_finished_at = finished_at;
  }

  job_counters of(const std::string& job) const {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = by_job_.find(job);
    return i == by_job_.end() ? job_counters{} : i->second;
  }

  std::map<std::string, job_counters> snapshot() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return by_job_;
  }

private:
  mutable std::mutex mtx_;
  std::map<std::string, job_counters> by_job_;
};

/// The jobs' totals as Prometheus families (smsd_job_runs_total, smsd_job_items_total,
/// smsd_job_last_finished_timestamp_seconds), appended to `out`.
void render_job_metrics(const job_stats& stats, std::string& out);

} // namespace smsd

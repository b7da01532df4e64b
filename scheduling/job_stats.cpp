#include "scheduling/job_stats.hpp"

#include <cstdint>
#include <utility>
#include <vector>

#include "common/metrics.hpp"

namespace smsd {

namespace {

/// One sample per job and per (label value, count) that `pick` gives for its counters.
template <class Pick>
void samples_by_job(std::string& out, const std::map<std::string, job_counters>& all,
                    const char* family, const char* label, Pick pick) {
  for (const auto& [job, c] : all)
    for (const auto& [value, n] : pick(c))
      metric_sample(out, family,
                    "job=\"" + label_value(job) + "\"," + label + "=\"" + value + "\"",
                    static_cast<double>(n));
}

using counts = std::vector<std::pair<const char*, std::int64_t>>;

} // namespace

void render_job_metrics(const job_stats& stats, std::string& out) {
  const auto all = stats.snapshot();
  metric_family(out, "smsd_job_runs_total", "counter",
                "Job runs since start, by outcome (skipped: another instance held the tick).");
  samples_by_job(out, all, "smsd_job_runs_total", "outcome", [](const job_counters& c) {
    return counts{{"ok", c.ok}, {"failed", c.failed}, {"skipped", c.skipped}};
  });
  metric_family(out, "smsd_job_items_total", "counter",
                "What job runs did: messages examined, updated, deleted, and errors.");
  samples_by_job(out, all, "smsd_job_items_total", "kind", [](const job_counters& c) {
    return counts{{"examined", c.examined},
                  {"updated", c.updated},
                  {"deleted", c.deleted},
                  {"errors", c.errors}};
  });
  metric_family(out, "smsd_job_last_finished_timestamp_seconds", "gauge",
                "When each job's last run (ok or failed) finished, Unix time.");
  for (const auto& [job, c] : all)
    if (c.last_finished_at > 0)
      metric_sample(out, "smsd_job_last_finished_timestamp_seconds",
                    "job=\"" + label_value(job) + "\"",
                    static_cast<double>(c.last_finished_at) / 1000.0);
}

} // namespace smsd

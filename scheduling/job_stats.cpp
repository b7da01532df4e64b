#include "scheduling/job_stats.hpp"

#include "common/metrics.hpp"

namespace smsd {

void render_job_metrics(const job_stats& stats, std::string& out) {
  const auto all = stats.snapshot();
  metric_family(out, "smsd_job_runs_total", "counter",
                "Job runs since start, by outcome (skipped: another instance held the tick).");
  for (const auto& [job, c] : all) {
    const std::string j = "job=\"" + label_value(job) + "\"";
    metric_sample(out, "smsd_job_runs_total", j + ",outcome=\"ok\"", static_cast<double>(c.ok));
    metric_sample(out, "smsd_job_runs_total", j + ",outcome=\"failed\"",
                  static_cast<double>(c.failed));
    metric_sample(out, "smsd_job_runs_total", j + ",outcome=\"skipped\"",
                  static_cast<double>(c.skipped));
  }
  metric_family(out, "smsd_job_items_total", "counter",
                "What job runs did: messages examined, updated, deleted, and errors.");
  for (const auto& [job, c] : all) {
    const std::string j = "job=\"" + label_value(job) + "\"";
    metric_sample(out, "smsd_job_items_total", j + ",kind=\"examined\"",
                  static_cast<double>(c.examined));
    metric_sample(out, "smsd_job_items_total", j + ",kind=\"updated\"",
                  static_cast<double>(c.updated));
    metric_sample(out, "smsd_job_items_total", j + ",kind=\"deleted\"",
                  static_cast<double>(c.deleted));
    metric_sample(out, "smsd_job_items_total", j + ",kind=\"errors\"",
                  static_cast<double>(c.errors));
  }
  metric_family(out, "smsd_job_last_finished_timestamp_seconds", "gauge",
                "When each job's last run (ok or failed) finished, Unix time.");
  for (const auto& [job, c] : all)
    if (c.last_finished_at > 0)
      metric_sample(out, "smsd_job_last_finished_timestamp_seconds",
                    "job=\"" + label_value(job) + "\"", static_cast<double>(c.last_finished_at) / 1000.0);
}

} // namespace smsd

#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace smsd {

/// The stages of a status report on its way to the database (smsd_report_stage_seconds_total).
enum class report_stage {
  to_actor,   ///< router and CAF's mailbox: submitted until its message actor takes it
  state_load, ///< the actor reads the message's state first (only reports that waited for it)
  to_writer,  ///< applied until a commit worker takes its batch (the commit in progress)
  commit,     ///< the commit worker's transaction, until the acknowledgement
  total,      ///< submitted until acknowledged durable
};
constexpr std::size_t report_stage_count = 5;

/// Process-wide counters for GET /metrics. Updated with relaxed atomic increments wherever the
/// event happens (the HTTP loop, the commit and load workers), read when scraped.
struct process_counters {
  static constexpr int max_status = 600;
  std::atomic<std::uint64_t> http_responses[max_status] = {}; ///< by status code

  std::atomic<std::uint64_t> callbacks_durable{0};    ///< stored, answered 200
  std::atomic<std::uint64_t> callbacks_refused{0};    ///< 4xx: signature, size, form, fields
  std::atomic<std::uint64_t> callbacks_not_stored{0}; ///< the actors reported a failure: 503

  std::atomic<std::uint64_t> commits{0};          ///< group commits that succeeded
  std::atomic<std::uint64_t> commit_ops{0};       ///< writes in them
  std::atomic<std::uint64_t> commit_failures{0};  ///< group commits that failed (after retries)
  std::atomic<std::uint64_t> commit_micros{0};    ///< time spent committing, retries included

  /// New connections closed at once, beyond the limits and the reserve: [0] the total limit,
  /// [1] the per-client limit.
  std::atomic<std::uint64_t> http_connections_refused[2] = {};
  std::atomic<std::uint64_t> http_requests_shed{0};       ///< 503: input budget exhausted
  std::atomic<std::uint64_t> http_slow_readers_closed{0}; ///< output unread for io_timeout

  std::atomic<std::uint64_t> streams_opened{0};  ///< event streams (sms-stream) opened
  std::atomic<std::uint64_t> streams_dropped{0}; ///< closed because the client read too slowly
  std::atomic<std::int64_t> streams_open{0};     ///< open now
  std::atomic<std::uint64_t> stream_events{0};   ///< events written to streams (one per stream)

  std::atomic<std::uint64_t> load_rounds{0}; ///< rounds of message state loads
  std::atomic<std::uint64_t> load_keys{0};   ///< messages loaded in them

  std::atomic<std::uint64_t> wal_checkpoints{0}; ///< SQLite: checkpoints of the WAL checkpointer
  std::atomic<std::int64_t> wal_frames{0};       ///< SQLite: frames in the WAL at the last one

  /// Reports acknowledged durable, and the time they spent in each report_stage.
  std::atomic<std::uint64_t> report_stage_micros[report_stage_count] = {};
  std::atomic<std::uint64_t> report_stage_reports[report_stage_count] = {};
};

/// The label of a report_stage in /metrics.
const char* stage_name(report_stage s);

process_counters& counters();

inline void count(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
  counter.fetch_add(n, std::memory_order_relaxed);
}

/// Prometheus text format (version 0.0.4): `# HELP` and `# TYPE` of a family, then its samples.
void metric_family(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help);

/// One sample: `name{labels} value`. `labels` is "" or `key="value",...` already escaped with
/// label_value().
void metric_sample(std::string& out, std::string_view name, std::string_view labels,
                   double value);

/// A family of one unlabelled sample: metric_family, then metric_sample.
void metric_single(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help, double value);

/// A label value with `\`, `"` and newlines escaped.
std::string label_value(std::string_view raw);

} // namespace smsd

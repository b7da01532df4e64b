#include "http/health_handlers.hpp"

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "http/admin_auth.hpp"
#include "http/errors.hpp"
#include "persistence/store_pool.hpp"

namespace smsd {

namespace {

// Readiness is polled often; it must not queue behind busy connections for long.
constexpr int readiness_acquire_ms = 2000;

http_response not_ready(const std::string& reason, const nlohmann::json& migrations = nullptr) {
  nlohmann::json body{{"status", "not_ready"}, {"error", reason}};
  if (!migrations.is_null())
    body["migrations"] = migrations;
  return json_response(503, body);
}

std::string reason_of(const caf::error& e) {
  auto message = message_of(e);
  return "database not ready (" + std::string(to_string(code_of(e)))
         + (message.empty() ? "" : ": " + message) + ")";
}

http_response readiness(const handler_env& env) {
  if (!env.stores)
    return not_ready("no database configured");
  auto lease = env.stores->acquire(readiness_acquire_ms);
  if (!lease)
    return not_ready(reason_of(lease.error()));
  store& db = **lease;
  auto fail = [&](const caf::error& e) {
    if (code_of(e) == errc::unavailable)
      lease->discard();
    spdlog::warn("readiness check failed: {}", describe(e));
    return not_ready(reason_of(e));
  };
  if (auto err = db.ping())
    return fail(err);
  auto m = db.migrations();
  if (!m)
    return fail(m.error());
  nlohmann::json migrations{{"applied", m->applied}, {"latest", m->latest}};
  if (m->applied != m->latest)
    return not_ready("migrations not applied: database at " + std::to_string(m->applied)
                       + ", this build at " + std::to_string(m->latest),
                     migrations);
  return json_response(200, nlohmann::json{{"status", "ready"}, {"migrations", migrations}});
}

// GET /metrics: Prometheus text format, version 0.0.4.
http_response metrics(const handler_env& env) {
  auto& c = counters();
  std::string out;
  out.reserve(4096);
  metric_family(out, "smsd_build_info", "gauge", "The running smsd's version.");
  metric_sample(out, "smsd_build_info", "version=\"" + label_value(SMSD_VERSION) + "\"", 1);

  metric_family(out, "smsd_http_responses_total", "counter", "HTTP responses sent, by status code.");
  for (int status = 100; status < process_counters::max_status; ++status)
    if (auto n = c.http_responses[status].load(std::memory_order_relaxed))
      metric_sample(out, "smsd_http_responses_total", "code=\"" + std::to_string(status) + "\"",
                    static_cast<double>(n));
  metric_single(out, "smsd_http_connections", "gauge", "HTTP connections open now.",
                env.open_connections ? env.open_connections() : 0);

  metric_family(out, "smsd_http_connections_refused_total", "counter",
                "New connections closed at once: beyond the connection limit (total) or the "
                "per-client one (peer), with the reserve full.");
  metric_sample(out, "smsd_http_connections_refused_total", "limit=\"total\"",
                static_cast<double>(c.http_connections_refused[0].load(std::memory_order_relaxed)));
  metric_sample(out, "smsd_http_connections_refused_total", "limit=\"peer\"",
                static_cast<double>(c.http_connections_refused[1].load(std::memory_order_relaxed)));
  metric_single(out, "smsd_http_requests_shed_total", "counter",
                "Requests answered 503 because the input held for all connections was at its cap.",
                static_cast<double>(c.http_requests_shed.load(std::memory_order_relaxed)));
  metric_single(out, "smsd_http_slow_readers_closed_total", "counter",
                "Connections closed because their answers went unread for the request timeout.",
                static_cast<double>(c.http_slow_readers_closed.load(std::memory_order_relaxed)));

  metric_family(out, "smsd_callbacks_total", "counter",
                "Twilio status callbacks: durable (answered 200 once committed), refused (4xx: "
                "signature, size, form or fields), not_stored (503: the write failed).");
  auto load = [](const std::atomic<std::uint64_t>& a) {
    return static_cast<double>(a.load(std::memory_order_relaxed));
  };
  metric_sample(out, "smsd_callbacks_total", "result=\"durable\"", load(c.callbacks_durable));
  metric_sample(out, "smsd_callbacks_total", "result=\"refused\"", load(c.callbacks_refused));
  metric_sample(out, "smsd_callbacks_total", "result=\"not_stored\"",
                load(c.callbacks_not_stored));

  metric_single(out, "smsd_group_commits_total", "counter", "Group commits that succeeded.",
                load(c.commits));
  metric_single(out, "smsd_group_commit_ops_total", "counter", "Writes in those group commits.",
                load(c.commit_ops));
  metric_single(out, "smsd_group_commit_failures_total", "counter",
                "Group commits (or single writes) that failed after their retries.",
                load(c.commit_failures));
  metric_single(out, "smsd_group_commit_seconds_total", "counter",
                "Time the commit workers spent committing, retries included.",
                load(c.commit_micros) / 1e6);
  metric_single(out, "smsd_event_streams", "gauge",
                "Event streams of the organizer page (sms-stream) open now.",
                static_cast<double>(c.streams_open.load(std::memory_order_relaxed)));
  metric_single(out, "smsd_event_streams_opened_total", "counter", "Event streams opened.",
                load(c.streams_opened));
  metric_single(out, "smsd_event_streams_dropped_total", "counter",
                "Event streams closed because their client read too slowly.",
                load(c.streams_dropped));
  metric_single(out, "smsd_event_stream_events_total", "counter",
                "Events written to event streams (one per stream that got it).",
                load(c.stream_events));
  metric_single(out, "smsd_state_load_rounds_total", "counter",
                "Rounds of message state loads (each reads every load queued).",
                load(c.load_rounds));
  metric_single(out, "smsd_state_loads_total", "counter", "Message states loaded.",
                load(c.load_keys));
  metric_single(out, "smsd_sqlite_wal_checkpoints_total", "counter",
                "SQLite: WAL checkpoints run by the checkpointer thread.", load(c.wal_checkpoints));
  metric_single(out, "smsd_sqlite_wal_frames", "gauge",
                "SQLite: frames in the WAL at the last checkpoint (all copied into the database "
                "file by it unless a reader still needed them).",
                static_cast<double>(c.wal_frames.load(std::memory_order_relaxed)));
  metric_family(out, "smsd_report_stage_seconds_total", "counter",
                "Time status reports acknowledged durable spent in each stage: to_actor (router "
                "and mailbox), state_load (reading the message first), to_writer (waiting for "
                "the commit in progress), commit (their own), total.");
  auto stage_label = [](std::size_t i) {
    return std::string{"stage=\""} + stage_name(static_cast<report_stage>(i)) + "\"";
  };
  for (std::size_t i = 0; i < report_stage_count; ++i)
    metric_sample(out, "smsd_report_stage_seconds_total", stage_label(i),
                  load(c.report_stage_micros[i]) / 1e6);
  metric_family(out, "smsd_report_stage_reports_total", "counter",
                "Status reports counted in each stage of smsd_report_stage_seconds_total.");
  for (std::size_t i = 0; i < report_stage_count; ++i)
    metric_sample(out, "smsd_report_stage_reports_total", stage_label(i),
                  load(c.report_stage_reports[i]));
  if (env.extra_metrics)
    env.extra_metrics(out);
  http_response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = std::move(out);
  return r;
}

} // namespace

void add_health_routes(router& routes, const handler_env& env) {
  routes.add("GET", "/livez", [](const request_context&) {
    return json_response(200, nlohmann::json{{"status", "ok"}});
  });
  routes.add("GET", "/readyz", [env](const request_context&) { return readiness(env); });
  routes.add("GET", "/metrics", [env](const request_context& req) {
    if (auto denied = require_admin(req, env.cfg->admin_token))
      return *denied;
    return metrics(env);
  });
}

} // namespace smsd

#include "http/admin_jobs_handlers.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "http/admin_auth.hpp"
#include "http/errors.hpp"
#include "http/store_access.hpp"
#include "scheduling/job_control.hpp"

namespace smsd {

namespace {

constexpr int acquire_timeout_ms = 5000;
// A run by hand answers within this; a longer one goes on and shows in GET /api/admin/jobs.
constexpr std::chrono::seconds run_timeout{60};

nlohmann::json counts_of(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

nlohmann::json last_run_json(const job_run_record& r) {
  nlohmann::json j{{"startedAt", to_iso8601(r.started_at)},
                   {"finishedAt", nullptr},
                   {"outcome", nullptr},
                   {"tick", nullptr},
                   {"counts", counts_of(r.counts)}};
  if (r.finished_at)
    j["finishedAt"] = to_iso8601(*r.finished_at);
  if (r.outcome)
    j["outcome"] = *r.outcome;
  if (r.tick)
    j["tick"] = to_iso8601(*r.tick);
  return j;
}

http_response run_job(const handler_env& env, const request_context& req) {
  if (auto denied = require_admin(req, env.cfg->admin_token))
    return *denied;
  const std::string& name = req.param("job");
  if (!env.jobs)
    return error_response(404, "no job named '" + name + "'");
  auto report = env.jobs->run_now(name, run_timeout);
  if (!report)
    return error_response(report.error());
  return json_response(200, nlohmann::json{{"job", report->job},
                                           {"startedAt", to_iso8601(report->started_at)},
                                           {"finishedAt", to_iso8601(report->finished_at)},
                                           {"outcome", report->outcome},
                                           {"counts", report->counts}});
}

http_response list_jobs(const handler_env& env, const request_context& req) {
  if (auto denied = require_admin(req, env.cfg->admin_token))
    return *denied;
  if (!env.jobs)
    return json_response(200, nlohmann::json{{"jobs", nlohmann::json::array()}});
  return with_store(env.stores, acquire_timeout_ms, [&](store& db) -> caf::expected<http_response> {
    auto all = env.jobs->overview(db);
    if (!all)
      return all.error();
    nlohmann::json jobs = nlohmann::json::array();
    for (auto& o : *all)
      jobs.push_back({{"job", o.job},
                      {"schedule", o.schedule},
                      {"lastRun", o.last_run ? last_run_json(*o.last_run) : nlohmann::json(nullptr)},
                      {"nextRun", to_iso8601(o.next_run)}});
    return json_response(200, nlohmann::json{{"jobs", std::move(jobs)}});
  });
}

} // namespace

void add_admin_jobs_routes(router& routes, const handler_env& env) {
  routes.add("POST", "/api/admin/jobs/{job}/run",
             [env](const request_context& req) { return run_job(env, req); });
  routes.add("GET", "/api/admin/jobs",
             [env](const request_context& req) { return list_jobs(env, req); });
}

} // namespace smsd

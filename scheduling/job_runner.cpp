#include "scheduling/job_runner.hpp"

#include <exception>
#include <future>

#include "common/errors.hpp"
#include "common/log.hpp"

namespace smsd {

namespace {

job_result failed_result(const std::string& why) {
  job_result r;
  r.outcome = "failed";
  r.errors = 1;
  r.counts = nlohmann::json{{"errors", 1}, {"error", why}};
  return r;
}

} // namespace

job_runner::job_runner(clock_source clock, std::shared_ptr<job_stats> stats)
  : clock_(std::move(clock)), stats_(std::move(stats)) {
  if (!stats_)
    stats_ = std::make_shared<job_stats>();
}

job_runner::~job_runner() {
  stop();
}

void job_runner::add(std::shared_ptr<job> j, schedule s, std::shared_ptr<store_worker> worker) {
  auto name = j->name();
  jobs_[name] = entry{std::move(j), s, std::move(worker)};
}

std::vector<std::string> job_runner::names() const {
  std::vector<std::string> out;
  for (auto& [name, e] : jobs_)
    out.push_back(name);
  return out;
}

const schedule* job_runner::schedule_of(const std::string& job) const {
  auto i = jobs_.find(job);
  return i == jobs_.end() ? nullptr : &i->second.s;
}

job_run_report job_runner::execute(const entry& e, store& db, std::int64_t id, millis started) {
  const auto name = e.j->name();
  job_result r;
  try {
    auto res = e.j->run(db, started);
    r = res ? std::move(*res) : failed_result(describe(res.error()));
  } catch (const std::exception& ex) {
    r = failed_result(std::string{"unexpected exception: "} + ex.what());
  } catch (...) {
    r = failed_result("unexpected exception");
  }
  if (!r.counts.is_object())
    r.counts = nlohmann::json::object();
  auto finished = clock_();
  if (auto err = db.finish_job_run(id, finished, r.outcome, r.counts.dump()))
    spdlog::warn("job {}: cannot record the end of run {}: {}", name, id, describe(err));
  stats_->record(name, r, finished);
  spdlog::info("job {}: {} in {} ms {}", name, r.outcome, finished - started, r.counts.dump());
  return job_run_report{name, started, finished, r.outcome, r.counts};
}

void job_runner::run_tick(const std::string& job, millis tick) {
  auto i = jobs_.find(job);
  if (i == jobs_.end())
    return;
  i->second.worker->run([this, e = i->second, tick](caf::expected<store*> db) {
    const auto name = e.j->name();
    if (!db) {
      spdlog::warn("job {}: tick {} not run: {}", name, to_iso8601(tick), describe(db.error()));
      return;
    }
    auto started = clock_();
    auto id = (*db)->start_job_run(name, tick, started);
    if (!id) {
      spdlog::warn("job {}: cannot claim tick {}: {}", name, to_iso8601(tick), describe(id.error()));
      return;
    }
    if (!*id) {
      spdlog::debug("job {}: tick {} taken by another instance", name, to_iso8601(tick));
      return;
    }
    auto skip = [&](const std::string& why) {
      job_result r;
      r.outcome = "skipped";
      r.counts = nlohmann::json{{"reason", why}};
      (*db)->finish_job_run(**id, clock_(), r.outcome, r.counts.dump());
      stats_->record(name, r, clock_());
      spdlog::info("job {}: tick {} skipped: {}", name, to_iso8601(tick), why);
    };
    if (e.running->exchange(true))
      return skip("already running in this process");
    auto locked = (*db)->try_lock_job(name);
    if (!locked || !*locked) {
      e.running->store(false);
      return skip(locked ? "already running on another instance" : describe(locked.error()));
    }
    execute(e, **db, **id, started);
    if (auto err = (*db)->unlock_job(name))
      spdlog::warn("job {}: cannot release its lock: {}", name, describe(err));
    e.running->store(false);
  });
}

caf::expected<job_run_report> job_runner::run_now(const std::string& job,
                                                  std::chrono::milliseconds timeout) {
  auto i = jobs_.find(job);
  if (i == jobs_.end())
    return make_error(errc::not_found, "no job named '" + job + "'");
  const entry& e = i->second;
  if (e.running->exchange(true))
    return make_error(errc::conflict, "job " + job + " is already running");
  auto done = std::make_shared<std::promise<caf::expected<job_run_report>>>();
  auto answer = done->get_future();
  e.worker->run([this, e, done](caf::expected<store*> db) {
    const auto name = e.j->name();
    auto finish = [&](caf::expected<job_run_report> r) {
      e.running->store(false);
      done->set_value(std::move(r));
    };
    if (!db)
      return finish(make_error(errc::unavailable, "database: " + describe(db.error())));
    auto locked = (*db)->try_lock_job(name);
    if (!locked)
      return finish(locked.error());
    if (!*locked)
      return finish(make_error(errc::conflict, "job " + name
                                                 + " is already running on another instance"));
    auto started = clock_();
    auto id = (*db)->start_job_run(name, std::nullopt, started);
    if (!id || !*id) {
      (*db)->unlock_job(name);
      return finish(id ? make_error(errc::database, "run not recorded") : id.error());
    }
    auto report = execute(e, **db, **id, started);
    if (auto err = (*db)->unlock_job(name))
      spdlog::warn("job {}: cannot release its lock: {}", name, describe(err));
    finish(std::move(report));
  });
  if (answer.wait_for(timeout) != std::future_status::ready)
    return make_error(errc::timeout, "job " + job + " is still running; see GET /api/admin/jobs");
  try {
    return answer.get();
  } catch (const std::future_error&) {
    // The worker stopped (shutdown) before it ran the job.
    e.running->store(false);
    return make_error(errc::unavailable, "smsd is stopping");
  }
}

caf::expected<std::vector<job_overview>> job_runner::overview(store& db) {
  auto last = db.last_job_runs();
  if (!last)
    return last.error();
  std::vector<job_overview> out;
  auto now = clock_();
  for (auto& [name, e] : jobs_) {
    job_overview o;
    o.job = name;
    o.schedule = e.s.text();
    o.next_run = next_after(e.s, now);
    for (auto& r : *last)
      if (r.job == name)
        o.last_run = r;
    out.push_back(std::move(o));
  }
  return out;
}

void job_runner::stop() {
  for (auto& [name, e] : jobs_)
    if (e.worker)
      e.worker->stop();
}

} // namespace smsd

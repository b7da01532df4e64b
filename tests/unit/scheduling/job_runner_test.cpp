// The job runner (job_runs, once per tick, locks, counters) on real SQLite and PostgreSQL, with
// inline workers and a controllable clock; the job timer on CAF's test coordinator.
#include "scheduling/job_runner.hpp"

#include <atomic>
#include <chrono>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include "scheduling/job_scheduler.hpp"
#include "tests/unit/persistence/store_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

/// A job on the real interface that counts its runs and answers what it is told.
struct counting_job final : job {
  std::string name() const override { return "counting"; }
  caf::expected<job_result> run(store&, millis now) override {
    ++runs;
    last_now = now;
    if (fail)
      return make_error(errc::database, "disk on fire");
    job_result r;
    r.examined = 3;
    r.deleted = 2;
    r.counts = nlohmann::json{{"examined", 3}, {"deleted", 2}};
    return r;
  }
  std::atomic<int> runs{0};
  millis last_now = 0;
  bool fail = false;
};

struct instance {
  std::shared_ptr<millis> clock = std::make_shared<millis>(1'000'000);
  std::shared_ptr<counting_job> j = std::make_shared<counting_job>();
  std::shared_ptr<job_stats> stats = std::make_shared<job_stats>();
  job_runner runner;

  explicit instance(const std::string& url, schedule s = *parse_schedule("every 1m"))
    : runner([c = clock] { return *c; }, stats) {
    runner.add(j, s, std::make_shared<store_worker>(url, std::make_unique<inline_executor>()));
  }
};

std::vector<job_run_record> runs_of(const std::string& url) {
  auto db = open_or_fail(url);
  return ok(db->recent_job_runs("counting", 100));
}

} // namespace

STORE_TEST("a scheduled tick runs the job once and records ok with its counts", "[scheduling]") {
  ok(open_or_fail(url)->migrate());
  instance a{url};
  a.runner.run_tick("counting", 960'000);
  CHECK(a.j->runs == 1);
  CHECK(a.j->last_now == 1'000'000);
  auto runs = runs_of(url);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].tick == 960'000);
  CHECK(runs[0].outcome == "ok");
  CHECK(runs[0].started_at == 1'000'000);
  CHECK(runs[0].finished_at == 1'000'000);
  CHECK(nlohmann::json::parse(runs[0].counts)["deleted"] == 2);
  auto c = a.stats->of("counting");
  CHECK(c.runs == 1);
  CHECK(c.ok == 1);
  CHECK(c.examined == 3);
  CHECK(c.deleted == 2);
}

STORE_TEST("a tick taken by one instance is not run by another", "[scheduling]") {
  ok(open_or_fail(url)->migrate());
  instance a{url};
  instance b{url}; // its own connection, as a second smsd would have
  a.runner.run_tick("counting", 960'000);
  b.runner.run_tick("counting", 960'000);
  a.runner.run_tick("counting", 960'000);
  CHECK(a.j->runs == 1);
  CHECK(b.j->runs == 0);
  b.runner.run_tick("counting", 1'020'000);
  CHECK(b.j->runs == 1);
  auto runs = runs_of(url);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].tick == 1'020'000);
  CHECK(runs[1].tick == 960'000);
}

STORE_TEST("a failing job is recorded as failed with one error", "[scheduling]") {
  ok(open_or_fail(url)->migrate());
  instance a{url};
  a.j->fail = true;
  a.runner.run_tick("counting", 960'000);
  auto runs = runs_of(url);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].outcome == "failed");
  CHECK(nlohmann::json::parse(runs[0].counts)["errors"] == 1);
  CHECK(a.stats->of("counting").failed == 1);
  CHECK(a.stats->of("counting").errors == 1);
}

STORE_TEST("a run by hand is recorded without tick and answers its counts", "[scheduling]") {
  ok(open_or_fail(url)->migrate());
  instance a{url};
  auto report = a.runner.run_now("counting", std::chrono::seconds(5));
  REQUIRE(report);
  CHECK(report->job == "counting");
  CHECK(report->outcome == "ok");
  CHECK(report->counts["examined"] == 3);
  auto runs = runs_of(url);
  REQUIRE(runs.size() == 1);
  CHECK_FALSE(runs[0].tick);
  // Several runs by hand, no tick: all recorded.
  REQUIRE(a.runner.run_now("counting", std::chrono::seconds(5)));
  CHECK(runs_of(url).size() == 2);
  auto unknown = a.runner.run_now("nope", std::chrono::seconds(5));
  REQUIRE_FALSE(unknown);
  CHECK(code_of(unknown.error()) == errc::not_found);
  // The overview shows the last run and the next tick.
  auto db = open_or_fail(url);
  auto all = ok(a.runner.overview(*db));
  REQUIRE(all.size() == 1);
  CHECK(all[0].schedule == "every 1m");
  CHECK(all[0].next_run == 1'020'000);
  REQUIRE(all[0].last_run);
  CHECK(all[0].last_run->outcome == "ok");
}

TEST_CASE("on PostgreSQL a job whose lock another instance holds is not run",
          "[scheduling][postgres]") {
  auto url = fresh_postgres_url();
  auto other = open_or_fail(url);
  ok(other->migrate());
  REQUIRE(ok(other->try_lock_job("counting")));
  instance a{url};
  auto manual = a.runner.run_now("counting", std::chrono::seconds(5));
  REQUIRE_FALSE(manual);
  CHECK(code_of(manual.error()) == errc::conflict);
  a.runner.run_tick("counting", 960'000);
  CHECK(a.j->runs == 0);
  auto runs = runs_of(url);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].outcome == "skipped");
  CHECK(a.stats->of("counting").skipped == 1);
  ok(other->unlock_job("counting"));
  REQUIRE(a.runner.run_now("counting", std::chrono::seconds(5)));
  CHECK(a.j->runs == 1);
  // The runner released its lock after the run.
  CHECK(ok(other->try_lock_job("counting")));
  ok(other->unlock_job("counting"));
}

namespace {

caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

struct timer_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::string url = temp_sqlite_url();
  instance inst;
  job_timer_actor timer;

  timer_fixture()
    : sys(testing_config(cfg)),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
      inst((ok(open_or_fail(url)->migrate()), url), *parse_schedule("every 1m")) {
    *inst.clock = 1'000'000; // 20 s before the tick at 1'020'000
    auto c = inst.clock;
    timer = sys.spawn(job_timer_impl, std::string{"counting"}, *parse_schedule("every 1m"),
                      clock_source{[c] { return *c; }}, &inst.runner);
    caf::anon_send(timer, arm_atom::value);
    sched.run();
  }

  ~timer_fixture() {
    caf::anon_send_exit(timer, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// Moves both clocks: ours and CAF's.
  void advance(millis ms) {
    *inst.clock += ms;
    sched.advance_time(std::chrono::milliseconds(ms));
    sched.run();
  }
};

} // namespace

TEST_CASE_METHOD(timer_fixture, "the job timer runs each tick once and re-arms", "[scheduling]") {
  advance(19'000);
  CHECK(inst.j->runs == 0);
  advance(1'000); // 1'020'000: the first tick
  CHECK(inst.j->runs == 1);
  advance(60'000);
  CHECK(inst.j->runs == 2);
  auto runs = runs_of(url);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].tick == 1'080'000);
  CHECK(runs[1].tick == 1'020'000);
  // Arming again does not double the timer.
  caf::anon_send(timer, arm_atom::value);
  sched.run();
  advance(60'000);
  CHECK(inst.j->runs == 3);
}

// POST /api/admin/jobs/{job}/run and GET /api/admin/jobs over real HTTP, with the real runner and
// retention job on a SQLite file and a controllable clock.
#include <catch2/catch.hpp>

#include "scheduling/job_runner.hpp"
#include "scheduling/retention_job.hpp"
#include "tests/support/sample_records.hpp"
#include "tests/unit/http/server_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

const header_list admin{bearer(test_admin_token)};
constexpr millis now = 1'900'000'000'000;
constexpr millis day = 24LL * 3600 * 1000;

struct jobs_fixture {
  server_fixture base{http_test_config(), server_fixture::database::migrated};
  job_runner runner{[] { return now; }, std::make_shared<job_stats>()};
  std::unique_ptr<http_server> server;

  jobs_fixture() {
    runner.add(std::make_shared<retention_job>(retention_settings{}),
               *parse_schedule("daily 03:00"),
               std::make_shared<store_worker>(base.cfg.database_url,
                                              std::make_unique<thread_executor>("test-job")));
    http_dependencies deps{&base.cfg, &base.intake, base.stores.get()};
    deps.jobs = &runner;
    server = std::make_unique<http_server>(deps);
    REQUIRE_FALSE(server->start());
  }
  ~jobs_fixture() {
    server->stop();
    runner.stop();
  }
  http_test_client client() const { return http_test_client(server->port(), false); }
};

} // namespace

TEST_CASE("admin jobs endpoints need the admin token", "[admin][scheduling]") {
  jobs_fixture f;
  auto c = f.client();
  CHECK(c.get("/api/admin/jobs").status == 401);
  CHECK(c.post_json("/api/admin/jobs/retention/run", "{}").status == 401);
  CHECK(c.post_json("/api/admin/jobs/retention/run", "{}", {bearer("wrong")}).status == 401);
}

TEST_CASE("running retention by hand answers its counts and shows as the last run",
          "[admin][scheduling]") {
  jobs_fixture f;
  auto& db = *f.base.direct;
  event_record old{"old", "Old", now - 91 * day, "u1", 0, 0};
  REQUIRE(db.upsert_event(old));
  REQUIRE(db.upsert_attendee({"a1", "old", "Ann", std::nullopt, std::nullopt, 0, 0}));
  REQUIRE_FALSE(db.insert_message(sample_message("m1", std::string("SM1"), "old", "a1")));

  auto c = f.client();
  auto before = c.get("/api/admin/jobs", admin);
  REQUIRE(before.status == 200);
  auto jobs = before.json().at("jobs");
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0]["job"] == "retention");
  CHECK(jobs[0]["schedule"] == "daily 03:00");
  CHECK(jobs[0]["lastRun"].is_null());
  CHECK(jobs[0]["nextRun"] == to_iso8601(next_after(*parse_schedule("daily 03:00"), now)));

  auto r = c.post_json("/api/admin/jobs/retention/run", "", admin);
  REQUIRE(r.status == 200);
  auto body = r.json();
  CHECK(body["job"] == "retention");
  CHECK(body["outcome"] == "ok");
  CHECK(body["startedAt"] == to_iso8601(now));
  CHECK(body["finishedAt"] == to_iso8601(now));
  CHECK(body["counts"]["deleted_messages"] == 1);
  CHECK_FALSE(*db.find_message_by_id("m1"));

  auto after = c.get("/api/admin/jobs", admin).json().at("jobs");
  CHECK(after[0]["lastRun"]["outcome"] == "ok");
  CHECK(after[0]["lastRun"]["tick"].is_null());
  CHECK(after[0]["lastRun"]["counts"]["deleted_messages"] == 1);
}

TEST_CASE("running an unknown job answers 404", "[admin][scheduling]") {
  jobs_fixture f;
  auto r = f.client().post_json("/api/admin/jobs/backup/run", "", admin);
  CHECK(r.status == 404);
  CHECK(r.json().at("error").is_string());
}

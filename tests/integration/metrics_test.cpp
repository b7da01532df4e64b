// GET /metrics of the whole smsd on each database: real callbacks move the group-commit and
// callback counters and the report stages, a job run shows up by job and outcome, and the message
// actors are counted.
#include <map>
#include <string>

#include "integration_support.hpp"
#include "tests/support/prometheus_text.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

std::map<std::string, double> scrape(const running_smsd& s) {
  auto r = http_send(s.port(), {"GET", "/metrics", {bearer(admin_token)}, "", ""});
  REQUIRE(r.status == 200);
  return parse_exposition(r.body);
}

} // namespace

TEST_CASE("metrics follow real callbacks, commits and job runs", "[integration][metrics]") {
  auto dialect = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  SECTION(dialect) {
    running_smsd s(database_url_of(dialect));
    s.seed_event();
    const int messages = 5;
    for (int i = 0; i < messages; ++i)
      s.seed_message("m" + std::to_string(i), "SM0000000000000000000000000000000" + std::to_string(i));
    const auto before = scrape(s);
    for (int i = 0; i < messages; ++i)
      for (auto status : {"sent", "delivered"})
        REQUIRE(s.callback("SM0000000000000000000000000000000" + std::to_string(i), status).status
                == 200);
    auto run = http_send(s.port(), {"POST", "/api/admin/jobs/retention/run",
                                    {bearer(admin_token)}, "{}", "application/json"});
    REQUIRE(run.status == 200);
    const auto after = scrape(s);
    auto delta = [&](const std::string& key) {
      return sample_value(after, key) - sample_value(before, key);
    };
    CHECK(delta("smsd_callbacks_total{result=\"durable\"}") == 2 * messages);
    // Each callback is one write (the change and its event row); batches hold one or more.
    CHECK(delta("smsd_group_commit_ops_total") >= 2 * messages);
    CHECK(delta("smsd_group_commits_total") >= 1);
    CHECK(delta("smsd_group_commits_total") <= delta("smsd_group_commit_ops_total"));
    CHECK(delta("smsd_group_commit_seconds_total") > 0);
    CHECK(delta("smsd_group_commit_failures_total") == 0);
    CHECK(delta("smsd_state_loads_total") >= messages);
    // Every acknowledged callback went through each stage once; only the first callback of
    // each message waited for its state to be read. The whole is longer than each part.
    auto stage = [&](const char* name) {
      return std::string{"{stage=\""} + name + "\"}";
    };
    for (auto name : {"to_actor", "to_writer", "commit", "total"})
      CHECK(delta("smsd_report_stage_reports_total" + stage(name)) == 2 * messages);
    CHECK(delta("smsd_report_stage_reports_total" + stage("state_load")) >= messages);
    CHECK(delta("smsd_report_stage_reports_total" + stage("state_load")) <= 2 * messages);
    const double total = delta("smsd_report_stage_seconds_total" + stage("total"));
    CHECK(total > 0);
    CHECK(delta("smsd_report_stage_seconds_total" + stage("commit")) > 0);
    CHECK(delta("smsd_report_stage_seconds_total" + stage("commit")) <= total);
    CHECK(delta("smsd_report_stage_seconds_total" + stage("to_actor")) <= total);
    CHECK(after.count("smsd_message_actors") == 1);
    CHECK(sample_value(after, "smsd_job_runs_total{job=\"retention\",outcome=\"ok\"}") == 1);
    CHECK(sample_value(after, "smsd_job_last_finished_timestamp_seconds{job=\"retention\"}")
          > 1.7e9);
  }
}

// Two smsd processes on one PostgreSQL take the same callbacks in different orders; the SQL
// guard keeps every message monotonic, so the rows end correct and the same every time.
#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "tests/integration/process_env.hpp"
#include "tests/support/smsd_process.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

struct step {
  std::string status;
  std::string error;
};

const std::vector<std::vector<step>> scenarios = {
  {{"queued", ""}, {"sent", ""}, {"delivered", ""}},
  {{"queued", ""}, {"sent", ""}, {"undelivered", "30003"}},
  {{"accepted", ""}, {"queued", ""}, {"sending", ""}, {"sent", ""}, {"failed", "30008"}},
};

struct final_row {
  std::string status, provider_status;
  std::optional<std::string> error_code, error_message;
  int rank;
  bool has_sent_at, has_delivered_at;
  bool operator==(const final_row& o) const {
    return std::tie(status, provider_status, error_code, error_message, rank, has_sent_at,
                    has_delivered_at)
           == std::tie(o.status, o.provider_status, o.error_code, o.error_message, o.rank,
                       o.has_sent_at, o.has_delivered_at);
  }
};

// One round: a fresh database, two processes, each message's callbacks to both processes in
// different orders at once. Returns the final rows.
std::vector<final_row> run_round(unsigned seed, int messages) {
  auto url = fresh_postgres_url();
  auto db = seeded_store(url);
  for (int i = 0; i < messages; ++i)
    seed_message(*db, "m" + std::to_string(i), "SMtwo" + std::to_string(i));
  smsd_process a(child_env(url)), b(child_env(url));
  std::mt19937 rng(seed);
  std::vector<std::pair<std::string, step>> to_a, to_b;
  for (int i = 0; i < messages; ++i) {
    auto seq = scenarios[static_cast<std::size_t>(i) % scenarios.size()];
    std::vector<std::pair<std::string, step>> mine;
    for (auto& s : seq)
      mine.emplace_back("SMtwo" + std::to_string(i), s);
    to_a.insert(to_a.end(), mine.begin(), mine.end());
    std::shuffle(mine.begin(), mine.end(), rng);
    to_b.insert(to_b.end(), mine.begin(), mine.end());
  }
  std::reverse(to_a.begin(), to_a.end());
  std::atomic<int> not_ok{0};
  auto sender = [&](std::uint16_t port, const std::vector<std::pair<std::string, step>>& work) {
    for (auto& [sid, s] : work)
      if (post_callback(port, sid, s.status, s.error) != 200)
        ++not_ok;
  };
  std::thread ta(sender, a.port(), std::cref(to_a)), tb(sender, b.port(), std::cref(to_b));
  ta.join();
  tb.join();
  CHECK(not_ok == 0);
  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
  std::vector<final_row> rows;
  for (int i = 0; i < messages; ++i) {
    auto m = db->find_message_by_id("m" + std::to_string(i));
    REQUIRE(m);
    REQUIRE(*m);
    auto& st = (*m)->state;
    rows.push_back({st.status, st.provider_status.value_or(""), st.error_code, st.error_message,
                    st.status_rank, st.sent_at.has_value(), st.delivered_at.has_value()});
  }
  return rows;
}

} // namespace

TEST_CASE("two smsd processes on one PostgreSQL end with identical, correct rows",
          "[integration][postgres][slow]") {
  const int messages = 60;
  auto first = run_round(1, messages);
  auto second = run_round(2, messages);
  for (int i = 0; i < messages; ++i) {
    INFO("message " << i);
    auto& r = first[static_cast<std::size_t>(i)];
    switch (i % 3) {
      case 0:
        CHECK(r.status == "delivered");
        CHECK(r.has_delivered_at);
        CHECK_FALSE(r.error_code);
        break;
      case 1:
        CHECK(r.status == "undelivered");
        CHECK(r.error_code == std::string("30003"));
        CHECK(r.error_message == std::string("Unreachable handset"));
        CHECK_FALSE(r.has_delivered_at);
        break;
      case 2:
        CHECK(r.status == "failed");
        CHECK(r.error_code == std::string("30008"));
        CHECK_FALSE(r.has_delivered_at);
        break;
    }
    CHECK(r.rank == 4);
    CHECK(r.has_sent_at);
    CHECK(r == second[static_cast<std::size_t>(i)]);
  }
}

TEST_CASE("two smsd processes on one PostgreSQL run each scheduled tick exactly once",
          "[postgres][slow]") {
  auto url = fresh_postgres_url();
  auto db = seeded_store(url);
  auto env = child_env(url);
  env["SMSD_RETENTION_SCHEDULE"] = "every 1s";
  const auto begin = now_millis();
  smsd_process a(env), b(env);
  // Both are up: from here on every second is a tick both of them want.
  const auto both_up = now_millis();
  REQUIRE(eventually(
    [&] {
      auto runs = db->recent_job_runs("retention", 100);
      REQUIRE(runs);
      return std::count_if(runs->begin(), runs->end(), [&](const job_run_record& r) {
               return r.tick && *r.tick > both_up + 1000 && r.finished_at;
             })
             >= 4;
    },
    std::chrono::seconds(20)));
  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
  const auto end = now_millis();

  auto runs = db->recent_job_runs("retention", 1000);
  REQUIRE(runs);
  std::map<millis, int> per_tick;
  for (const auto& r : *runs) {
    REQUIRE(r.tick);
    CHECK(*r.tick >= begin - 1000);
    CHECK(*r.tick <= end);
    CHECK(*r.tick % 1000 == 0); // "every 1s" ticks are whole seconds, the same on both
    ++per_tick[*r.tick];
    INFO("tick " << *r.tick << " outcome " << r.outcome.value_or("(running)"));
    CHECK((r.outcome == std::optional<std::string>{"ok"} || !r.finished_at));
  }
  // Exactly once per tick, and no tick skipped while both were up.
  for (const auto& [tick, n] : per_tick)
    CHECK(n == 1);
  millis first_shared = ((both_up + 1000) / 1000 + 1) * 1000;
  millis last = per_tick.rbegin()->first;
  for (millis t = first_shared; t <= last; t += 1000)
    CHECK(per_tick.count(t) == 1);
}

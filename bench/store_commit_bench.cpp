// Measures the store's group commit, the persistence actor's hot path: batches of ops, each a
// guarded status update plus one status event, against a fresh SQLite file and, when
// SMSD_BENCH_PG_URL is set, against that PostgreSQL database.
//
//   store_commit_bench [--messages N] [--batch N] [--steps K]
//
// Every message goes through the last K of five ranks (accepted, queued, sending, sent,
// delivered; K = 5 by default), so every update applies, as on a healthy day: --messages 2000
// gives 10000 ops. --steps 2 gives what callbacks do (sent, then delivered: both change the
// status, which the spec's indexes contain); the first three ranks keep the status `queued`.
// Besides the rate it prints the CPU time per op of this process and, on this machine, of every
// process named `postgres` (the backend doing the work, the WAL writer, the checkpointer).
// Seeding uses insert_message, one durable transaction per message, and is reported on its own
// line.
// The PostgreSQL run adds its own event (and deletes it afterwards) to the database it is given.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "common/errors.hpp"
#include "common/time.hpp"
#include "persistence/records.hpp"
#include "persistence/store.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  int messages = 2000;
  int batch = 256;
  int steps = 5;
};

/// CPU time (user + system) in seconds: of this process, and of every process named `postgres`
/// that /proc shows (on this machine; 0 when PostgreSQL runs elsewhere).
double own_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

double postgres_cpu_seconds() {
  namespace fs = std::filesystem;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double total = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::ifstream in(entry.path() / "stat");
    std::string line;
    if (!std::getline(in, line))
      continue;
    // pid (comm) state ... ; comm may hold spaces, so fields are counted after the last ')'.
    auto open = line.find('(');
    auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos
        || line.compare(open + 1, close - open - 1, "postgres") != 0)
      continue;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; rest >> field; ++i) { // field 3 is the state
      if (i == 14)
        utime = std::atof(field.c_str());
      else if (i == 15) {
        stime = std::atof(field.c_str());
        break;
      }
    }
    total += (utime + stime) / hz;
  }
  return total;
}

struct step {
  const char* status;
  const char* provider_status;
  int rank;
};

constexpr step steps[] = {{"queued", "accepted", 0},
                          {"queued", "queued", 1},
                          {"queued", "sending", 2},
                          {"sent", "sent", 3},
                          {"delivered", "delivered", 4}};

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

[[noreturn]] void die(const std::string& what, const caf::error& err) {
  std::fprintf(stderr, "store_commit_bench: %s: %s\n", what.c_str(), smsd::describe(err).c_str());
  std::exit(1);
}

template <class T>
T must(caf::expected<T> x, const std::string& what) {
  if (!x)
    die(what, x.error());
  return std::move(*x);
}

void must(const caf::error& err, const std::string& what) {
  if (err)
    die(what, err);
}

void run(const std::string& label, const std::string& url, const options& opt) {
  auto s = must(smsd::open_store(url), "open " + label);
  must(s->migrate(), "migrate");
  auto run_id = std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}() % 100000);
  auto event_id = "bench-" + run_id;

  smsd::event_record event;
  event.id = event_id;
  event.name = "bench";
  event.owner_id = "bench";
  must(s->upsert_event(event), "upsert event");
  smsd::attendee_record attendee;
  attendee.id = event_id + "-a";
  attendee.event_id = event_id;
  attendee.first_name = "Bench";
  must(s->upsert_attendee(attendee), "upsert attendee");

  std::vector<std::string> ids;
  auto seed_start = clock_type::now();
  for (int i = 0; i < opt.messages; ++i) {
    smsd::message_record m;
    m.id = event_id + "-m" + std::to_string(i);
    m.message_sid = "SM" + run_id + "x" + std::to_string(i);
    m.to_phone = "+15551230000";
    m.from_phone = "+15559870000";
    m.body = "Your event starts soon";
    m.created_at = smsd::now_millis();
    m.state.status_updated_at = m.created_at;
    m.event_id = event_id;
    m.attendee_id = attendee.id;
    m.notification_type = "event_reminder";
    must(s->insert_message(m), "insert message");
    ids.push_back(m.id);
  }
  auto seed_seconds = seconds_since(seed_start);
  std::printf("%-10s seed: %d insert_message in %.2f s = %.0f messages/s\n", label.c_str(),
              opt.messages, seed_seconds, opt.messages / seed_seconds);

  // All ops first, so that only commit() is timed.
  std::vector<smsd::write_op> ops;
  for (auto st = std::end(steps) - opt.steps; st != std::end(steps); ++st)
    for (std::size_t i = 0; i < ids.size(); ++i) {
      smsd::write_op op;
      smsd::message_update u;
      u.message_id = ids[i];
      u.state.status = st->status;
      u.state.provider_status = std::string{st->provider_status};
      u.state.status_rank = st->rank;
      u.state.status_updated_at = smsd::now_millis();
      if (st->rank >= 3)
        u.state.sent_at = u.state.status_updated_at;
      if (st->rank == 4)
        u.state.delivered_at = u.state.status_updated_at;
      u.state.raw_payload = std::string{R"({"MessageStatus":")"} + st->provider_status
                            + R"(","AccountSid":"AC0123456789abcdef","ApiVersion":"2010-04-01"})";
      smsd::status_event_record e;
      e.message_id = ids[i];
      e.message_sid = "SM" + run_id + "x" + std::to_string(i);
      e.provider_status = st->provider_status;
      e.dedup_key = *e.message_sid + ":" + st->provider_status;
      e.payload = *u.state.raw_payload;
      e.received_at = u.state.status_updated_at;
      e.applied = true;
      e.disposition = smsd::disposition::applied;
      op.update = std::move(u);
      op.inserts.push_back(std::move(e));
      ops.push_back(std::move(op));
    }

  std::vector<double> latencies;
  std::size_t applied = 0;
  const double own0 = own_cpu_seconds();
  const double pg0 = postgres_cpu_seconds();
  auto start = clock_type::now();
  for (std::size_t at = 0; at < ops.size(); at += static_cast<std::size_t>(opt.batch)) {
    auto end = std::min(ops.size(), at + static_cast<std::size_t>(opt.batch));
    std::vector<smsd::write_op> batch(ops.begin() + static_cast<std::ptrdiff_t>(at),
                                      ops.begin() + static_cast<std::ptrdiff_t>(end));
    auto t0 = clock_type::now();
    auto results = must(s->commit(batch), "commit");
    latencies.push_back(seconds_since(t0) * 1000.0);
    applied += static_cast<std::size_t>(
      std::count_if(results.begin(), results.end(), [](const auto& r) { return r.updated; }));
  }
  auto total = seconds_since(start);
  const double n = static_cast<double>(ops.size());
  const double own_us = (own_cpu_seconds() - own0) * 1e6 / n;
  const double pg_us = (postgres_cpu_seconds() - pg0) * 1e6 / n;
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies[std::min(latencies.size() - 1,
                              static_cast<std::size_t>(p * static_cast<double>(latencies.size())))];
  };
  std::printf("%-10s commit: %zu ops (update + insert) in batches of %d: %.2f s = %.0f ops/s; "
              "batch p50 %.2f ms, p99 %.2f ms; %zu applied; CPU per op: %.1f us here, "
              "%.1f us in postgres processes\n",
              label.c_str(), ops.size(), opt.batch, total,
              static_cast<double>(ops.size()) / total, pct(0.5), pct(0.99), applied, own_us,
              pg_us);
  must(s->delete_event(event_id), "clean up");
  if (applied != ops.size()) {
    std::fprintf(stderr, "store_commit_bench: expected every update to apply (%zu of %zu did)\n",
                 applied, ops.size());
    std::exit(1);
  }
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    int value = std::atoi(argv[i + 1]);
    if (flag == "--messages" && value > 0)
      opt.messages = value;
    else if (flag == "--batch" && value > 0)
      opt.batch = value;
    else if (flag == "--steps" && value >= 1 && value <= 5)
      opt.steps = value;
    else {
      std::fprintf(stderr, "usage: store_commit_bench [--messages N] [--batch N] [--steps 1-5]\n");
      return 2;
    }
  }

  auto dir = std::filesystem::temp_directory_path() / ("smsd-bench-" + std::to_string(::getpid()));
  run("sqlite", "sqlite:" + (dir / "bench.db").string(), opt);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);

  if (const char* pg = std::getenv("SMSD_BENCH_PG_URL"); pg && *pg)
    run("postgresql", pg, opt);
  else
    std::printf("postgresql skipped: set SMSD_BENCH_PG_URL to measure it\n");
  return 0;
}

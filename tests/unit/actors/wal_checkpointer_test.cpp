// The WAL checkpointer thread keeps SQLite's WAL short while another connection commits, and
// stops by itself.
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "actors/wal_checkpointer.hpp"
#include "common/metrics.hpp"
#include "tests/unit/persistence/store_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

TEST_CASE("the WAL checkpointer copies the WAL back while another connection commits",
          "[actors][sqlite]") {
  const auto url = temp_sqlite_url();
  auto s = seeded_store(url);
  const auto before = counters().wal_checkpoints.load();
  {
    wal_checkpointer checkpointer(url, std::chrono::milliseconds(5));
    // 500 inserts would leave thousands of frames in the WAL (persistence's wal_checkpoint_test);
    // with the checkpointer running, the WAL keeps starting over.
    for (int i = 0; i < 500; ++i) {
      ok(s->insert_message(make_message("m" + std::to_string(i), "SM" + std::to_string(i))));
      if (i % 50 == 49)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (counters().wal_checkpoints.load() < before + 10 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  } // stops and joins its thread
  CHECK(counters().wal_checkpoints.load() >= before + 10);
  auto frames = ok(s->checkpoint_wal());
  INFO("frames in the WAL " << frames.in_wal);
  CHECK(frames.in_wal < 1000);
  CHECK(ok(s->find_message_by_id("m499")).has_value());
}

TEST_CASE("a WAL checkpointer that cannot open its database counts no checkpoint and stops",
          "[actors][sqlite]") {
  const auto before = counters().wal_checkpoints.load();
  const auto started = std::chrono::steady_clock::now();
  {
    // /proc refuses new folders and files: every open fails, and is tried again every tick.
    wal_checkpointer checkpointer("sqlite:/proc/smsd-no-such-folder/x.db", std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(counters().wal_checkpoints.load() == before);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}

// SQLite's WAL is copied back into the database file by smsd's checkpointer thread
// (store::checkpoint_wal), not by the connection that commits: smsd's connections checkpoint on
// commit only once the WAL holds 10,000 pages, SQLite's default being 1,000.
#include <string>

#include "tests/unit/persistence/store_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

TEST_CASE("commits leave the WAL to checkpoint_wal, which copies all of it back",
          "[persistence][sqlite]") {
  auto s = seeded_store(temp_sqlite_url());
  ok(s->checkpoint_wal()); // what seeding wrote
  // Several pages per insert (the row and its indexes): thousands of frames, which SQLite's
  // default would have checkpointed at 1,000 and started the WAL over.
  for (int i = 0; i < 500; ++i)
    ok(s->insert_message(make_message("m" + std::to_string(i), "SM" + std::to_string(i))));
  auto frames = ok(s->checkpoint_wal());
  INFO("frames in the WAL " << frames.in_wal << ", checkpointed " << frames.checkpointed);
  CHECK(frames.in_wal > 1000);
  CHECK(frames.in_wal < 10000);
  CHECK(frames.checkpointed == frames.in_wal);
  // Once all of it is in the file, the next commit starts the WAL over.
  ok(s->insert_message(make_message("m-last", "SM-last")));
  auto after = ok(s->checkpoint_wal());
  CHECK(after.in_wal > 0);
  CHECK(after.in_wal < 100);
  CHECK(after.checkpointed == after.in_wal);
  CHECK(ok(s->find_message_by_id("m499")).has_value());
}

TEST_CASE("checkpoint_wal has nothing to do on PostgreSQL", "[persistence][postgres]") {
  auto s = seeded_store(fresh_postgres_url());
  auto frames = ok(s->checkpoint_wal());
  CHECK(frames.in_wal == 0);
  CHECK(frames.checkpointed == 0);
}

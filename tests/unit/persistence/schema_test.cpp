#include <filesystem>
#include <thread>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "tests/unit/persistence/store_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

STORE_TEST("a fresh database reports no applied migrations", "") {
  auto s = open_or_fail(url);
  auto st = ok(s->migrations());
  CHECK(st.applied == 0);
  CHECK(st.latest >= 1);
}

STORE_TEST("migrating twice applies every version once", "") {
  auto s = open_or_fail(url);
  auto first = ok(s->migrate());
  CHECK(first.applied == first.latest);
  auto second = ok(s->migrate());
  CHECK(second.applied == first.latest);
  auto st = ok(s->migrations());
  CHECK(st.applied == st.latest);
  // The schema is there: the admin sync works.
  CHECK(ok(s->upsert_event(make_event("e1"))) == upsert_outcome::created);
}

STORE_TEST("two stores migrating at once both succeed", "") {
  auto a = open_or_fail(url);
  auto b = open_or_fail(url);
  caf::expected<migration_status> ra{migration_status{}};
  caf::expected<migration_status> rb{migration_status{}};
  std::thread ta{[&] { ra = a->migrate(); }};
  std::thread tb{[&] { rb = b->migrate(); }};
  ta.join();
  tb.join();
  REQUIRE(ra);
  REQUIRE(rb);
  CHECK(ra->applied == ra->latest);
  CHECK(rb->applied == rb->latest);
  // A second version 1 would have failed on schema_migrations' primary key; check the schema.
  CHECK(ok(a->upsert_event(make_event("e1"))) == upsert_outcome::created);
  CHECK(ok(b->find_event("e1")).has_value());
}

STORE_TEST("a store answers a ping", "") {
  auto s = open_or_fail(url);
  CHECK_FALSE(s->ping());
}

STORE_TEST("a store names its dialect", "") {
  auto s = open_or_fail(url);
  CHECK(std::string{s->dialect()} == (url.rfind("sqlite:", 0) == 0 ? "sqlite" : "postgresql"));
}

TEST_CASE("an unknown database URL is an invalid argument", "[persistence]") {
  auto s = open_store("mysql://root@localhost/smsd");
  REQUIRE_FALSE(s);
  CHECK(code_of(s.error()) == errc::invalid_argument);
}

TEST_CASE("a SQLite store creates the folder of its file", "[persistence][sqlite]") {
  auto url = temp_sqlite_url();
  auto dir = std::filesystem::path{url.substr(7)}.parent_path();
  auto nested = dir / "a" / "b" / "smsd.db";
  auto s = open_or_fail("sqlite:" + nested.string());
  ok(s->migrate());
  CHECK(std::filesystem::exists(nested));
}

TEST_CASE("an unreachable PostgreSQL server is unavailable", "[persistence][postgres]") {
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  auto s = open_store("postgresql://postgres@127.0.0.1:1/postgres");
  REQUIRE_FALSE(s);
  CHECK(code_of(s.error()) == errc::unavailable);
}

TEST_CASE("a PostgreSQL store reports a dropped connection as unavailable and then reconnects",
          "[persistence][postgres]") {
  auto url = fresh_postgres_url();
  auto s = seeded_store(url);
  REQUIRE(ok(s->find_event("e1")).has_value());
  // Terminate every other session on this database from a side connection.
  PGconn* side = PQconnectdb(url.c_str());
  REQUIRE(PQstatus(side) == CONNECTION_OK);
  PGresult* res = PQexec(side, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
  PQclear(res);
  PQfinish(side);
  auto lost = s->find_event("e1");
  REQUIRE_FALSE(lost);
  CHECK(code_of(lost.error()) == errc::unavailable);
  // The next call reconnects and works again, prepared statements included.
  CHECK(ok(s->find_event("e1")).has_value());
  CHECK_FALSE(s->ping());
}

TEST_CASE("a SQLite write that waits past the busy timeout is unavailable",
          "[persistence][sqlite][slow]") {
  auto url = temp_sqlite_url();
  auto s = seeded_store(url);
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(url.substr(7).c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto blocked = s->upsert_event(make_event("e2"));
  REQUIRE_FALSE(blocked);
  CHECK(code_of(blocked.error()) == errc::unavailable);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  // Retrying works once the lock is gone.
  CHECK(ok(s->upsert_event(make_event("e2"))) == upsert_outcome::created);
}

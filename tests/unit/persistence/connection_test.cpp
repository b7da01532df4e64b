// PostgreSQL sessions through Poco Data: a password with every awkward character reaches the
// server (password authentication checked, not trust), and a statement that failed or whose
// backend was killed is never touched again (Poco 1.11 would free its result twice).
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <libpq-fe.h>

#include "persistence/poco_statement.hpp"
#include "tests/unit/persistence/store_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

/// A libpq connection for the test's own checks (tests may use the C API).
class side_connection {
public:
  explicit side_connection(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK)
      FAIL("side connection failed: " << PQerrorMessage(conn_));
    run("SET client_min_messages = warning");
  }
  ~side_connection() { PQfinish(conn_); }

  /// Runs sql; returns the first field of the first row ("" when none).
  std::string run(const std::string& sql) {
    PGresult* res = PQexec(conn_, sql.c_str());
    auto status = PQresultStatus(res);
    std::string error = PQresultErrorMessage(res);
    std::string value = status == PGRES_TUPLES_OK && PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "";
    PQclear(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      FAIL(sql << ": " << error);
    return value;
  }

  std::string literal(const std::string& text) {
    char* quoted = PQescapeLiteral(conn_, text.data(), text.size());
    std::string out = quoted;
    PQfreemem(quoted);
    return out;
  }

private:
  PGconn* conn_;
};

std::string server_url() {
  const char* url = std::getenv("SMSD_TEST_PG_URL");
  if (url == nullptr || *url == '\0')
    FAIL("SMSD_TEST_PG_URL is not set: run the tests with scripts/test.sh");
  return url;
}

/// Everything but unreserved characters percent-encoded.
std::string percent_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

/// The server URL with another user and password: postgresql://USER:PASSWORD@HOST:PORT/DB.
std::string url_for(const std::string& server, const std::string& user, const std::string& password) {
  auto host = server.find('@') + 1;
  return "postgresql://" + user + ":" + percent_encode(password) + "@" + server.substr(host);
}

/// Makes the test cluster ask `role` for its password (scram-sha-256) on TCP, for the test's
/// lifetime: the cluster (scripts/pg-test-cluster.sh) trusts everyone else. pg_hba.conf is
/// rewritten through the server (COPY, tabs as spaces) and reloaded, the role's rule first, and
/// written back as it was when the test ends.
class password_rule {
public:
  password_rule(side_connection& admin, const std::string& role) : admin_(admin) {
    file_ = admin_.run("SHOW hba_file");
    auto content = admin_.run("SELECT pg_read_file(" + admin_.literal(file_) + ")");
    std::size_t pos = 0;
    while (pos < content.size()) {
      auto end = content.find('\n', pos);
      auto line = content.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      pos = end == std::string::npos ? content.size() : end + 1;
      for (auto& c : line)
        if (c == '\t')
          c = ' ';
      auto first = line.find_first_not_of(' ');
      bool rule = first != std::string::npos && line[first] != '#';
      if (rule)
        REQUIRE(line.find('\\') == std::string::npos); // COPY would double it
      lines_.push_back(line);
    }
    REQUIRE_FALSE(lines_.empty());
    auto with_role = lines_;
    with_role.insert(with_role.begin(), "host all " + role + " 127.0.0.1/32 scram-sha-256");
    write(with_role);
  }
  ~password_rule() { write(lines_); }

private:
  void write(const std::vector<std::string>& lines) {
    std::string array = "ARRAY[";
    for (std::size_t i = 0; i < lines.size(); ++i)
      array += (i ? "," : "") + admin_.literal(lines[i]);
    array += "]::text[]";
    admin_.run("COPY (SELECT unnest(" + array + ")) TO " + admin_.literal(file_));
    admin_.run("SELECT pg_reload_conf()");
  }

  side_connection& admin_;
  std::string file_;
  std::vector<std::string> lines_;
};

/// Terminates every other session on the URL's database.
void terminate_backends(const std::string& url) {
  side_connection side{url};
  side.run("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
           "WHERE datname = current_database() AND pid <> pg_backend_pid()");
}

} // namespace

TEST_CASE("a password with quotes, backslashes, @, : and spaces reaches the server",
          "[persistence][postgres]") {
  const auto server = server_url();
  side_connection admin{server};
  const auto role = "smsd_nasty_" + std::to_string(::getpid());
  // Quotes, a backslash, @ / : ? # & = % +, a tab; no space yet (it takes another path).
  const std::string inline_password = "p'a\"s\\s@w/o:r?d#&=%+\tx";
  const std::string spaced_password = " it's a \\ \"pass\" @ : word ";
  admin.run("DROP ROLE IF EXISTS " + role);
  admin.run("CREATE ROLE " + role + " LOGIN PASSWORD " + admin.literal(inline_password));
  struct drop_role {
    side_connection& admin;
    std::string role;
    ~drop_role() { admin.run("DROP ROLE IF EXISTS " + role); }
  } cleanup{admin, role};
  password_rule rule{admin, role};

  // The reload takes effect within moments: wait until a wrong password is refused.
  auto wrong = url_for(server, role, "wrong");
  for (int i = 0; i < 100 && open_store(wrong); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto refused = open_store(wrong);
  REQUIRE_FALSE(refused);
  CHECK(code_of(refused.error()) == errc::unavailable);
  CHECK(message_of(refused.error()).find("wrong") == std::string::npos); // no password in errors

  auto s = open_store(url_for(server, role, inline_password));
  if (!s)
    FAIL("open_store failed: " << describe(s.error()));
  CHECK_FALSE((*s)->ping());

  admin.run("ALTER ROLE " + role + " PASSWORD " + admin.literal(spaced_password));
  auto spaced = open_store(url_for(server, role, spaced_password));
  if (!spaced)
    FAIL("open_store failed: " << describe(spaced.error()));
  CHECK_FALSE((*spaced)->ping());
  // The old password no longer works: the new one was really checked.
  CHECK_FALSE(open_store(url_for(server, role, inline_password)));
}

TEST_CASE("a PostgreSQL statement that failed is replaced, and the store survives killed backends",
          "[persistence][postgres]") {
  auto url = fresh_postgres_url();
  auto s = seeded_store(url);
  ok(s->insert_message(make_message("m1", "SM1")));
  const auto leaked_before = leaked_statements();

  // The same kept statement: success, failure (invalid UTF-8 in a parameter: the server refuses
  // it at bind), success. Without the leak the third run would free a result twice.
  CHECK(ok(s->find_message_by_id("m1")).has_value());
  auto bad = s->find_message_by_id("\xff\xfe");
  REQUIRE_FALSE(bad);
  CHECK(code_of(bad.error()) == errc::invalid_argument);
  CHECK(leaked_statements() == leaked_before + 1);
  CHECK(ok(s->find_message_by_id("m1")).has_value());
  CHECK(ok(s->find_message_by_id("m1")).has_value());

  // The group commit's statement: commit, backend killed, commit (unavailable), commit.
  auto commit_rank = [&](int rank, millis at) {
    return s->commit({status_op("m1", "SM1", "sent", "sent", rank, at)});
  };
  CHECK(ok(commit_rank(2, 3'000)).front().updated);
  terminate_backends(url);
  auto lost = commit_rank(3, 4'000);
  REQUIRE_FALSE(lost);
  CHECK(code_of(lost.error()) == errc::unavailable);
  auto again = ok(commit_rank(3, 4'000));
  CHECK(again.front().updated);

  // A statement that failed, then a killed backend, then the same statement.
  CHECK_FALSE(s->find_message_by_id("\xff"));
  terminate_backends(url);
  auto gone = s->find_message_by_id("m1");
  REQUIRE_FALSE(gone);
  CHECK(code_of(gone.error()) == errc::unavailable);
  auto m = ok(s->find_message_by_id("m1"));
  REQUIRE(m);
  CHECK(m->state.status_rank == 3);

  // A write transaction whose BEGIN meets a killed backend.
  terminate_backends(url);
  CHECK_FALSE(s->upsert_event(make_event("e2")));
  CHECK(ok(s->upsert_event(make_event("e2"))) == upsert_outcome::created);
  CHECK(ok(s->find_event("e2")).has_value());
  CHECK(leaked_statements() >= leaked_before + 4);
}

namespace {

/// sms_status_events' scan counters, "seq_scan idx_scan", once every other session of the test's
/// database has ended (a session's counters reach the statistics when it exits).
std::string event_scans(side_connection& side) {
  for (int i = 0; i < 200; ++i) {
    if (side.run("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND pid <> pg_backend_pid()")
        == "0")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  side.run("SELECT pg_stat_clear_snapshot()");
  return side.run("SELECT seq_scan || ' ' || coalesce(idx_scan, 0) FROM pg_stat_user_tables "
                  "WHERE relname = 'sms_status_events'");
}

} // namespace

// The plan PostgreSQL keeps for a prepared statement after five runs stays until the table is
// analyzed again. A load connection that first read sms_status_events while it was nearly empty
// (a new deployment) kept a sequential scan for the pending events of the SIDs it loads, and
// scanned the whole table once it had grown: 3.2 ms per load round instead of 0.05, and most of
// PostgreSQL's CPU under callback load (docs/performance.md, issue 15). A load connection
// (store::reads_by_key_only) never scans the table, however small it was when it planned.
TEST_CASE("a load connection keeps reading pending events by index after the table has grown",
          "[persistence][postgres]") {
  auto url = fresh_postgres_url();
  {
    auto s = seeded_store(url);
    for (int i = 0; i < 20; ++i)
      ok(s->insert_message(make_message("m" + std::to_string(i), "SM" + std::to_string(i))));
  }
  side_connection side(url);
  // Statistics that say the table is empty, as autovacuum or an operator leaves them on a new
  // deployment (and bench/run_twilio_load.sh on its template).
  side.run("VACUUM ANALYZE sms_status_events");
  std::vector<message_key> keys;
  for (int i = 0; i < 20; i += 2)
    keys.push_back({message_key::by_sid, "SM" + std::to_string(i)});
  const auto before = event_scans(side);
  {
    auto loader = open_or_fail(url);
    loader->reads_by_key_only();
    // Planned and cached while the table is empty.
    for (int i = 0; i < 8; ++i)
      CHECK(ok(loader->load_messages(keys)).size() == keys.size());
    // The table grows to 20,000 events, none of them pending: the lookups find nothing.
    side.run("INSERT INTO sms_status_events (message_id, message_sid, provider_status, source, "
             "dedup_key, payload, received_at, applied, disposition) "
             "SELECT NULL, 'SMx' || g, 'sent', 'webhook', 'k' || g, repeat('x', 300), g, 0, "
             "'stale' FROM generate_series(1, 20000) AS g");
    for (int i = 0; i < 8; ++i) {
      auto loaded = ok(loader->load_messages(keys));
      REQUIRE(loaded.size() == keys.size());
      CHECK(loaded.front().row.has_value());
      CHECK(loaded.front().pending.empty());
    }
  }
  const auto after = event_scans(side);
  INFO("sms_status_events seq_scan idx_scan: before " << before << ", after " << after);
  auto field = [](const std::string& pair, int i) {
    auto space = pair.find(' ');
    return std::stol(i == 0 ? pair.substr(0, space) : pair.substr(space + 1));
  };
  // The loader's counters arrived (16 rounds, each an index scan), and not one was a scan.
  CHECK(field(after, 1) >= field(before, 1) + 16);
  CHECK(field(after, 0) == field(before, 0));
}

TEST_CASE("a SQLite statement that failed is replaced without leaking", "[persistence][sqlite]") {
  auto s = seeded_store(temp_sqlite_url());
  ok(s->insert_message(make_message("m1", "SM1")));
  const auto leaked_before = leaked_statements();
  auto duplicate = s->insert_message(make_message("m1", "SM2"));
  REQUIRE(duplicate); // an error
  CHECK(code_of(duplicate) == errc::conflict);
  ok(s->insert_message(make_message("m2", "SM2")));
  CHECK(ok(s->find_message_by_id("m2")).has_value());
  CHECK(leaked_statements() == leaked_before);
}

// How SQLite runs the organizer reads the page calls most. smsd never runs ANALYZE, so SQLite
// plans without statistics: these read its EXPLAIN QUERY PLAN on a migrated file and check that
// each query takes the index meant for it (a wrong choice is not an error, only slow: walking an
// event's 50,000 messages once per attendee took 4.5 s for 56 of its 1,000 attendees).
#include <sqlite3.h>

#include <string>
#include <vector>

#include "persistence/dialect_sql.hpp"
#include "tests/unit/persistence/store_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

/// The `detail` lines of SQLite's plan for `sql` (parameters unbound: the plan does not depend
/// on their values), on a freshly migrated database.
std::string plan_of(const std::string& sql) {
  const auto url = temp_sqlite_url();
  ok(open_or_fail(url)->migrate());
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(url.substr(std::string("sqlite:").size()).c_str(), &db,
                          SQLITE_OPEN_READONLY, nullptr)
          == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  const auto explain = "EXPLAIN QUERY PLAN " + sql;
  const int rc = sqlite3_prepare_v2(db, explain.c_str(), -1, &stmt, nullptr);
  INFO(sqlite3_errmsg(db));
  REQUIRE(rc == SQLITE_OK);
  std::string plan;
  while (sqlite3_step(stmt) == SQLITE_ROW)
    plan += std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3))) + "\n";
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return plan;
}

bool has(const std::string& plan, const std::string& part) {
  return plan.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("an event's attendee counts find each attendee's messages by its own index",
          "[persistence][sqlite][plan]") {
  const auto plan = plan_of(sqlite_sql().attendee_counts);
  INFO(plan);
  CHECK(has(plan, "SEARCH a USING INDEX attendees_event_idx"));
  CHECK(has(plan, "SEARCH m USING INDEX sms_messages_attendee_created_idx"));
  CHECK_FALSE(has(plan, "sms_messages_event_created_idx"));
  CHECK(has(plan, "USING COVERING INDEX sms_messages_retry_of_idx"));
}

TEST_CASE("the counts of listed attendees look each one up by its primary key",
          "[persistence][sqlite][plan]") {
  const auto plan = plan_of(sqlite_sql().attendee_counts_for);
  INFO(plan);
  CHECK(has(plan, "SEARCH a USING INDEX sqlite_autoindex_attendees_1 (id=?)"));
  CHECK(has(plan, "SEARCH m USING INDEX sms_messages_attendee_created_idx"));
  CHECK_FALSE(has(plan, "SCAN a"));
  CHECK_FALSE(has(plan, "sms_messages_event_created_idx"));
}

TEST_CASE("the summary counts in one scan of one covering index", "[persistence][sqlite][plan]") {
  const auto counts = plan_of(sqlite_sql().summary_counts);
  INFO(counts);
  CHECK(has(counts, "SEARCH sms_messages USING COVERING INDEX "
                    "sms_messages_event_status_type_idx (event_id=?)"));
  CHECK_FALSE(has(counts, "TEMP B-TREE"));
  // The failed list still finds the event's messages by index.
  const auto failed = plan_of(sqlite_sql().summary_failed);
  INFO(failed);
  CHECK(has(failed, "SEARCH m USING INDEX sms_messages_event_"));
}

TEST_CASE("the events a user may view are found by owner and by grant, not by a scan",
          "[persistence][sqlite][plan]") {
  const auto plan = plan_of(sqlite_sql().viewable_events);
  INFO(plan);
  CHECK(has(plan, "events_owner_idx"));
  CHECK(has(plan, "event_organizers_user_idx"));
  CHECK_FALSE(has(plan, "SCAN e\n"));
  CHECK_FALSE(has(plan, "SCAN events"));
}

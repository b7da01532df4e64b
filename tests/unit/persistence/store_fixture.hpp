#pragma once

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "persistence/records.hpp"
#include "persistence/store.hpp"
#include "tests/support/sample_records.hpp"
#include "tests/support/test_databases.hpp"

/// Defines a store test that runs once on a fresh SQLite file ("... (sqlite)", tag [sqlite]) and
/// once on a fresh PostgreSQL database ("... (postgresql)", tag [postgres]). The body receives
/// `const std::string& url`.
#define STORE_TEST(name, tags) SMSD_STORE_TEST_IMPL(INTERNAL_CATCH_UNIQUE_NAME(store_test_), name, tags)

#define SMSD_STORE_TEST_IMPL(fn, name, tags)                                                     \
  static void fn(const std::string& url);                                                        \
  TEST_CASE(name " (sqlite)", "[persistence][sqlite]" tags) {                                    \
    fn(smsd::test::temp_sqlite_url());                                                           \
  }                                                                                              \
  TEST_CASE(name " (postgresql)", "[persistence][postgres]" tags) {                              \
    fn(smsd::test::fresh_postgres_url());                                                        \
  }                                                                                              \
  static void fn(const std::string& url)

namespace smsd::test {

inline std::unique_ptr<store> open_or_fail(const std::string& url) {
  auto s = open_store(url);
  if (!s)
    FAIL("open_store failed: " << describe(s.error()));
  return std::move(*s);
}

/// Unwraps an expected, failing the test with the error otherwise.
template <class T>
T ok(caf::expected<T> x) {
  if (!x)
    FAIL("store call failed: " << describe(x.error()));
  return std::move(*x);
}

inline void ok(const caf::error& err) {
  if (err)
    FAIL("store call failed: " << describe(err));
}

inline event_record make_event(const std::string& id) {
  event_record e;
  e.id = id;
  e.name = "Event " + id;
  e.date = 1'780'000'000'000;
  e.owner_id = "owner-" + id;
  return e;
}

inline attendee_record make_attendee(const std::string& event_id, const std::string& id) {
  attendee_record a;
  a.id = id;
  a.event_id = event_id;
  a.first_name = "First " + id;
  a.last_name = "Last";
  a.phone = "+15551230000";
  return a;
}

inline message_record make_message(const std::string& id, std::optional<std::string> sid,
                                   const std::string& event_id = "e1",
                                   const std::string& attendee_id = "a1") {
  return test::sample_message(id, std::move(sid), event_id, attendee_id);
}

/// A migrated store holding event e1 with attendee a1.
inline std::unique_ptr<store> seeded_store(const std::string& url) {
  auto s = open_or_fail(url);
  ok(s->migrate());
  ok(s->upsert_event(make_event("e1")));
  ok(s->upsert_attendee(make_attendee("e1", "a1")));
  return s;
}

inline message_update make_update(const std::string& message_id, const std::string& status,
                                  const std::string& provider_status, int rank, millis at) {
  message_update u;
  u.message_id = message_id;
  u.state.status = status;
  u.state.provider_status = provider_status;
  u.state.status_rank = rank;
  u.state.status_updated_at = at;
  return u;
}

inline status_event_record make_event_record(const std::string& dedup_key,
                                             std::optional<std::string> message_id,
                                             std::optional<std::string> sid,
                                             const std::string& provider_status, bool applied,
                                             const std::string& disp, millis at = 2'000) {
  status_event_record e;
  e.message_id = std::move(message_id);
  e.message_sid = std::move(sid);
  e.provider_status = provider_status;
  e.dedup_key = dedup_key;
  e.payload = R"({"MessageStatus":")" + provider_status + R"("})";
  e.received_at = at;
  e.applied = applied;
  e.disposition = disp;
  return e;
}

/// One op: the update with one status event about it, marked applied.
inline write_op status_op(const std::string& message_id, const std::string& sid,
                          const std::string& status, const std::string& provider_status, int rank,
                          millis at) {
  write_op op;
  op.update = make_update(message_id, status, provider_status, rank, at);
  op.inserts.push_back(make_event_record(sid + ":" + provider_status + ":" + std::to_string(at),
                                         message_id, sid, provider_status, true,
                                         disposition::applied, at));
  return op;
}

inline message_record find_or_fail(store& s, const std::string& id) {
  auto m = ok(s.find_message_by_id(id));
  if (!m)
    FAIL("no message " << id);
  return *m;
}

} // namespace smsd::test

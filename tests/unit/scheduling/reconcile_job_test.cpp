// The reconciliation job's decisions, with a fake Twilio and a fake intake that records reports,
// over a real (temporary) SQLite store.
#include "scheduling/reconcile_job.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/status_intake.hpp"
#include "persistence/store.hpp"
#include "tests/support/sample_records.hpp"
#include "tests/support/test_databases.hpp"
#include "twilio/rest_client.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

constexpr millis hour_ms = 3600LL * 1000;
constexpr millis now = 1'800'000'000'000;

using fetch_result = twilio::call_result<twilio::message_resource>;
using list_result = twilio::call_result<std::vector<twilio::message_resource>>;

class fake_twilio final : public twilio::twilio_api {
public:
  std::map<std::string, fetch_result> fetches;  ///< by SID; absent: 404
  std::map<std::string, list_result> lists;     ///< by To; absent: an empty list
  std::atomic<int> fetch_calls{0}, list_calls{0}, creates{0}, in_flight{0}, max_in_flight{0};

  fetch_result create_message(const twilio::create_message_request&) override {
    ++creates;
    return {};
  }
  fetch_result fetch_message(const std::string& sid) override {
    enter();
    ++fetch_calls;
    fetch_result r;
    auto it = fetches.find(sid);
    if (it != fetches.end())
      r = it->second;
    else {
      r.outcome = twilio::call_outcome::rejected;
      r.error = twilio::api_error{404, 20404, "The requested resource was not found", ""};
    }
    leave();
    return r;
  }
  list_result list_messages(const twilio::list_messages_query& q) override {
    enter();
    ++list_calls;
    list_result r;
    auto it = lists.find(q.to.value_or(""));
    if (it != lists.end())
      r = it->second;
    else {
      r.outcome = twilio::call_outcome::ok;
      r.value.emplace();
    }
    leave();
    return r;
  }

private:
  void enter() {
    auto n = ++in_flight;
    int m = max_in_flight;
    while (n > m && !max_in_flight.compare_exchange_weak(m, n)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  void leave() { --in_flight; }
};

class recording_intake final : public status_intake {
public:
  std::vector<status_report> reports;
  std::mutex mtx;

  using status_intake::submit;
  void submit(status_report report, durable_callback done) override {
    {
      std::lock_guard<std::mutex> guard{mtx};
      reports.push_back(std::move(report));
    }
    done(true, "");
  }

  const status_report& of(const std::string& id) {
    auto it = std::find_if(reports.begin(), reports.end(),
                           [&](auto& r) { return r.message_id == std::optional<std::string>{id}; });
    REQUIRE(it != reports.end());
    return *it;
  }
};

twilio::message_resource resource(const std::string& sid, const std::string& to,
                                  const std::string& body, const std::string& status,
                                  millis created) {
  twilio::message_resource m;
  m.sid = sid;
  m.account_sid = "AC1";
  m.messaging_service_sid = "MG1";
  m.to = to;
  m.from = "+15005550006";
  m.body = body;
  m.status = status;
  m.num_segments = 2;
  m.date_created = created;
  m.raw_json = R"({"sid":")" + sid + R"("})";
  return m;
}

fetch_result ok(twilio::message_resource m) {
  fetch_result r;
  r.outcome = twilio::call_outcome::ok;
  r.value = std::move(m);
  return r;
}

struct fixture {
  std::unique_ptr<store> db;
  fake_twilio api;
  recording_intake intake;

  fixture() {
    auto s = open_store(temp_sqlite_url());
    REQUIRE(s);
    db = std::move(*s);
    REQUIRE(db->migrate());
    REQUIRE(db->upsert_event({"ev1", "No Edges", now, "u1", 0, 0}));
    REQUIRE(db->upsert_attendee({"at1", "ev1", "John", std::nullopt, std::string("+15551230000"), 0, 0}));
  }

  void add(const std::string& id, std::optional<std::string> sid, millis created,
           const std::string& send_state = "accepted", const std::string& to = "+15551230000") {
    auto m = sample_message(id, std::move(sid), "ev1", "at1");
    m.created_at = created;
    m.to_phone = to;
    m.send_state = send_state;
    REQUIRE_FALSE(db->insert_message(m));
  }

  reconcile_result run(reconcile_settings s = {}) {
    reconcile_job job{s, api, intake};
    auto r = job.reconcile(*db, now);
    REQUIRE(r);
    return *r;
  }
};

} // namespace

TEST_CASE("a stale message's status from Twilio is reported with source reconcile",
          "[scheduling][reconcile]") {
  fixture f;
  f.add("m1", std::string("SM1"), now - 13 * hour_ms);
  f.add("young", std::string("SM2"), now - 11 * hour_ms);
  auto res = resource("SM1", "+15551230000", "Hello", "Undelivered", now - 13 * hour_ms);
  res.error_code = 30003;
  res.error_message = "Unreachable destination handset";
  f.api.fetches["SM1"] = ok(res);
  auto r = f.run();
  CHECK(r.examined == 1);
  CHECK(r.fetched == 1);
  CHECK(r.errors == 0);
  REQUIRE(f.intake.reports.size() == 1);
  const auto& rep = f.intake.of("m1");
  CHECK(rep.source == "reconcile");
  CHECK(rep.message_sid == "SM1");
  CHECK(rep.provider_status == "undelivered");
  CHECK(rep.error_code == std::optional<std::string>{"30003"});
  CHECK(rep.error_message == std::optional<std::string>{"Unreachable destination handset"});
  CHECK(rep.payload == R"({"sid":"SM1"})");
  CHECK_FALSE(rep.send.has_value());
  CHECK_FALSE(rep.idempotency_token.has_value());
  CHECK(f.api.creates.load() == 0);
}

TEST_CASE("a 404 fails the message with a clear error; other failures are left for the next run",
          "[scheduling][reconcile]") {
  fixture f;
  f.add("gone", std::string("SMgone"), now - 13 * hour_ms);
  f.add("busy", std::string("SMbusy"), now - 13 * hour_ms);
  f.add("down", std::string("SMdown"), now - 13 * hour_ms);
  fetch_result busy;
  busy.outcome = twilio::call_outcome::rejected;
  busy.error = twilio::api_error{429, 20429, "Too Many Requests", ""};
  f.api.fetches["SMbusy"] = busy;
  fetch_result down;
  down.outcome = twilio::call_outcome::unavailable;
  down.detail = "connection refused";
  f.api.fetches["SMdown"] = down;
  auto r = f.run();
  CHECK(r.examined == 3);
  CHECK(r.failed_unknown == 1);
  CHECK(r.errors == 2);
  REQUIRE(f.intake.reports.size() == 1);
  const auto& rep = f.intake.of("gone");
  CHECK(rep.provider_status == "failed");
  CHECK(rep.message_sid == "SMgone");
  CHECK_FALSE(rep.error_code.has_value());
  CHECK(rep.error_message
        == std::optional<std::string>{"Twilio has no record of this message (reconciliation)"});
}

TEST_CASE("an unknown send is matched on To, Body and date_created, closest first, never to a "
          "SID another row holds",
          "[scheduling][reconcile]") {
  fixture f;
  const millis created = now - hour_ms;
  f.add("taken", std::string("SMtaken"), now - 2 * hour_ms, "accepted", "+15551239999");
  f.add("u1", std::nullopt, created, "unknown");
  list_result l;
  l.outcome = twilio::call_outcome::ok;
  l.value = {resource("SMother_body", "+15551230000", "Bye", "delivered", created + 1000),
             resource("SMtoo_early", "+15551230000", "Hello", "delivered", created - 10 * 60 * 1000),
             resource("SMtaken", "+15551230000", "Hello", "delivered", created + 500),
             resource("SMfar", "+15551230000", "Hello", "sent", created + 30 * 60 * 1000),
             resource("SMnear", "+15551230000", "Hello", "delivered", created + 2000)};
  f.api.lists["+15551230000"] = l;
  auto r = f.run();
  CHECK(r.attached == 1);
  CHECK(r.not_sent == 0);
  const auto& rep = f.intake.of("u1");
  CHECK(rep.message_sid == "SMnear");
  CHECK(rep.provider_status == "delivered");
  REQUIRE(rep.send);
  CHECK(rep.send->send_state == "accepted");
  CHECK(rep.send->message_sid == std::optional<std::string>{"SMnear"});
  CHECK(rep.send->account_sid == std::optional<std::string>{"AC1"});
  CHECK(rep.send->from_phone == std::optional<std::string>{"+15005550006"});
  CHECK(rep.send->num_segments == std::optional<int>{2});
}

TEST_CASE("two unknown sends of the same text to one number get two different SIDs",
          "[scheduling][reconcile]") {
  fixture f;
  const millis created = now - hour_ms;
  f.add("a", std::nullopt, created, "unknown");
  f.add("b", std::nullopt, created + 60'000, "sending");
  list_result l;
  l.outcome = twilio::call_outcome::ok;
  l.value = {resource("SMb", "+15551230000", "Hello", "delivered", created + 61'000),
             resource("SMa", "+15551230000", "Hello", "delivered", created + 1'000)};
  f.api.lists["+15551230000"] = l;
  auto r = f.run();
  CHECK(r.attached == 2);
  CHECK(f.intake.of("a").message_sid == "SMa");
  CHECK(f.intake.of("b").message_sid == "SMb");
}

TEST_CASE("an unknown send Twilio never saw fails as not sent; a young one waits",
          "[scheduling][reconcile]") {
  fixture f;
  f.add("lost", std::nullopt, now - hour_ms, "unknown");
  f.add("young", std::nullopt, now - 5 * 60 * 1000, "unknown");
  f.add("refused", std::nullopt, now - hour_ms, "rejected"); // settled at send time
  auto r = f.run();
  CHECK(r.examined == 1);
  CHECK(r.not_sent == 1);
  REQUIRE(f.intake.reports.size() == 1);
  const auto& rep = f.intake.of("lost");
  CHECK(rep.provider_status == "failed");
  CHECK(rep.message_sid.empty());
  CHECK(rep.error_message
        == std::optional<std::string>{"Twilio never accepted this message; it was not sent"});
  REQUIRE(rep.send);
  CHECK(rep.send->send_state == "not_sent");
  // Keyed on our id: the same verdict twice is one event.
  CHECK(rep.idempotency_token == std::optional<std::string>{"reconcile-not-sent:lost"});
  CHECK(f.api.list_calls.load() == 1);
}

TEST_CASE("candidates are read page by page, each examined once, with bounded concurrency",
          "[scheduling][reconcile]") {
  fixture f;
  for (int i = 0; i < 9; ++i) {
    auto sid = "SM" + std::to_string(i);
    f.add("m" + std::to_string(i), sid, now - 13 * hour_ms + i);
    // Still 'sent' at Twilio: the fake intake changes nothing, so every row stays a candidate.
    f.api.fetches[sid] = ok(resource(sid, "+15551230000", "Hello", "sent", now - 13 * hour_ms));
  }
  reconcile_settings s;
  s.batch_limit = 4;
  s.concurrency = 3;
  auto r = f.run(s);
  CHECK(r.examined == 9);
  CHECK(r.fetched == 9);
  CHECK_FALSE(r.capped);
  CHECK(f.api.fetch_calls.load() == 9);
  CHECK(f.api.max_in_flight.load() <= 3);
  CHECK(f.api.max_in_flight.load() >= 2);

  s.max_batches = 2;
    auto capped = f.run(s);
  CHECK(capped.examined == 7); // 4, then 3 new of the next 4
  CHECK(capped.capped);
  CHECK(capped.counts_json().at("examined") == 7);
}

TEST_CASE("as a job, a run answers its counts and the metric numbers", "[scheduling][reconcile]") {
  fixture f;
  f.add("gone", std::string("SMgone"), now - 13 * hour_ms);
  f.add("lost", std::nullopt, now - hour_ms, "unknown");
  reconcile_job j{reconcile_settings{}, f.api, f.intake};
  job& as_job = j;
  CHECK(as_job.name() == "reconcile");
  auto r = as_job.run(*f.db, now);
  REQUIRE(r);
  CHECK(r->outcome == "ok");
  CHECK(r->examined == 2);
  CHECK(r->errors == 0);
  CHECK(r->counts.at("failed_unknown") == 1);
  CHECK(r->counts.at("not_sent") == 1);
  CHECK(r->counts.at("examined") == 2);
  CHECK(r->counts.at("capped") == false);
}

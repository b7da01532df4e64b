// The sender against a fake Twilio on the real twilio_api interface, a recording status
// intake and a real SQLite file: what it writes, what it asks Twilio, what it reports.
#include "sending/sender.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "persistence/store.hpp"
#include "persistence/store_pool.hpp"
#include "tests/support/fake_status_intake.hpp"
#include "tests/support/fake_twilio.hpp"
#include "tests/support/test_databases.hpp"

using namespace smsd;

namespace {

struct fixture {
  std::string url = test::temp_sqlite_url();
  std::unique_ptr<store> db;
  store_pool pool{url, 4};
  test::fake_twilio tw{prepare(url)};
  test::fake_status_intake intake;
  sender_settings settings;

  fixture() {
    settings.public_app_url = "https://smsd.example.test/";
    settings.messaging_service_sid = "MG1";
    settings.max_parallel = 3;
    db = std::move(*open_store(url));
    REQUIRE(db->upsert_event({"ev1", "No Edges", 1'800'000'000'000, "u1", 0, 0}));
    REQUIRE(db->upsert_attendee({"at1", "ev1", "John", std::string("Smith"),
                                 std::string("(415) 867-5309"), 0, 0}));
    REQUIRE(db->upsert_attendee({"at2", "ev1", "Jane", std::nullopt, std::nullopt, 0, 0}));
    REQUIRE(db->upsert_attendee({"at3", "ev1", "Ann", std::nullopt, std::string("+15005550004"), 0, 0}));
    REQUIRE(db->upsert_event({"ev2", "Other", 1'800'000'000'000, "u2", 0, 0}));
    REQUIRE(db->upsert_attendee({"bt1", "ev2", "Bob", std::nullopt, std::string("+14155550100"), 0, 0}));
  }

  static std::string prepare(const std::string& url) {
    auto s = open_store(url);
    REQUIRE(s);
    REQUIRE((*s)->migrate());
    return url;
  }

  sender make() { return sender{settings, pool, tw, intake}; }

  send_request request(const std::string& attendee) {
    send_request r;
    r.event_id = "ev1";
    r.attendee_id = attendee;
    r.body = "See you tonight";
    r.notification_type = "event_reminder";
    return r;
  }

  message_record row(const std::string& id) {
    auto m = db->find_message_by_id(id);
    REQUIRE(m);
    REQUIRE(*m);
    return **m;
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "a send writes the row first, then asks Twilio with a callback "
                          "carrying our id",
                 "[sending]") {
  auto s = make();
  auto res = s.send(request("at1"));
  REQUIRE(res);
  CHECK(res->success);
  CHECK(res->message_sid == std::optional<std::string>{"SM1"});
  REQUIRE(res->db_record_id);
  REQUIRE(tw.creates.size() == 1);
  CHECK(tw.rows_at_create[0] == "sending");
  const auto& c = tw.creates[0];
  CHECK(c.to == "+14158675309");
  CHECK(c.body == "See you tonight");
  CHECK(c.messaging_service_sid == std::optional<std::string>{"MG1"});
  CHECK_FALSE(c.from.has_value());
  CHECK(c.status_callback
        == "https://smsd.example.test/api/webhooks/twilio/status?mid=" + *res->db_record_id);
  auto m = row(*res->db_record_id);
  CHECK(m.to_phone == "+14158675309");
  CHECK(m.event_id == "ev1");
  CHECK(m.attendee_id == "at1");
  CHECK(m.notification_type == "event_reminder");
  // The answer goes to the message's actor as a send result.
  auto reps = intake.reports();
  REQUIRE(reps.size() == 1);
  CHECK(reps[0].source == "send");
  CHECK(reps[0].message_id == res->db_record_id);
  CHECK(reps[0].message_sid == "SM1");
  CHECK(reps[0].provider_status == "accepted");
  REQUIRE(reps[0].send);
  CHECK(reps[0].send->send_state == "accepted");
  CHECK(reps[0].send->message_sid == std::optional<std::string>{"SM1"});
}

TEST_CASE_METHOD(fixture, "without a Messaging Service the From number is used", "[sending]") {
  settings.messaging_service_sid.reset();
  settings.from_number = "+15005550006";
  auto s = make();
  auto res = s.send(request("at1"));
  REQUIRE(res);
  REQUIRE(tw.creates.size() == 1);
  CHECK(tw.creates[0].from == std::optional<std::string>{"+15005550006"});
  CHECK_FALSE(tw.creates[0].messaging_service_sid.has_value());
  CHECK(row(*res->db_record_id).from_phone == "+15005550006");
}

TEST_CASE_METHOD(fixture, "an explicit 'to' wins over the attendee's phone", "[sending]") {
  auto s = make();
  auto r = request("at1");
  r.to = "+44 7911 123456";
  auto res = s.send(r);
  REQUIRE(res);
  CHECK(tw.creates.at(0).to == "+447911123456");
}

TEST_CASE_METHOD(fixture, "a number that cannot be normalised fails its row with 21211 and is "
                          "never sent",
                 "[sending]") {
  auto s = make();
  auto r = request("at1");
  r.to = "call me maybe";
  auto res = s.send(r);
  REQUIRE(res);
  CHECK_FALSE(res->success);
  REQUIRE(res->error);
  CHECK_THAT(*res->error, Catch::Contains("not sent"));
  CHECK(tw.creates.empty());
  auto reps = intake.reports();
  REQUIRE(reps.size() == 1);
  CHECK(reps[0].provider_status == "failed");
  CHECK(reps[0].error_code == std::optional<std::string>{"21211"});
  REQUIRE(reps[0].error_message);
  CHECK_THAT(*reps[0].error_message, Catch::Contains("not sent"));
  CHECK(reps[0].send->send_state == "not_sent");
  CHECK(row(*res->db_record_id).to_phone == "call me maybe");
}

TEST_CASE_METHOD(fixture, "Twilio's refusal is reported with its code and message", "[sending]") {
  tw.outcome = twilio::call_outcome::rejected;
  auto s = make();
  auto res = s.send(request("at1"));
  REQUIRE(res);
  CHECK_FALSE(res->success);
  CHECK(res->error == std::optional<std::string>{"Attempt to send to unsubscribed recipient"});
  auto reps = intake.reports();
  REQUIRE(reps.size() == 1);
  CHECK(reps[0].provider_status == "failed");
  CHECK(reps[0].error_code == std::optional<std::string>{"21610"});
  CHECK(reps[0].message_sid.empty());
  CHECK(reps[0].send->send_state == "rejected");
}

TEST_CASE_METHOD(fixture, "an unanswered create is reported as unknown, not as a failure",
                 "[sending]") {
  tw.outcome = twilio::call_outcome::unknown;
  auto s = make();
  auto res = s.send(request("at1"));
  REQUIRE(res);
  CHECK_FALSE(res->success);
  CHECK_THAT(*res->error, Catch::Contains("not sent again"));
  auto reps = intake.reports();
  REQUIRE(reps.size() == 1);
  CHECK(reps[0].provider_status.empty());
  CHECK(reps[0].send->send_state == "unknown");
  CHECK(tw.creates.size() == 1);
}

TEST_CASE_METHOD(fixture, "Twilio out of reach fails the row as not sent", "[sending]") {
  tw.outcome = twilio::call_outcome::unavailable;
  auto s = make();
  auto res = s.send(request("at1"));
  REQUIRE(res);
  CHECK_FALSE(res->success);
  auto reps = intake.reports();
  REQUIRE(reps.size() == 1);
  CHECK(reps[0].provider_status == "failed");
  CHECK(reps[0].send->send_state == "not_sent");
}

TEST_CASE_METHOD(fixture, "unknown events and attendees, and attendees of another event, write "
                          "nothing",
                 "[sending]") {
  auto s = make();
  auto r = request("at1");
  r.event_id = "nope";
  CHECK(code_of(s.send(r).error()) == errc::not_found);
  r = request("bt1"); // an attendee of ev2, named under ev1
  CHECK(code_of(s.send(r).error()) == errc::not_found);
  r = request("at2"); // no phone, no 'to'
  CHECK(code_of(s.send(r).error()) == errc::invalid_argument);
  CHECK(tw.creates.empty());
  CHECK(intake.count() == 0);
}

TEST_CASE_METHOD(fixture, "notify fills in the template, skips attendees without a phone and "
                          "reports each one",
                 "[sending]") {
  auto s = make();
  notify_request n;
  n.event_id = "ev1";
  n.notification_type = "invitation";
  n.body = "Hi {{firstName}}, {{eventName}} starts at 7. {{firstName}}!";
  auto res = s.notify(n);
  REQUIRE(res);
  CHECK(res->sent == 2);
  CHECK(res->skipped == 1);
  CHECK(res->failed == 0);
  REQUIRE(res->results.size() == 3);
  CHECK(res->results[0].attendee_id == "at1");
  CHECK(res->results[1].attendee_id == "at2");
  CHECK(res->results[1].skipped);
  CHECK(res->results[1].result.error == std::optional<std::string>{"Attendee has no phone number"});
  CHECK_FALSE(res->results[1].result.db_record_id.has_value());
  std::vector<std::string> bodies;
  for (auto& c : tw.creates)
    bodies.push_back(c.body);
  std::sort(bodies.begin(), bodies.end());
  CHECK(bodies == std::vector<std::string>{"Hi Ann, No Edges starts at 7. Ann!",
                                           "Hi John, No Edges starts at 7. John!"});
}

TEST_CASE_METHOD(fixture, "notify to listed attendees sends each once and reports strangers",
                 "[sending]") {
  auto s = make();
  notify_request n;
  n.event_id = "ev1";
  n.notification_type = "invitation";
  n.body = "Hello";
  n.attendee_ids = std::vector<std::string>{"at1", "bt1", "at1", "ghost"};
  auto res = s.notify(n);
  REQUIRE(res);
  CHECK(res->sent == 1);
  CHECK(res->skipped == 2);
  REQUIRE(res->results.size() == 3);
  CHECK(res->results[0].attendee_id == "at1");
  CHECK(res->results[1].attendee_id == "bt1");
  CHECK(res->results[1].skipped);
  CHECK(res->results[2].attendee_id == "ghost");
  CHECK(tw.creates.size() == 1);
}

TEST_CASE_METHOD(fixture, "notify sends at most max_parallel texts at once", "[sending]") {
  for (int i = 0; i < 12; ++i)
    REQUIRE(db->upsert_attendee({"p" + std::to_string(i), "ev1", "P", std::nullopt,
                                 std::string("+1415555") + std::to_string(1000 + i), 0, 0}));
  tw.delay = std::chrono::milliseconds(20);
  auto s = make();
  notify_request n;
  n.event_id = "ev1";
  n.notification_type = "new_rsvps";
  n.body = "Hello";
  auto res = s.notify(n);
  REQUIRE(res);
  CHECK(res->sent == 14);
  CHECK(tw.max_in_flight.load() <= settings.max_parallel);
  CHECK(tw.max_in_flight.load() >= 2); // it does run in parallel
}

TEST_CASE("notification types are the seed's six", "[sending]") {
  for (auto t : {"invitation", "rsvp_reminder", "match_reveal", "event_reminder", "new_rsvps",
                 "question_set"})
    CHECK(valid_notification_type(t));
  for (auto t : {"", "Invitation", "reminder", "invitation "})
    CHECK_FALSE(valid_notification_type(t));
}

TEST_CASE("templates fill every placeholder", "[sending]") {
  CHECK(sender::fill_template("{{firstName}}{{firstName}} at {{eventName}} {{other}}", "Jo", "X")
        == "JoJo at X {{other}}");
  CHECK(sender::fill_template("{{firstName}}", "{{firstName}}", "") == "{{firstName}}");
}

namespace {

/// A failed or delivered message of at1, with its error code and the message it retried.
void seed(store& db, const std::string& id, const std::string& status, millis at,
          std::optional<std::string> code = std::nullopt,
          std::optional<std::string> retry_of = std::nullopt) {
  message_record m;
  m.id = id;
  m.message_sid = "SM" + id;
  m.to_phone = "+14158675309";
  m.body = "Body " + id;
  m.created_at = at;
  m.event_id = "ev1";
  m.attendee_id = "at1";
  m.notification_type = "invitation";
  m.state.status = status;
  m.state.status_rank = 4;
  m.state.error_code = std::move(code);
  m.state.status_updated_at = at;
  m.retry_of_id = std::move(retry_of);
  REQUIRE_FALSE(db.insert_message(m));
}

} // namespace

TEST_CASE_METHOD(fixture, "a retry preview chooses what the retry then does, and sends nothing",
                 "[sending]") {
  seed(*db, "m1", "failed", 1'000, std::string("30003"));
  seed(*db, "m2", "undelivered", 2'000, std::string("30006")); // landline: not retryable
  seed(*db, "m3", "failed", 3'000, std::string("30003"));
  seed(*db, "m4", "delivered", 4'000, std::nullopt, std::string("m3"));
  seed(*db, "m5", "undelivered", 5'000);
  auto s = make();
  retry_request all{"ev1", "at1", std::nullopt};
  auto preview = s.preview_retry(all);
  REQUIRE(preview);
  CHECK(preview->would_retry == std::vector<std::string>{"m1", "m5"});
  REQUIRE(preview->skipped.size() == 2);
  CHECK(preview->skipped[0].original_id == "m2");
  CHECK(preview->skipped[0].code == retry_skip_code::not_retryable);
  CHECK(preview->skipped[0].error_code == std::optional<std::string>{"30006"});
  CHECK(preview->skipped[1].original_id == "m3");
  CHECK(preview->skipped[1].code == retry_skip_code::already_retried);
  CHECK(preview->skipped[1].existing_retry_id == std::optional<std::string>{"m4"});
  CHECK_FALSE(preview->refused);
  CHECK(tw.creates.empty());
  CHECK(db->attendee_messages("ev1", "at1")->size() == 5); // nothing written

  auto done = s.retry(all);
  REQUIRE(done);
  std::vector<std::string> retried;
  for (const auto& e : done->results)
    retried.push_back(e.original_id);
  CHECK(retried == preview->would_retry);
  REQUIRE(done->skipped.size() == preview->skipped.size());
  for (std::size_t i = 0; i < done->skipped.size(); ++i) {
    CHECK(done->skipped[i].original_id == preview->skipped[i].original_id);
    CHECK(done->skipped[i].code == preview->skipped[i].code);
    CHECK(done->skipped[i].reason == preview->skipped[i].reason);
  }
  CHECK(tw.creates.size() == 2);

  // One message: the preview refuses as the retry would; unknown ones are not found alike.
  auto again = s.preview_retry({"ev1", "at1", std::string("m1")});
  REQUIRE(again);
  REQUIRE(again->refused);
  CHECK(again->refused->code == retry_skip_code::already_retried);
  CHECK(again->would_retry.empty());
  auto delivered = s.preview_retry({"ev1", "at1", std::string("m4")});
  REQUIRE(delivered);
  REQUIRE(delivered->refused);
  CHECK(delivered->refused->code == retry_skip_code::not_failed);
  CHECK(code_of(s.preview_retry({"ev1", "at1", std::string("nope")}).error()) == errc::not_found);
  CHECK(code_of(s.preview_retry({"ev1", "bt1", std::nullopt}).error()) == errc::not_found);
  CHECK(code_of(s.preview_retry({"ev2", "at1", std::nullopt}).error()) == errc::not_found);
  CHECK(tw.creates.size() == 2);
}

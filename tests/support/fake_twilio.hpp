#pragma once
// A Twilio on the real twilio_api interface, for tests of the sender and the send endpoints.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "persistence/store.hpp"
#include "twilio/rest_client.hpp"

namespace smsd::test {

/// A Twilio that answers every create as told and records what it was asked, together with
/// the row that existed at the time (the row must be written first).
struct fake_twilio final : twilio::twilio_api {
  explicit fake_twilio(std::string url) : db(std::move(*open_store(url))) {}

  twilio::call_result<twilio::message_resource>
  create_message(const twilio::create_message_request& r) override {
    const int now = ++in_flight;
    int seen = max_in_flight.load();
    while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(delay);
    twilio::call_result<twilio::message_resource> out;
    {
      std::lock_guard<std::mutex> guard{mtx};
      creates.push_back(r);
      auto mid = r.status_callback->substr(r.status_callback->find("mid=") + 4);
      auto row = db->find_message_by_id(mid);
      rows_at_create.push_back(row && *row ? (*row)->send_state : "missing");
      out.outcome = outcome;
      out.attempts = 1;
      if (outcome == twilio::call_outcome::ok) {
        twilio::message_resource m;
        m.sid = "SM" + std::to_string(creates.size());
        m.account_sid = "AC1";
        m.messaging_service_sid = r.messaging_service_sid;
        m.to = r.to;
        m.body = r.body;
        m.status = r.messaging_service_sid ? "accepted" : "queued";
        m.num_segments = 1;
        m.raw_json = R"({"sid":")" + m.sid + R"("})";
        out.value = m;
      } else if (outcome == twilio::call_outcome::rejected) {
        out.error = twilio::api_error{400, 21610, "Attempt to send to unsubscribed recipient",
                                      "https://www.twilio.com/docs/errors/21610"};
      } else {
        out.detail = "connection closed before an answer";
      }
    }
    --in_flight;
    return out;
  }
  twilio::call_result<twilio::message_resource> fetch_message(const std::string&) override {
    FAIL("the sender never fetches");
    return {};
  }
  twilio::call_result<std::vector<twilio::message_resource>>
  list_messages(const twilio::list_messages_query&) override {
    FAIL("the sender never lists");
    return {};
  }

  std::unique_ptr<store> db;
  std::mutex mtx;
  std::vector<twilio::create_message_request> creates;
  std::vector<std::string> rows_at_create;
  twilio::call_outcome outcome = twilio::call_outcome::ok;
  std::chrono::milliseconds delay{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
};

} // namespace smsd::test

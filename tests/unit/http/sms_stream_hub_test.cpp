// The live side of the organizer page: committed changes become sms events with the attendee's
// dot, only for events somebody watches; Last-Event-ID resumes or resyncs; storms and failed
// reads become one resync; stop closes every stream.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "http/response_stream.hpp"
#include "http/sms_stream_hub.hpp"

using namespace smsd;
using namespace std::chrono_literals;

namespace {

// What a stream's connection would have sent, as one string.
struct capture : response_stream::sink {
  std::mutex mtx;
  std::string text;
  bool ended = false;

  void data(std::string t) override {
    std::lock_guard<std::mutex> guard{mtx};
    text += t;
  }
  void end() override {
    std::lock_guard<std::mutex> guard{mtx};
    ended = true;
  }
  std::string seen() {
    std::lock_guard<std::mutex> guard{mtx};
    return text;
  }
  bool is_ended() {
    std::lock_guard<std::mutex> guard{mtx};
    return ended;
  }
};

template <class F>
bool eventually(F done) {
  for (int n = 0; n < 300; ++n) {
    if (done())
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

// A counts lookup that answers from a table and records what it was asked.
struct fake_counts {
  std::mutex mtx;
  std::vector<attendee_counts> table;
  std::vector<std::pair<std::string, std::vector<std::string>>> asked;
  bool fail = false;

  attendee_counts_lookup lookup() {
    return [this](const std::string& event_id, const std::vector<std::string>& ids)
             -> caf::expected<std::vector<attendee_counts>> {
      std::lock_guard<std::mutex> guard{mtx};
      asked.emplace_back(event_id, ids);
      if (fail)
        return make_error(errc::unavailable, "database down");
      std::vector<attendee_counts> out;
      for (const auto& c : table)
        for (const auto& id : ids)
          if (c.attendee_id == id)
            out.push_back(c);
      return out;
    };
  }
  std::size_t calls() {
    std::lock_guard<std::mutex> guard{mtx};
    return asked.size();
  }
};

attendee_counts counts(std::string id, std::int64_t total, std::int64_t delivered,
                       std::int64_t pending, std::int64_t failed, std::int64_t open_failed) {
  attendee_counts c;
  c.attendee_id = std::move(id);
  c.total = total;
  c.delivered = delivered;
  c.pending = pending;
  c.failed = failed;
  c.open_failed = open_failed;
  return c;
}

const auto forever = std::chrono::steady_clock::time_point::max();

// A subscription attached to a capture, as the event server would attach it.
std::shared_ptr<capture> watch(sms_stream_hub& hub, const std::string& event_id,
                               const std::string& last_id = "") {
  auto stream = hub.subscribe(event_id, last_id, forever);
  REQUIRE(stream);
  auto sink = std::make_shared<capture>();
  stream->attach(sink);
  return sink;
}

struct frame {
  std::string id, event;
  nlohmann::json data;
};

// The events in a stream's text (comments skipped).
std::vector<frame> frames(const std::string& text) {
  std::vector<frame> out;
  std::size_t pos = 0;
  while (true) {
    const auto end = text.find("\n\n", pos);
    if (end == std::string::npos)
      break;
    frame f;
    std::size_t line = pos;
    while (line < end) {
      auto nl = text.find('\n', line);
      if (nl == std::string::npos || nl > end)
        nl = end;
      const std::string l = text.substr(line, nl - line);
      if (l.rfind("id: ", 0) == 0)
        f.id = l.substr(4);
      else if (l.rfind("event: ", 0) == 0)
        f.event = l.substr(7);
      else if (l.rfind("data: ", 0) == 0)
        f.data = nlohmann::json::parse(l.substr(6));
      line = nl + 1;
    }
    if (!f.event.empty())
      out.push_back(std::move(f));
    pos = end + 2;
  }
  return out;
}

message_change change(std::string msg, std::string event, std::string attendee, std::string st) {
  return {std::move(msg), std::move(event), std::move(attendee), std::move(st)};
}

} // namespace

TEST_CASE("a committed change reaches its event's streams with the attendee's dot and counts",
          "[stream_hub]") {
  fake_counts db;
  db.table = {counts("a1", 3, 1, 1, 1, 1), counts("a2", 1, 1, 0, 0, 0)};
  sms_stream_hub hub{db.lookup()};
  hub.start();
  auto mine = watch(hub, "e1");
  auto other = watch(hub, "e2");
  hub.publish({change("m1", "e1", "a1", "failed")});
  REQUIRE(eventually([&] { return !frames(mine->seen()).empty(); }));
  auto got = frames(mine->seen());
  REQUIRE(got.size() == 1);
  CHECK(got[0].event == "sms");
  CHECK_FALSE(got[0].id.empty());
  CHECK(got[0].data == nlohmann::json{{"messageId", "m1"},
                                      {"attendeeId", "a1"},
                                      {"status", "failed"},
                                      {"dot", "red"},
                                      {"counts",
                                       {{"total", 3},
                                        {"delivered", 1},
                                        {"pending", 1},
                                        {"failed", 1},
                                        {"openFailed", 1}}}});
  hub.publish({change("m2", "e1", "a2", "delivered")});
  REQUIRE(eventually([&] { return frames(mine->seen()).size() == 2; }));
  got = frames(mine->seen());
  CHECK(got[1].data["dot"] == "green");
  CHECK(got[1].id != got[0].id);
  std::this_thread::sleep_for(50ms);
  CHECK(frames(other->seen()).empty()); // another event's stream hears nothing of it
}

TEST_CASE("changes of events nobody watches cost no read", "[stream_hub]") {
  fake_counts db;
  sms_stream_hub hub{db.lookup()};
  hub.start();
  hub.publish({change("m1", "e1", "a1", "sent")});
  auto s = watch(hub, "e2");
  hub.publish({change("m2", "e1", "a1", "delivered")});
  std::this_thread::sleep_for(100ms);
  CHECK(db.calls() == 0);
  CHECK(frames(s->seen()).empty());
}

TEST_CASE("a round coalesces the changes of one message (the newest wins) and reads each "
          "attendee once", "[stream_hub]") {
  fake_counts db;
  db.table = {counts("a1", 2, 1, 1, 0, 0), counts("a2", 1, 0, 1, 0, 0)};
  sms_stream_hub hub{db.lookup()};
  auto s = watch(hub, "e1");
  // Not started yet: everything published waits for the first round.
  hub.publish({change("m1", "e1", "a1", "queued"), change("m2", "e1", "a2", "queued")});
  hub.publish({change("m1", "e1", "a1", "sent"), change("m3", "e1", "a1", "queued")});
  hub.publish({change("m1", "e1", "a1", "delivered")});
  hub.start();
  REQUIRE(eventually([&] { return frames(s->seen()).size() == 3; }));
  auto got = frames(s->seen());
  CHECK(got[0].data["messageId"] == "m1");
  CHECK(got[0].data["status"] == "delivered");
  CHECK(got[1].data["messageId"] == "m2");
  CHECK(got[2].data["messageId"] == "m3");
  REQUIRE(db.calls() == 1);
  CHECK(db.asked[0].first == "e1");
  CHECK(db.asked[0].second == std::vector<std::string>{"a1", "a2"});
}

TEST_CASE("more changes in a round than the limit become one resync; so does a failed read",
          "[stream_hub]") {
  fake_counts db;
  sms_stream_settings settings;
  settings.max_changes_per_round = 3;
  sms_stream_hub hub{db.lookup(), settings};
  auto s = watch(hub, "e1");
  std::vector<message_change> many;
  for (int i = 0; i < 4; ++i)
    many.push_back(change("m" + std::to_string(i), "e1", "a1", "sent"));
  hub.publish(many);
  hub.start();
  REQUIRE(eventually([&] { return frames(s->seen()).size() == 1; }));
  CHECK(frames(s->seen())[0].event == "resync");
  CHECK(db.calls() == 0);

  db.fail = true;
  hub.publish({change("m9", "e1", "a1", "sent")});
  REQUIRE(eventually([&] { return frames(s->seen()).size() == 2; }));
  CHECK(frames(s->seen())[1].event == "resync");
}

TEST_CASE("Last-Event-ID replays what that event's stream missed; an unknown, foreign or "
          "forgotten id gets a resync", "[stream_hub]") {
  fake_counts db;
  db.table = {counts("a1", 1, 0, 1, 0, 0), counts("b1", 1, 0, 1, 0, 0)};
  sms_stream_settings settings;
  settings.history = 4;
  settings.round_interval = 0ms;
  sms_stream_hub hub{db.lookup(), settings};
  hub.start();
  auto e1 = watch(hub, "e1");
  auto e2 = watch(hub, "e2");
  hub.publish({change("m1", "e1", "a1", "queued")});
  REQUIRE(eventually([&] { return frames(e1->seen()).size() == 1; }));
  const std::string after_m1 = frames(e1->seen())[0].id;
  hub.publish({change("x1", "e2", "b1", "queued")});
  REQUIRE(eventually([&] { return frames(e2->seen()).size() == 1; }));
  hub.publish({change("m2", "e1", "a1", "sent")});
  hub.publish({change("m3", "e1", "a1", "sent")});
  REQUIRE(eventually([&] { return frames(e1->seen()).size() == 3; }));

  // Resumed after m1: m2 and m3, not the other event's x1.
  auto resumed = watch(hub, "e1", after_m1);
  auto replay = frames(resumed->seen());
  REQUIRE(replay.size() == 2);
  CHECK(replay[0].data["messageId"] == "m2");
  CHECK(replay[1].data["messageId"] == "m3");
  CHECK(replay[1].id == frames(e1->seen())[2].id);

  // A fresh page (no id) gets nothing replayed.
  CHECK(frames(watch(hub, "e1")->seen()).empty());

  // Ids that are not ours, from another process (a restart), or from the future.
  std::string epoch;
  std::uint64_t seq = 0;
  REQUIRE(parse_stream_event_id(after_m1, epoch, seq));
  for (const std::string& id : {std::string("garbage"), std::string("zz-1"),
                               epoch + "-999999", epoch + "-", std::string("-5")}) {
    auto got = frames(watch(hub, "e1", id)->seen());
    INFO(id);
    REQUIRE(got.size() == 1);
    CHECK(got[0].event == "resync");
  }

  // History keeps 4 events: after more, the id of m1 is forgotten.
  for (int i = 0; i < 4; ++i) {
    hub.publish({change("n" + std::to_string(i), "e1", "a1", "sent")});
    REQUIRE(eventually([&] { return frames(e1->seen()).size() == static_cast<std::size_t>(4 + i); }));
  }
  auto old = frames(watch(hub, "e1", after_m1)->seen());
  REQUIRE(old.size() == 1);
  CHECK(old[0].event == "resync");
  // The resync carries an id to resume from next time.
  CHECK(parse_stream_event_id(old[0].id, epoch, seq));
}

TEST_CASE("a change that went out to nobody makes a Last-Event-ID from before it resync",
          "[stream_hub]") {
  fake_counts db;
  db.table = {counts("a1", 1, 0, 1, 0, 0)};
  sms_stream_settings settings;
  settings.round_interval = 0ms;
  settings.unseen_events = 4;
  sms_stream_hub hub{db.lookup(), settings};
  hub.start();
  // Opens a stream, returns what it got at once, and closes it again (the page leaves).
  auto visit = [&](const std::string& event_id, const std::string& last_id) {
    auto stream = hub.subscribe(event_id, last_id, forever);
    REQUIRE(stream);
    auto sink = std::make_shared<capture>();
    stream->attach(sink);
    auto got = frames(sink->seen());
    stream->detach();
    return got;
  };
  std::string last;
  {
    auto stream = hub.subscribe("e1", "", forever);
    auto sink = std::make_shared<capture>();
    stream->attach(sink);
    hub.publish({change("m1", "e1", "a1", "sent")});
    REQUIRE(eventually([&] { return frames(sink->seen()).size() == 1; }));
    last = frames(sink->seen())[0].id;
    stream->detach(); // the page's connection dropped
  }
  CHECK(hub.streams() == 0);
  CHECK(visit("e1", last).empty()); // nothing missed
  hub.publish({change("m2", "e2", "a9", "sent")}); // another event's change, seen by nobody
  CHECK(visit("e1", last).empty());
  hub.publish({change("m1", "e1", "a1", "delivered")}); // e1's, while nobody watched
  auto got = visit("e1", last);
  REQUIRE(got.size() == 1);
  CHECK(got[0].event == "resync");
  // Forgetting old marks (more unseen events than kept) still resyncs the streams behind them.
  for (int i = 3; i < 12; ++i)
    hub.publish({change("x", "e" + std::to_string(i), "a", "sent")});
  got = visit("e1", last);
  REQUIRE(got.size() == 1);
  CHECK(got[0].event == "resync");
  CHECK(db.calls() == 1); // only the round that had a stream read counts
}

TEST_CASE("more missed events than half a stream's backlog resume as one resync",
          "[stream_hub]") {
  fake_counts db;
  db.table = {counts("a1", 1, 0, 1, 0, 0)};
  sms_stream_settings settings;
  settings.round_interval = 0ms;
  settings.max_backlog = 2048; // about ten events
  sms_stream_hub hub{db.lookup(), settings};
  hub.start();
  auto kept = watch(hub, "e1"); // keeps the event watched
  hub.publish({change("m0", "e1", "a1", "sent")});
  REQUIRE(eventually([&] { return frames(kept->seen()).size() == 1; }));
  const std::string last = frames(kept->seen())[0].id;
  for (int i = 1; i <= 30; ++i) {
    hub.publish({change("m" + std::to_string(i), "e1", "a1", "sent")});
    REQUIRE(eventually([&] { return frames(kept->seen()).size() == static_cast<std::size_t>(i + 1); }));
  }
  auto stream = hub.subscribe("e1", last, forever);
  REQUIRE(stream);
  CHECK_FALSE(stream->closed()); // what it gets fits: it stays open
  auto sink = std::make_shared<capture>();
  stream->attach(sink);
  auto got = frames(sink->seen());
  REQUIRE(got.size() == 1);
  CHECK(got[0].event == "resync");
  CHECK(hub.streams() == 2);
}

TEST_CASE("a stream that closes leaves the hub; stop closes every stream", "[stream_hub]") {
  fake_counts db;
  sms_stream_hub hub{db.lookup()};
  hub.start();
  auto gone = hub.subscribe("e1", "", forever);
  auto kept = hub.subscribe("e1", "", forever);
  REQUIRE(gone);
  REQUIRE(kept);
  auto sink = std::make_shared<capture>();
  kept->attach(sink);
  CHECK(hub.streams() == 2);
  gone->detach(); // its client left
  CHECK(hub.streams() == 1);
  hub.stop();
  CHECK(kept->closed());
  CHECK(sink->is_ended());
  CHECK(hub.streams() == 0);
  CHECK(hub.subscribe("e1", "", forever) == nullptr);
  hub.publish({change("m1", "e1", "a1", "sent")}); // nothing happens, nothing breaks
}

TEST_CASE("stream event ids parse only in their own form", "[stream_hub]") {
  std::string epoch;
  std::uint64_t seq = 0;
  CHECK(parse_stream_event_id("abc-42", epoch, seq));
  CHECK(epoch == "abc");
  CHECK(seq == 42);
  CHECK_FALSE(parse_stream_event_id("abc", epoch, seq));
  CHECK_FALSE(parse_stream_event_id("abc-", epoch, seq));
  CHECK_FALSE(parse_stream_event_id("-1", epoch, seq));
  CHECK_FALSE(parse_stream_event_id("abc-1x", epoch, seq));
  CHECK_FALSE(parse_stream_event_id("abc-99999999999999999999", epoch, seq));
}

TEST_CASE("a response_stream keeps what is written before it is attached, within its cap",
          "[stream_hub]") {
  int closed = 0;
  response_stream s{10};
  s.on_closed([&] { ++closed; });
  CHECK(s.write("12345"));
  CHECK(s.write("67890"));
  CHECK_FALSE(s.write("x")); // over the cap: closed
  CHECK(closed == 1);
  CHECK(s.closed());
  auto sink = std::make_shared<capture>();
  s.attach(sink);
  CHECK(sink->seen().empty()); // dropped, not sent
  CHECK(sink->is_ended());

  response_stream t{100};
  t.on_closed([&] { ++closed; });
  t.write("a");
  t.close(); // before attach: what was written still goes out, then the end
  CHECK(closed == 2);
  auto sink2 = std::make_shared<capture>();
  t.attach(sink2);
  CHECK(sink2->seen() == "a");
  CHECK(sink2->is_ended());
  t.detach();
  CHECK(closed == 2); // once
}

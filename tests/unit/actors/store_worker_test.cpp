#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/db_workers.hpp"
#include "tests/support/sample_records.hpp"
#include "tests/support/test_databases.hpp"

using namespace smsd;

namespace {

/// Runs posted tasks only when the test says so: a worker that is "busy" until then.
class held_executor final : public blocking_executor {
public:
  explicit held_executor(std::shared_ptr<std::deque<std::function<void()>>> tasks)
    : tasks_(std::move(tasks)) {}
  void post(std::function<void()> task) override { tasks_->push_back(std::move(task)); }
  void stop() override { tasks_->clear(); }

private:
  std::shared_ptr<std::deque<std::function<void()>>> tasks_;
};

struct worker_fixture {
  std::string url = test::temp_sqlite_url();
  std::shared_ptr<std::deque<std::function<void()>>> tasks =
    std::make_shared<std::deque<std::function<void()>>>();
  std::unique_ptr<store_worker> worker;

  worker_fixture() {
    auto s = open_store(url);
    REQUIRE(s);
    REQUIRE((*s)->migrate());
    REQUIRE((*s)->upsert_event({"ev1", "Loads", 1'800'000'000'000, "u1", 0, 0}));
    REQUIRE((*s)->upsert_attendee({"at1", "ev1", "Ann", std::nullopt,
                                   std::string("+15551234567"), 0, 0}));
    for (int i = 0; i < 300; ++i)
      REQUIRE_FALSE((*s)->insert_message(test::sample_message(
        "m" + std::to_string(i), "SM" + std::to_string(i), "ev1", "at1")));
    worker = std::make_unique<store_worker>(url, std::make_unique<held_executor>(tasks));
  }

  /// Runs what is queued, including what running it queues; returns how many tasks ran.
  int run_all() {
    int n = 0;
    while (!tasks->empty()) {
      auto t = std::move(tasks->front());
      tasks->pop_front();
      t();
      ++n;
    }
    return n;
  }
};

} // namespace

TEST_CASE_METHOD(worker_fixture, "loads queued while the worker is busy are read in one round",
                 "[actors]") {
  std::vector<std::optional<std::string>> got(3);
  std::vector<int> answers(3, 0);
  auto load = [&](int i, message_key key) {
    worker->load(std::move(key), [&, i](caf::expected<loaded_state> r) {
      REQUIRE(r);
      ++answers[i];
      got[i] = r->row ? std::optional{r->row->id} : std::nullopt;
    });
  };
  load(0, {message_key::by_sid, "SM7"});
  load(1, {message_key::by_id, "m8"});
  load(2, {message_key::by_sid, "SM-none"});
  // One round is queued for all three, not one task per load.
  CHECK(tasks->size() == 1);
  CHECK(run_all() == 1);
  CHECK(answers == std::vector<int>{1, 1, 1});
  CHECK(got[0] == std::optional<std::string>{"m7"});
  CHECK(got[1] == std::optional<std::string>{"m8"});
  CHECK_FALSE(got[2]);

  // A load after the round ran queues a new round.
  load(0, {message_key::by_id, "m9"});
  CHECK(tasks->size() == 1);
  run_all();
  CHECK(answers[0] == 2);
  CHECK(got[0] == std::optional<std::string>{"m9"});
}

TEST_CASE_METHOD(worker_fixture, "a round reads at most 256 keys and the rest follow in the next",
                 "[actors]") {
  std::vector<std::string> ids(300);
  int answered = 0;
  for (int i = 0; i < 300; ++i)
    worker->load({message_key::by_sid, "SM" + std::to_string(i)},
                 [&, i](caf::expected<loaded_state> r) {
                   REQUIRE(r);
                   REQUIRE(r->row);
                   ids[i] = r->row->id;
                   ++answered;
                 });
  CHECK(tasks->size() == 1);
  CHECK(run_all() == 2);
  CHECK(answered == 300);
  for (int i = 0; i < 300; ++i)
    CHECK(ids[i] == "m" + std::to_string(i));
}

TEST_CASE_METHOD(worker_fixture, "every load of a failed round gets the error", "[actors]") {
  // A database that cannot be opened: the folder is a file.
  auto bad = std::make_unique<store_worker>("sqlite:/dev/null/smsd.db",
                                            std::make_unique<held_executor>(tasks));
  int failed = 0;
  for (int i = 0; i < 3; ++i)
    bad->load({message_key::by_id, "m1"}, [&](caf::expected<loaded_state> r) {
      CHECK_FALSE(r);
      ++failed;
    });
  run_all();
  CHECK(failed == 3);
}

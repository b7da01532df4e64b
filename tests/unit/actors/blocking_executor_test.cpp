#include "actors/blocking_executor.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace smsd;
using namespace std::chrono_literals;

TEST_CASE("a thread executor runs its tasks in order, off the caller's thread", "[executor]") {
  thread_executor ex("test-exec");
  std::vector<int> seen;
  std::promise<std::thread::id> ran_on;
  for (int i = 0; i < 100; ++i)
    ex.post([&seen, i] { seen.push_back(i); });
  ex.post([&ran_on] { ran_on.set_value(std::this_thread::get_id()); });
  auto f = ran_on.get_future();
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  CHECK(f.get() != std::this_thread::get_id());
  ex.stop();
  REQUIRE(seen.size() == 100);
  for (int i = 0; i < 100; ++i)
    CHECK(seen[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("stopping a thread executor finishes the task in progress and drops the rest",
          "[executor]") {
  thread_executor ex("test-exec");
  std::promise<void> started;
  std::atomic<bool> finished{false};
  std::atomic<int> later{0};
  ex.post([&] {
    started.set_value();
    std::this_thread::sleep_for(200ms); // a commit in progress
    finished = true;
  });
  for (int i = 0; i < 10; ++i)
    ex.post([&] { ++later; });
  REQUIRE(started.get_future().wait_for(10s) == std::future_status::ready);
  ex.stop();
  CHECK(finished);
  CHECK(later == 0);
  ex.post([&] { ++later; }); // after stop: dropped, never run
  CHECK(later == 0);
}

TEST_CASE("a dropped task releases what it captured, so waiters see a broken promise",
          "[executor]") {
  thread_executor ex("test-exec");
  std::promise<void> gate;
  auto gate_future = gate.get_future().share();
  ex.post([gate_future] { gate_future.wait(); });
  auto ack = std::make_shared<std::promise<void>>();
  auto waiting = ack->get_future();
  ex.post([ack] { ack->set_value(); });
  ack.reset();
  std::thread stopper([&] { ex.stop(); });
  // Release the first task only once stop() has begun, so the second one is certainly dropped.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!ex.stopping() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  REQUIRE(ex.stopping());
  gate.set_value();
  stopper.join();
  REQUIRE(waiting.wait_for(10s) == std::future_status::ready);
  CHECK_THROWS_AS(waiting.get(), std::future_error);
}

TEST_CASE("an inline executor runs each task at once", "[executor]") {
  inline_executor ex;
  int n = 0;
  ex.post([&] { ++n; });
  CHECK(n == 1);
}

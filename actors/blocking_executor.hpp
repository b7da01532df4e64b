#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace smsd {

/// Where blocking work (database I/O) runs, so that no CAF scheduler thread ever waits on it.
/// smsd uses threads of its own rather than CAF's detached actors: in CAF 0.17 a detached actor
/// can leave ~actor_system waiting forever in await_detached_threads (actor-framework #1196,
/// fixed only in 0.18).
class blocking_executor {
public:
  virtual ~blocking_executor() = default;
  /// Runs the task later, in order with the others.
  virtual void post(std::function<void()> task) = 0;
  /// Finishes the task in progress, drops the rest, and returns once nothing runs any more.
  virtual void stop() = 0;
};

/// One thread of our own working through a queue.
class thread_executor final : public blocking_executor {
public:
  explicit thread_executor(std::string name);
  ~thread_executor() override;
  void post(std::function<void()> task) override;
  void stop() override;
  /// Whether stop() has begun (posts are dropped from then on).
  bool stopping() const;

private:
  void run();

  std::string name_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

/// Runs each task at once, on the caller's thread: deterministic tests on CAF's test coordinator.
class inline_executor final : public blocking_executor {
public:
  void post(std::function<void()> task) override { task(); }
  void stop() override {}
};

} // namespace smsd

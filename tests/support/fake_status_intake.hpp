#pragma once

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "actors/status_intake.hpp"

namespace smsd::test {

/// A status_intake that records every report and answers as told: success (the future is
/// ready at once), failure (it holds an exception), or never (it stays pending until
/// release_pending() or the fake's destruction, which breaks the promise).
class fake_status_intake : public status_intake {
public:
  enum class answer { success, failure, never };

  void set_answer(answer a) {
    std::lock_guard<std::mutex> guard{mtx_};
    answer_ = a;
  }

  std::future<void> submit(status_report report) override {
    std::promise<void> done;
    auto result = done.get_future();
    std::lock_guard<std::mutex> guard{mtx_};
    reports_.push_back(std::move(report));
    switch (answer_) {
      case answer::success: done.set_value(); break;
      case answer::failure:
        done.set_exception(std::make_exception_ptr(std::runtime_error("fake intake failure")));
        break;
      case answer::never: pending_.push_back(std::move(done)); break;
    }
    cv_.notify_all();
    return result;
  }

  std::vector<status_report> reports() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return reports_;
  }

  std::size_t count() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return reports_.size();
  }

  /// Waits until at least n reports arrived; false if the deadline passed first.
  bool wait_for_count(std::size_t n, std::chrono::milliseconds deadline) const {
    std::unique_lock<std::mutex> guard{mtx_};
    return cv_.wait_for(guard, deadline, [&] { return reports_.size() >= n; });
  }

  /// Completes every pending report successfully.
  void release_pending() {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& p : pending_)
      p.set_value();
    pending_.clear();
  }

  void clear() {
    std::lock_guard<std::mutex> guard{mtx_};
    reports_.clear();
  }

private:
  mutable std::mutex mtx_;
  mutable std::condition_variable cv_;
  answer answer_ = answer::success;
  std::vector<status_report> reports_;
  std::vector<std::promise<void>> pending_;
};

} // namespace smsd::test

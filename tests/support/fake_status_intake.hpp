#pragma once

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "actors/status_intake.hpp"

namespace smsd::test {

/// A status_intake that records every report and answers as told: success (at once), failure,
/// or never (the report stays pending until release_pending() or the fake's destruction, which
/// tells the caller it was dropped).
class fake_status_intake : public status_intake {
public:
  enum class answer { success, failure, never };

  void set_answer(answer a) {
    std::lock_guard<std::mutex> guard{mtx_};
    answer_ = a;
  }

  using status_intake::submit;
  void submit(status_report report, durable_callback done) override {
    auto ack = std::make_shared<durable_ack>(std::move(done));
    answer a;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      reports_.push_back(std::move(report));
      a = answer_;
      if (a == answer::never)
        pending_.push_back(ack);
      cv_.notify_all();
    }
    if (a == answer::success)
      ack->succeed();
    else if (a == answer::failure)
      ack->fail("fake intake failure");
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
    std::vector<ack_ptr> pending;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      pending.swap(pending_);
    }
    for (auto& p : pending)
      p->succeed();
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
  std::vector<ack_ptr> pending_;
};

} // namespace smsd::test

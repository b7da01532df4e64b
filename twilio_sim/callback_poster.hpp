#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/form.hpp"

namespace smsd::sim {

/// One status callback to post.
struct callback_job {
  std::uint64_t generation = 0; ///< the simulator's generation (a reset cancels older ones)
  std::string message_sid;
  std::string status;
  std::string target_url; ///< where the POST goes (the StatusCallback, or it on --callback-base)
  form_params params;
  std::string signature;         ///< X-Twilio-Signature, over the StatusCallback as given
  std::string idempotency_token; ///< I-Twilio-Idempotency-Token; a duplicate repeats it
  std::chrono::milliseconds delay{0}; ///< from the moment it is scheduled
  int attempt = 1;
};

/// How a post ended.
struct callback_result {
  bool ok = false;     ///< answered 2xx
  int http_status = 0; ///< 0 when no answer came
  std::string detail;  ///< why it failed (no secrets)
};

/// Posts status callbacks on threads of its own: a timer thread releases each job when it is due
/// to a small fixed pool of workers. A message's callbacks always go to the same worker, so they
/// leave in the order they fell due. A connection that cannot be made is tried once more
/// (as Twilio does); any other failure is final.
class callback_poster {
public:
  struct options {
    int workers = 4;
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds response_timeout{15000};
    std::chrono::milliseconds retry_delay{200};
  };
  /// Called on a worker thread once per job when it is done (not for cancelled jobs).
  using result_handler = std::function<void(const callback_job&, const callback_result&)>;

  callback_poster(options opts, result_handler on_result);
  ~callback_poster();
  callback_poster(const callback_poster&) = delete;
  callback_poster& operator=(const callback_poster&) = delete;

  /// Starts the timer and worker threads.
  void start();

  /// Queues a job to post after job.delay. Ignored once stopped.
  void schedule(callback_job job);

  /// Forgets every job not yet being posted (returns how many) and zeroes the retry count.
  std::size_t reset();

  /// Jobs scheduled and not yet done (waiting, being posted, or waiting for their retry).
  std::size_t pending() const;

  /// Posts tried again because their connection failed, since start or reset.
  std::uint64_t retried() const;

  /// Cancels what waits, interrupts posts in progress and joins the threads. Idempotent.
  void stop();

private:
  struct timer_entry {
    std::chrono::steady_clock::time_point due;
    std::uint64_t seq;
    callback_job job;
  };
  struct worker;

  /// The heap order: the earliest due first, then the first scheduled.
  static bool later(const timer_entry& a, const timer_entry& b);

  void timer_loop();
  void worker_loop(worker& w);
  callback_result post(worker& w, const callback_job& job, bool& connect_failed);
  void push_timer(callback_job job, std::chrono::steady_clock::time_point due);

  options opts_;
  result_handler on_result_;
  mutable std::mutex mu_;
  std::condition_variable timer_cv_;
  std::vector<timer_entry> timers_; ///< a min-heap on (due, seq)
  std::uint64_t seq_ = 0;
  std::vector<std::unique_ptr<worker>> workers_;
  std::thread timer_thread_;
  std::size_t pending_ = 0;
  std::uint64_t epoch_ = 0; ///< bumped by reset: a job from before it is not retried
  std::uint64_t retried_ = 0;
  bool started_ = false;
  bool stopping_ = false;
};

} // namespace smsd::sim

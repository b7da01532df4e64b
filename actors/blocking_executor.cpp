#include "actors/blocking_executor.hpp"

#include <pthread.h>

namespace smsd {

thread_executor::thread_executor(std::string name) : name_(std::move(name)) {
  thread_ = std::thread([this] { run(); });
}

thread_executor::~thread_executor() {
  stop();
}

void thread_executor::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_)
      return; // dropped: whoever waits on it sees its promise broken
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void thread_executor::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable())
    thread_.join();
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    dropped.swap(tasks_);
  }
}

bool thread_executor::stopping() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return stopping_;
}

void thread_executor::run() {
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> guard{mtx_};
      cv_.wait(guard, [this] { return stopping_ || !tasks_.empty(); });
      if (stopping_)
        return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

} // namespace smsd

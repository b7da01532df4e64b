#include "actors/wal_checkpointer.hpp"

#include <memory>

#include <pthread.h>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "persistence/store.hpp"

namespace smsd {

wal_checkpointer::wal_checkpointer(std::string database_url, std::chrono::milliseconds every)
  : url_(std::move(database_url)), every_(every), thread_([this] { run(); }) {
}

wal_checkpointer::~wal_checkpointer() {
  stop();
}

void wal_checkpointer::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void wal_checkpointer::run() {
  pthread_setname_np(pthread_self(), "smsd-checkpoint");
  std::unique_ptr<store> db;
  bool failing = false; // log a run of failures once, and the recovery
  std::unique_lock<std::mutex> lock{mtx_};
  while (!cv_.wait_for(lock, every_, [this] { return stopping_; })) {
    lock.unlock();
    caf::error failure;
    if (!db) {
      auto s = open_store(url_);
      if (s)
        db = std::move(*s);
      else
        failure = s.error();
    }
    if (db) {
      auto frames = db->checkpoint_wal();
      if (frames) {
        count(counters().wal_checkpoints);
        counters().wal_frames.store(frames->in_wal, std::memory_order_relaxed);
        if (failing)
          spdlog::info("WAL checkpoints work again");
        failing = false;
      } else {
        failure = frames.error();
        if (code_of(failure) == errc::unavailable)
          db.reset();
      }
    }
    if (failure && !failing) {
      spdlog::warn("WAL checkpoint failed (commits will checkpoint as a fallback): {}",
                   describe(failure));
      failing = true;
    }
    lock.lock();
  }
}

} // namespace smsd

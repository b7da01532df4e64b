#include "persistence/store_pool.hpp"

#include <chrono>

#include "common/errors.hpp"

namespace smsd {

store_pool::store_pool(std::string database_url, int size)
  : url_(std::move(database_url)), size_(size) {
}

store_pool::lease::~lease() {
  if (pool_)
    pool_->give_back(std::move(store_));
}

void store_pool::give_back(std::unique_ptr<store> s) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (s)
    idle_.push_back(std::move(s));
  else
    --open_;
  cv_.notify_one();
}

caf::expected<store_pool::lease> store_pool::acquire(int timeout_ms) {
  std::unique_lock<std::mutex> guard{mtx_};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (idle_.empty() && open_ >= size_)
    if (cv_.wait_until(guard, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= size_)
      return make_error(errc::unavailable, "no free database connection");
  if (!idle_.empty()) {
    auto s = std::move(idle_.back());
    idle_.pop_back();
    return lease{this, std::move(s)};
  }
  ++open_;
  guard.unlock();
  auto s = open_store(url_);
  if (!s) {
    std::lock_guard<std::mutex> again{mtx_};
    --open_;
    cv_.notify_one();
    return s.error();
  }
  return lease{this, std::move(*s)};
}

} // namespace smsd

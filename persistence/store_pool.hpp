#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "persistence/store.hpp"

namespace smsd {

/// A bounded set of store connections shared by threads that may block (Poco's request
/// threads, detached actors). Connections are opened lazily and handed out one per borrower.
class store_pool {
public:
  store_pool(std::string database_url, int size);

  class lease {
  public:
    lease(store_pool* pool, std::unique_ptr<store> s) : pool_(pool), store_(std::move(s)) {}
    lease(lease&& other) noexcept
      : pool_(std::exchange(other.pool_, nullptr)), store_(std::move(other.store_)) {}
    lease& operator=(lease&&) = delete;
    ~lease();
    store* operator->() const { return store_.get(); }
    store& operator*() const { return *store_; }
    /// Drops the connection instead of returning it (after an unavailable error).
    void discard() { store_.reset(); }

  private:
    store_pool* pool_;
    std::unique_ptr<store> store_;
  };

  /// A connection, waiting up to timeout_ms for a free one; unavailable on failure.
  caf::expected<lease> acquire(int timeout_ms = 5000);

  const std::string& database_url() const { return url_; }

private:
  void give_back(std::unique_ptr<store> s);

  std::string url_;
  int size_;
  int open_ = 0;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<store>> idle_;
};

} // namespace smsd

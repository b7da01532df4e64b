#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace smsd {

/// SQLite: checkpoints the WAL (store::checkpoint_wal, PASSIVE) every `every`, on a connection
/// and a thread of its own. Without it, the connection that commits copies the WAL's pages into
/// the database file and syncs it whenever the WAL reaches its autocheckpoint size: under callback
/// load that was the commit worker, every few batches, while the next batch's requests waited
/// (docs/performance.md, issue 15). A checkpoint that fails is logged and tried again at the next
/// tick; if none succeed, the commit connections' fallback (10,000 pages) still bounds the WAL.
class wal_checkpointer {
public:
  wal_checkpointer(std::string database_url, std::chrono::milliseconds every);
  ~wal_checkpointer();

  wal_checkpointer(const wal_checkpointer&) = delete;
  wal_checkpointer& operator=(const wal_checkpointer&) = delete;

  /// Finishes the checkpoint in progress and stops the thread.
  void stop();

private:
  void run();

  std::string url_;
  std::chrono::milliseconds every_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace smsd

#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "actors/blocking_executor.hpp"
#include "actors/messages.hpp"
#include "persistence/store.hpp"

namespace smsd {

/// Writes group commits. `done` is called once per batch, on the worker's own thread (so it
/// should only hand the outcome to an actor, e.g. with anon_send).
class commit_worker {
public:
  virtual ~commit_worker() = default;
  /// One transaction for the batch; transient failures retried; a batch that fails for another
  /// reason is retried op by op so that one bad op fails alone. One outcome per op, in order.
  virtual void commit(write_batch batch, std::function<void(batch_outcome)> done) = 0;
};

/// Reads message state for message actors.
class load_worker {
public:
  virtual ~load_worker() = default;
  /// The row for the key and, when it has a SID, the events kept for that SID before the row.
  virtual void load(message_key key, std::function<void(caf::expected<loaded_state>)> done) = 0;
  /// Only the pending events of a SID.
  virtual void pending(std::string sid,
                       std::function<void(caf::expected<std::vector<status_event_record>>)> done) = 0;
};

/// Both, on one database connection used from one executor (a thread of its own in production,
/// inline in tests). The connection is opened on first use and reopened after it failed.
/// Loads that queue up while the worker is busy are read together, with one round of queries
/// (store::load_messages): under load a worker reads many message states per round trip.
class store_worker final : public commit_worker, public load_worker {
public:
  /// key_reads_only: the worker only loads (store::reads_by_key_only on every connection).
  store_worker(std::string database_url, std::unique_ptr<blocking_executor> executor,
               bool key_reads_only = false);
  ~store_worker() override;

  void commit(write_batch batch, std::function<void(batch_outcome)> done) override;
  void load(message_key key, std::function<void(caf::expected<loaded_state>)> done) override;
  void pending(std::string sid,
               std::function<void(caf::expected<std::vector<status_event_record>>)> done) override;

  /// Runs any task with this worker's connection (the pending sweep uses it).
  void run(std::function<void(caf::expected<store*>)> task);

  /// Stops the executor: the task in progress finishes, the rest are dropped.
  void stop();

private:
  caf::expected<store*> connection();
  void forget_if_unavailable(const caf::error& e);
  caf::expected<std::vector<write_result>> commit_with_retry(const write_batch& ops);
  void load_queued();

  struct queued_load {
    message_key key;
    std::function<void(caf::expected<loaded_state>)> done;
  };

  std::string url_;
  bool key_reads_only_;
  std::mutex loads_mtx_;
  std::vector<queued_load> loads_; ///< waiting for the next load round
  bool load_posted_ = false;       ///< a load round is queued on the executor
  std::unique_ptr<store> db_;
  std::unique_ptr<blocking_executor> executor_;
};

} // namespace smsd

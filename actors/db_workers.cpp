#include "actors/db_workers.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"

namespace smsd {

store_worker::store_worker(std::string database_url, std::unique_ptr<blocking_executor> executor,
                           bool key_reads_only)
  : url_(std::move(database_url)), key_reads_only_(key_reads_only), executor_(std::move(executor)) {
}

store_worker::~store_worker() {
  stop();
}

void store_worker::stop() {
  executor_->stop();
}

caf::expected<store*> store_worker::connection() {
  if (!db_) {
    auto s = open_store(url_);
    if (!s)
      return s.error();
    if (key_reads_only_) {
      try {
        (*s)->reads_by_key_only();
      } catch (const std::exception&) {
        // Not the exception's text: Poco puts the connection string, password included, in some.
        return make_error(errc::unavailable, "setting up a load connection failed (SET enable_seqscan)");
      }
    }
    db_ = std::move(*s);
  }
  return db_.get();
}

void store_worker::forget_if_unavailable(const caf::error& e) {
  // A broken connection does not heal: the next task opens a new one.
  if (code_of(e) == errc::unavailable)
    db_.reset();
}

caf::expected<std::vector<write_result>> store_worker::commit_with_retry(const write_batch& ops) {
  using namespace std::chrono;
  auto delay = milliseconds(5);
  caf::error last;
  for (int attempt = 0; attempt < 12; ++attempt) {
    if (attempt > 0) {
      // This thread is the worker's own: waiting here holds no CAF scheduler thread.
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, milliseconds(1000));
    }
    auto db = connection();
    if (!db) {
      last = db.error();
      continue;
    }
    auto res = (*db)->commit(ops);
    if (res)
      return res;
    last = res.error();
    if (code_of(last) != errc::unavailable)
      return last;
    forget_if_unavailable(last);
  }
  return last;
}

void store_worker::commit(write_batch batch, std::function<void(batch_outcome)> done) {
  executor_->post([this, batch = std::move(batch), done = std::move(done)] {
    batch_outcome out(batch.size());
    const auto started = std::chrono::steady_clock::now();
    auto res = commit_with_retry(batch);
    auto& c = counters();
    count(c.commit_micros, static_cast<std::uint64_t>(
                             std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::steady_clock::now() - started)
                               .count()));
    if (res) {
      count(c.commits);
      count(c.commit_ops, batch.size());
      for (std::size_t i = 0; i < batch.size(); ++i)
        out[i] = {true, (*res)[i], {}};
      done(std::move(out));
      return;
    }
    if (code_of(res.error()) == errc::unavailable || batch.size() == 1) {
      count(c.commit_failures);
      spdlog::error("group commit of {} ops failed: {}", batch.size(), describe(res.error()));
      for (auto& o : out)
        o.error = describe(res.error());
      done(std::move(out));
      return;
    }
    // One op may be poisoned (a constraint we did not foresee): write op by op so the others
    // still land, and only the bad one fails.
    count(c.commit_failures);
    spdlog::warn("group commit of {} ops failed ({}); writing op by op", batch.size(),
                 describe(res.error()));
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto one = commit_with_retry({batch[i]});
      if (one) {
        count(c.commits);
        count(c.commit_ops);
        out[i] = {true, (*one)[0], {}};
      } else {
        count(c.commit_failures);
        out[i].error = describe(one.error());
        spdlog::error("write of message {} failed: {}",
                      batch[i].update ? batch[i].update->message_id : std::string("(events)"),
                      out[i].error);
      }
    }
    done(std::move(out));
  });
}

void store_worker::load(message_key key, std::function<void(caf::expected<loaded_state>)> done) {
  {
    std::lock_guard<std::mutex> guard{loads_mtx_};
    loads_.push_back({std::move(key), std::move(done)});
    if (load_posted_)
      return; // the round already queued reads this one too
    load_posted_ = true;
  }
  executor_->post([this] { load_queued(); });
}

void store_worker::load_queued() {
  constexpr std::size_t max_keys = 256; // per round; the rest go in the next
  std::vector<queued_load> round;
  bool more = false;
  {
    std::lock_guard<std::mutex> guard{loads_mtx_};
    const auto n = static_cast<std::ptrdiff_t>(std::min(loads_.size(), max_keys));
    round.assign(std::make_move_iterator(loads_.begin()),
                 std::make_move_iterator(loads_.begin() + n));
    loads_.erase(loads_.begin(), loads_.begin() + n);
    more = !loads_.empty();
    load_posted_ = more;
  }
  if (more)
    executor_->post([this] { load_queued(); });
  if (round.empty())
    return;
  std::vector<message_key> keys;
  keys.reserve(round.size());
  for (const auto& l : round)
    keys.push_back(l.key);
  auto db = connection();
  if (!db) {
    for (auto& l : round)
      l.done(db.error());
    return;
  }
  count(counters().load_rounds);
  count(counters().load_keys, keys.size());
  auto states = (*db)->load_messages(keys);
  if (!states)
    forget_if_unavailable(states.error());
  for (std::size_t i = 0; i < round.size(); ++i) {
    if (states && i < states->size())
      round[i].done(std::move((*states)[i]));
    else
      round[i].done(states ? make_error(errc::database, "a load answered fewer keys")
                           : caf::expected<loaded_state>{states.error()});
  }
}

void store_worker::pending(
  std::string sid, std::function<void(caf::expected<std::vector<status_event_record>>)> done) {
  executor_->post([this, sid = std::move(sid), done = std::move(done)] {
    auto db = connection();
    if (!db)
      return done(db.error());
    auto pending = (*db)->pending_events(sid);
    if (!pending)
      forget_if_unavailable(pending.error());
    done(std::move(pending));
  });
}

void store_worker::run(std::function<void(caf::expected<store*>)> task) {
  executor_->post([this, task = std::move(task)] { task(connection()); });
}

} // namespace smsd

#include "actors/writer_actor.hpp"

#include <chrono>
#include <thread>

#include "common/errors.hpp"
#include "common/log.hpp"

namespace smsd {

namespace {

// Commits ops in one transaction, retrying transient failures (this thread is the writer's own,
// so sleeping here holds no CAF scheduler thread).
caf::expected<std::vector<write_result>> commit_with_retry(writer_state& st,
                                                           const std::vector<write_op>& ops) {
  using namespace std::chrono;
  auto delay = milliseconds(5);
  caf::error last;
  for (int attempt = 0; attempt < 12; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, milliseconds(1000));
    }
    if (!st.db) {
      auto s = open_store(st.database_url);
      if (!s) {
        last = s.error();
        continue;
      }
      st.db = std::move(*s);
    }
    auto res = st.db->commit(ops);
    if (res)
      return res;
    last = res.error();
    if (code_of(last) != errc::unavailable)
      return last;
    st.db.reset(); // reconnect: a broken connection does not heal
  }
  return last;
}

} // namespace

writer_actor::behavior_type writer_impl(writer_actor::stateful_pointer<writer_state> self,
                                        std::string database_url) {
  self->state.database_url = std::move(database_url);
  return {
    [=](commit_atom, const write_batch& batch) -> batch_outcome {
      auto& st = self->state;
      batch_outcome out(batch.size());
      auto res = commit_with_retry(st, batch);
      if (res) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
          out[i].ok = true;
          out[i].result = (*res)[i];
        }
        return out;
      }
      if (code_of(res.error()) == errc::unavailable || batch.size() == 1) {
        spdlog::error("group commit of {} ops failed: {}", batch.size(), describe(res.error()));
        for (auto& o : out)
          o.error = describe(res.error());
        return out;
      }
      // One op may be poisoned (a constraint we did not foresee): write op by op so the
      // others still land, and only the bad one fails.
      spdlog::warn("group commit of {} ops failed ({}); writing op by op", batch.size(),
                   describe(res.error()));
      for (std::size_t i = 0; i < batch.size(); ++i) {
        auto one = commit_with_retry(st, {batch[i]});
        if (one) {
          out[i].ok = true;
          out[i].result = (*one)[0];
        } else {
          out[i].error = describe(one.error());
          spdlog::error("write of message {} failed: {}",
                        batch[i].update ? batch[i].update->message_id : std::string("(events)"),
                        out[i].error);
        }
      }
      return out;
    },
  };
}

} // namespace smsd

#include "actors/persistence_actor.hpp"

#include <stdexcept>
#include <unordered_map>

#include <caf/actor_cast.hpp>

#include "common/log.hpp"

namespace smsd {

namespace {

using self_ptr = persistence_actor::stateful_pointer<persistence_state>;

/// A batch on its way: the requests it answers, and which requests each (coalesced) op carries.
struct in_flight_batch {
  std::vector<write_request> requests;
  std::vector<std::vector<std::size_t>> members; ///< per op of the batch: indexes into requests
  std::vector<std::string> messages;             ///< ids whose updates it carries
};

void dispatch(self_ptr self);

void finish(self_ptr self, const std::shared_ptr<in_flight_batch>& b, const batch_outcome* out,
            const std::string& failure) {
  auto& st = self->state;
  for (auto& id : b->messages)
    st.in_flight.erase(id);
  for (std::size_t j = 0; j < b->members.size(); ++j) {
    const op_outcome* o = out && j < out->size() ? &(*out)[j] : nullptr;
    const bool ok = o && o->ok;
    for (auto i : b->members[j]) {
      auto& r = b->requests[i];
      if (r.ack) {
        if (ok)
          r.ack->set_value();
        else
          r.ack->set_exception(std::make_exception_ptr(
            std::runtime_error(o ? o->error : failure)));
      }
      const bool unusual = !ok || !o->result.message_exists
                           || (r.expect_update && !o->result.updated);
      if (unusual && r.origin) {
        write_feedback fb;
        fb.failed = !ok;
        if (ok)
          fb.result = o->result;
        self->send(caf::actor_cast<message_actor>(r.origin), feedback_atom::value, fb);
      }
    }
  }
}

void dispatch(self_ptr self) {
  auto& st = self->state;
  while (!st.pending.empty() && !st.idle_writers.empty()) {
    auto b = std::make_shared<in_flight_batch>();
    write_batch batch;
    std::unordered_map<std::string, std::size_t> op_of_message;
    std::deque<write_request> held_back; // updates of messages already in flight elsewhere
    while (!st.pending.empty() && batch.size() < st.max_batch_ops) {
      auto r = std::move(st.pending.front());
      st.pending.pop_front();
      const std::string* msg = r.op.update ? &r.op.update->message_id : nullptr;
      if (msg && st.in_flight.count(*msg) && !op_of_message.count(*msg)) {
        held_back.push_back(std::move(r));
        continue;
      }
      const std::size_t idx = b->requests.size();
      if (msg) {
        auto it = op_of_message.find(*msg);
        if (it != op_of_message.end()) {
          // Coalesce: the later update carries the actor's newest state of the message.
          auto& op = batch[it->second];
          auto sid = op.update->message_sid;
          op.update = std::move(r.op.update);
          if (!op.update->message_sid)
            op.update->message_sid = sid;
          for (auto& e : r.op.inserts)
            op.inserts.push_back(std::move(e));
          for (auto& x : r.op.resolutions)
            op.resolutions.push_back(std::move(x));
          b->members[it->second].push_back(idx);
          b->requests.push_back(std::move(r));
          continue;
        }
        op_of_message.emplace(*msg, batch.size());
        b->messages.push_back(*msg);
        st.in_flight.insert(*msg);
      }
      batch.push_back(std::move(r.op));
      b->members.push_back({idx});
      b->requests.push_back(std::move(r));
    }
    for (auto it = held_back.rbegin(); it != held_back.rend(); ++it)
      st.pending.push_front(std::move(*it));
    if (batch.empty())
      return; // everything pending waits for a batch in flight
    auto w = st.idle_writers.back();
    st.idle_writers.pop_back();
    ++st.batches;
    st.ops += batch.size();
    self->request(w, caf::infinite, commit_atom::value, std::move(batch))
      .then(
        [=](batch_outcome& out) {
          finish(self, b, &out, {});
          self->state.idle_writers.push_back(w);
          dispatch(self);
        },
        [=](caf::error& e) {
          spdlog::error("writer failed: {}", self->system().render(e));
          finish(self, b, nullptr, "database writer unavailable");
          self->state.idle_writers.push_back(w);
          dispatch(self);
        });
  }
}

} // namespace

persistence_actor::behavior_type
persistence_impl(persistence_actor::stateful_pointer<persistence_state> self,
                 std::vector<writer_actor> writers, std::size_t max_batch_ops) {
  self->state.idle_writers = std::move(writers);
  self->state.max_batch_ops = max_batch_ops;
  return {
    [=](write_atom, write_request& r) {
      self->state.pending.push_back(std::move(r));
      dispatch(self);
    },
  };
}

} // namespace smsd

#include "actors/persistence_actor.hpp"

#include <chrono>
#include <stdexcept>
#include <unordered_map>

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include "common/log.hpp"

namespace smsd {

void answer(const batch_requests& b, const batch_outcome* out, const std::string& failure) {
  for (std::size_t j = 0; j < b.members.size(); ++j) {
    const op_outcome* o = out && j < out->size() ? &(*out)[j] : nullptr;
    const bool ok = o && o->ok;
    for (auto i : b.members[j]) {
      auto& r = b.requests[i];
      if (r.ack) {
        if (ok)
          r.ack->succeed();
        else
          r.ack->fail(o ? o->error : failure);
      }
      const bool unusual = !ok || !o->result.message_exists
                           || (r.expect_update && !o->result.updated);
      if (unusual && r.origin) {
        write_feedback fb;
        fb.failed = !ok;
        if (ok)
          fb.result = o->result;
        caf::anon_send(caf::actor_cast<message_actor>(r.origin), feedback_atom::value, fb);
      }
    }
  }
}

std::vector<message_change> committed_changes(batch_requests& b, const batch_outcome& out) {
  std::vector<message_change> changes;
  changes.reserve(b.requests.size());
  for (std::size_t j = 0; j < b.members.size() && j < out.size(); ++j) {
    if (!out[j].ok || !out[j].result.updated)
      continue;
    for (auto i : b.members[j])
      if (auto& c = b.requests[i].change)
        changes.push_back(std::move(*c));
  }
  return changes;
}

namespace {

using self_ptr = persistence_actor::stateful_pointer<persistence_state>;

void dispatch(self_ptr self) {
  auto& st = self->state;
  while (!st.pending.empty() && !st.idle_writers.empty()) {
    auto b = std::make_shared<batch_requests>();
    in_flight_batch tracked;
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
        tracked.messages.push_back(*msg);
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
    tracked.writer = st.idle_writers.back();
    st.idle_writers.pop_back();
    ++st.batches_sent;
    st.ops += batch.size();
    const auto id = st.next_batch++;
    auto& worker = *st.writers[tracked.writer];
    st.batches.emplace(id, std::move(tracked));
    // The worker answers the requests itself, on its own thread, as soon as the transaction
    // committed (no hop back through this actor on the way to the waiting HTTP thread), then
    // tells this actor that it is free again.
    const auto handed = std::chrono::steady_clock::now();
    for (auto& r : b->requests)
      if (r.ack)
        r.ack->times.at_writer = handed;
    auto me = caf::actor_cast<persistence_actor>(self);
    worker.commit(std::move(batch), [me, id, b, on_change = st.on_change](batch_outcome out) {
      if (out.size() == b->members.size()) {
        answer(*b, &out, {});
        if (on_change) {
          auto changes = committed_changes(*b, out);
          if (!changes.empty())
            on_change(std::move(changes));
        }
      } else {
        answer(*b, nullptr, "the commit worker answered for another batch");
      }
      caf::anon_send(me, committed_atom::value, id);
    });
  }
}

} // namespace

persistence_actor::behavior_type
persistence_impl(persistence_actor::stateful_pointer<persistence_state> self,
                 std::vector<std::shared_ptr<commit_worker>> writers, std::size_t max_batch_ops,
                 change_listener on_change) {
  auto& st = self->state;
  st.on_change = std::move(on_change);
  st.writers = std::move(writers);
  for (std::size_t i = 0; i < st.writers.size(); ++i)
    st.idle_writers.push_back(i);
  st.max_batch_ops = max_batch_ops;
  return {
    [=](write_atom, write_request& r) {
      self->state.pending.push_back(std::move(r));
      dispatch(self);
    },
    [=](committed_atom, std::uint64_t id) {
      auto& st = self->state;
      auto it = st.batches.find(id);
      if (it == st.batches.end())
        return;
      for (auto& m : it->second.messages)
        st.in_flight.erase(m);
      st.idle_writers.push_back(it->second.writer);
      st.batches.erase(it);
      dispatch(self);
    },
  };
}

} // namespace smsd

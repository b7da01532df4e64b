#include "actors/message_actor.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include "actors/status_machine.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"

namespace smsd {

namespace {

using self_ptr = message_actor::stateful_pointer<message_state>;

void fail_ack(const ack_ptr& ack, const std::string& why) {
  if (ack)
    ack->fail(why);
}

// `expect_update`: op.update applies what the actor holds now (its row's status), which the
// change listener hears of once committed.
void send_write(self_ptr self, write_op op, ack_ptr ack, bool expect_update) {
  write_request wr;
  wr.op = std::move(op);
  wr.ack = std::move(ack);
  wr.origin = caf::actor_cast<caf::actor>(self);
  wr.expect_update = expect_update;
  if (expect_update && self->state.row) {
    const auto& row = *self->state.row;
    wr.change = message_change{row.id, row.event_id, row.attendee_id, row.state.status};
  }
  self->send(self->state.deps.persistence, write_atom::value, std::move(wr));
}

// Once the actor knows both our id and the SID, both find it.
void register_keys(self_ptr self) {
  auto& st = self->state;
  if (!st.row)
    return;
  auto& router = *st.deps.router;
  router.alias(message_key{message_key::by_id, st.row->id}.text(), st.entry);
  if (st.row->message_sid)
    router.alias(message_key{message_key::by_sid, *st.row->message_sid}.text(), st.entry);
}

// Applies events that arrived for this SID before the row had it, oldest first.
void apply_pending(self_ptr self, std::vector<status_event_record> pending) {
  auto& st = self->state;
  if (pending.empty() || !st.row)
    return;
  std::sort(pending.begin(), pending.end(),
            [](auto& a, auto& b) { return a.received_at < b.received_at; });
  write_op op;
  bool changed = false;
  for (auto& ev : pending) {
    status_change ch{ev.provider_status, ev.error_code, std::nullopt, ev.payload, ev.received_at};
    auto res = apply_status(st.row->state, ch);
    const bool applied = res.outcome == change_outcome::applied;
    if (applied) {
      st.row->state = res.next;
      changed = true;
    }
    op.resolutions.push_back({ev.id, st.row->id, applied, disposition_of(res.outcome)});
  }
  if (changed)
    op.update = message_update{st.row->id, std::nullopt, st.row->state};
  spdlog::info("message {}: {} pending status event(s) matched", st.row->id, pending.size());
  send_write(self, std::move(op), nullptr, changed);
}

void process(self_ptr self, status_report& r, ack_ptr& ack) {
  auto& st = self->state;
  if (ack)
    ack->times.state_ready = std::chrono::steady_clock::now();
  auto ev = event_for(r);
  write_op op;
  if (!st.row) {
    // No row: either it is not written yet (keep the report until it is), or its message was
    // deleted with its event or attendee (acknowledge, recreate nothing).
    const bool orphan = st.deleted || r.message_id.has_value();
    ev.disposition = orphan ? disposition::orphan : disposition::pending;
    if (orphan)
      spdlog::info("status '{}' for {} whose message no longer exists: kept as orphan",
                   ev.provider_status, r.message_sid);
    op.inserts.push_back(std::move(ev));
    send_write(self, std::move(op), std::move(ack), false);
    return;
  }
  auto& row = *st.row;
  ev.message_id = row.id;
  if (r.send) {
    // What the Twilio request came to is written whatever the status does.
    op.send = *r.send;
    op.send->message_id = row.id;
    // A callback already proved that Twilio took it, even if its answer to us got lost.
    if (op.send->send_state == send_state::unknown && row.message_sid)
      op.send->send_state = send_state::accepted;
    row.send_state = op.send->send_state;
  } else if (!r.message_sid.empty()
             && (row.send_state == send_state::sending || row.send_state == send_state::unknown)) {
    // A callback for a send whose answer is still out (or was lost): Twilio has accepted it.
    op.send = send_update{row.id, send_state::accepted, r.message_sid, std::nullopt,
                          std::nullopt, std::nullopt, std::nullopt};
    row.send_state = send_state::accepted;
  }
  if (r.provider_status.empty()) {
    // A send that went out and got no answer: nothing to apply; reconciliation settles it.
    ev.provider_status = "unknown";
    ev.disposition = disposition::unanswered;
    op.inserts.push_back(std::move(ev));
    send_write(self, std::move(op), std::move(ack), false);
    return;
  }
  if (row.message_sid && !r.message_sid.empty() && *row.message_sid != r.message_sid) {
    spdlog::warn("message {}: report names SID {} but the row has {}; not applied", row.id,
                 r.message_sid, *row.message_sid);
    ev.disposition = disposition::anomaly;
    op.inserts.push_back(std::move(ev));
    send_write(self, std::move(op), std::move(ack), false);
    return;
  }
  status_change ch{r.provider_status, r.error_code, r.error_message, r.payload, r.received_at};
  auto res = apply_status(row.state, ch);
  const bool applied = res.outcome == change_outcome::applied;
  ev.applied = applied;
  ev.disposition = disposition_of(res.outcome);
  if (res.outcome == change_outcome::anomaly)
    spdlog::warn("message {}: '{}' after final '{}' not applied", row.id, ev.provider_status,
                 row.state.provider_status.value_or("?"));
  else if (res.outcome == change_outcome::unknown_status)
    spdlog::warn("message {}: unknown Twilio status '{}' logged, nothing changed", row.id,
                 ev.provider_status);
  if (applied) {
    message_update u{row.id, std::nullopt, res.next};
    row.state = res.next;
    if (!row.message_sid && !r.message_sid.empty()) {
      // The send result, or an early callback (it carried our id), brings the SID.
      row.message_sid = r.message_sid;
      u.message_sid = r.message_sid;
      register_keys(self);
    }
    op.update = std::move(u);
  }
  if (!applied && op.send && op.send->message_sid && !row.message_sid) {
    // A send result that came after a later status still brings the SID.
    row.message_sid = op.send->message_sid;
    register_keys(self);
  }
  op.inserts.push_back(std::move(ev));
  send_write(self, std::move(op), std::move(ack), applied);
}

void arm_idle_timer(self_ptr self) {
  auto& st = self->state;
  st.last_input = self->clock().now();
  if (!st.timer_armed) {
    st.timer_armed = true;
    self->delayed_send(self, std::chrono::milliseconds(st.deps.idle_ms), idle_atom::value);
  }
}

void start_load(self_ptr self) {
  auto& st = self->state;
  if (st.loading)
    return;
  st.loading = true;
  // The worker reads on its own thread and answers with a message.
  auto me = caf::actor_cast<message_actor>(self);
  st.deps.loader->load(st.key, [me](caf::expected<loaded_state> res) {
    load_result r;
    r.ok = static_cast<bool>(res);
    if (res)
      r.state = std::move(*res);
    else
      r.error = describe(res.error());
    caf::anon_send(me, loaded_atom::value, std::move(r));
  });
}

void on_loaded(self_ptr self, load_result& r) {
  auto& st = self->state;
  st.loading = false;
  if (!r.ok) {
    auto why = "cannot load message state: " + r.error;
    spdlog::error("{} ({})", why, st.key.text());
    for (auto& w : st.waiting)
      fail_ack(w.second, why);
    st.waiting.clear();
    return;
  }
  st.loaded = true;
  st.row = std::move(r.state.row);
  register_keys(self);
  apply_pending(self, std::move(r.state.pending));
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto& [report, ack] : waiting)
    process(self, report, ack);
}

} // namespace

status_event_record event_for(const status_report& r) {
  status_event_record ev;
  if (!r.message_sid.empty())
    ev.message_sid = r.message_sid;
  ev.provider_status = r.provider_status;
  ev.error_code = r.error_code;
  ev.source = r.source;
  if (r.idempotency_token && !r.idempotency_token->empty())
    ev.dedup_key = "token:" + *r.idempotency_token;
  else if (r.source == "send")
    ev.dedup_key = "send:" + r.message_id.value_or(r.message_sid); // one request per message
  else
    ev.dedup_key = r.source + ":" + r.message_sid + ":" + r.provider_status + ":"
                   + r.error_code.value_or("");
  ev.payload = r.payload;
  ev.received_at = r.received_at;
  return ev;
}

message_actor::behavior_type message_impl(message_actor::stateful_pointer<message_state> self,
                                          message_key key,
                                          std::shared_ptr<message_router::entry> entry,
                                          message_actor_deps deps) {
  auto& st = self->state;
  st.key = std::move(key);
  st.entry = std::move(entry);
  st.deps = std::move(deps);
  return {
    [=](report_atom, status_report& r, ack_ptr& ack) {
      auto& st = self->state;
      ++st.processed;
      arm_idle_timer(self);
      if (ack) {
        ack->times.at_actor = std::chrono::steady_clock::now();
        ack->times.waited_for_state = !st.loaded;
      }
      if (!st.loaded) {
        st.waiting.emplace_back(std::move(r), std::move(ack));
        start_load(self);
        return;
      }
      process(self, r, ack);
    },
    [=](sweep_atom) {
      auto& st = self->state;
      ++st.processed;
      arm_idle_timer(self);
      if (!st.loaded || !st.row) {
        if (st.deleted)
          return;
        // The row may have appeared since this actor looked: a fresh load brings it and the
        // pending events with it.
        st.loaded = false;
        start_load(self);
        return;
      }
      if (!st.row->message_sid)
        return;
      auto me = caf::actor_cast<message_actor>(self);
      st.deps.loader->pending(*st.row->message_sid,
                              [me](caf::expected<std::vector<status_event_record>> res) {
                                pending_result r;
                                r.ok = static_cast<bool>(res);
                                if (res)
                                  r.events = std::move(*res);
                                else
                                  r.error = describe(res.error());
                                caf::anon_send(me, pending_atom::value, std::move(r));
                              });
    },
    [=](loaded_atom, load_result& r) { on_loaded(self, r); },
    [=](pending_atom, pending_result& r) {
      if (r.ok)
        apply_pending(self, std::move(r.events));
      else
        spdlog::warn("pending sweep of {} failed: {}", self->state.key.text(), r.error);
    },
    [=](feedback_atom, write_feedback& fb) {
      auto& st = self->state;
      if (!fb.failed && !fb.result.message_exists) {
        st.row.reset();
        st.deleted = true;
        return;
      }
      // A write failed, or another writer got there first: what we hold may not be what is
      // stored. Read it again before the next report.
      st.loaded = false;
      st.row.reset();
    },
    [=](idle_atom) {
      auto& st = self->state;
      st.timer_armed = false;
      auto quiet = self->clock().now() - st.last_input;
      if (quiet >= std::chrono::milliseconds(st.deps.idle_ms) && !st.loading && st.waiting.empty()
          && st.deps.router->try_retire(st.entry, st.processed)) {
        self->quit();
        return;
      }
      st.timer_armed = true;
      self->delayed_send(self, std::chrono::milliseconds(st.deps.idle_ms), idle_atom::value);
    },
  };
}

} // namespace smsd

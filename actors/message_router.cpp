#include "actors/message_router.hpp"

#include <functional>
#include <stdexcept>

#include <caf/logger.hpp>
#include <caf/send.hpp>

#include "actors/message_actor.hpp"

namespace smsd {

message_router::message_router(caf::actor_system& sys, persistence_actor persistence,
                               std::vector<std::shared_ptr<load_worker>> loaders, int idle_ms)
  : sys_(sys), persistence_(std::move(persistence)), loaders_(std::move(loaders)),
    idle_ms_(idle_ms) {
}

template <class... Ts>
void message_router::route(const message_key& key, Ts&&... xs) {
  auto text = key.text();
  std::lock_guard<std::mutex> guard{mtx_};
  if (closed_)
    return; // the inputs (and their acks) are dropped: each ack tells its caller so
  auto& e = actors_[text];
  if (!e) {
    e = std::make_shared<entry>();
    e->keys.push_back(text);
    message_actor_deps deps{this, persistence_, loaders_[std::hash<std::string>{}(key.value) % loaders_.size()],
                            idle_ms_};
    e->handle = sys_.spawn(message_impl, key, e, std::move(deps));
    // spawn() leaves this thread (a Poco request thread, a worker) holding CAF's logger in a
    // thread-local; ~actor_system waits for every such reference, so a thread that outlives
    // the server's stop would keep it waiting forever. Let go of it at once.
    caf::logger::set_current_actor_system(nullptr);
  }
  ++e->routed;
  // Sent under the lock: once try_retire has removed an entry, nothing more reaches its actor.
  caf::anon_send(e->handle, std::forward<Ts>(xs)...);
}

void message_router::submit(status_report report, durable_callback done) {
  route_report(std::move(report), std::make_shared<durable_ack>(std::move(done)));
}

void message_router::route_report(status_report report, ack_ptr ack) {
  message_key key = report.message_id ? message_key{message_key::by_id, *report.message_id}
                                      : message_key{message_key::by_sid, report.message_sid};
  route(key, report_atom::value, std::move(report), std::move(ack));
}

void message_router::sweep(const std::string& sid) {
  route(message_key{message_key::by_sid, sid}, sweep_atom::value);
}

void message_router::alias(const std::string& key, const std::shared_ptr<entry>& e) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (closed_)
    return;
  auto it = actors_.find(key);
  if (it != actors_.end())
    return; // this actor already, or another that found the message by its other key first
  // Only an entry still registered under its first key may gain aliases.
  auto first = actors_.find(e->keys.front());
  if (first == actors_.end() || first->second != e)
    return;
  actors_.emplace(key, e);
  e->keys.push_back(key);
}

bool message_router::try_retire(const std::shared_ptr<entry>& e, std::uint64_t processed) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!closed_ && e->routed != processed)
    return false;
  for (auto& k : e->keys) {
    auto it = actors_.find(k);
    if (it != actors_.end() && it->second == e)
      actors_.erase(it);
  }
  return true;
}

void message_router::shutdown() {
  std::unordered_map<std::string, std::shared_ptr<entry>> all;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    closed_ = true;
    all.swap(actors_);
    // Handles kept here would keep the persistence actor alive after the actors stopped.
    persistence_ = nullptr;
    loaders_.clear();
  }
  for (auto& kv : all)
    if (kv.second->keys.front() == kv.first)
      caf::anon_send_exit(kv.second->handle, caf::exit_reason::user_shutdown);
  // Break the entry <-> actor state cycle.
  for (auto& kv : all)
    kv.second->handle = nullptr;
}

std::size_t message_router::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return actors_.size();
}

} // namespace smsd

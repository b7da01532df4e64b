#include "http/sms_stream_hub.hpp"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/time.hpp"
#include "http/attendee_dot.hpp"
#include "http/response.hpp"
#include "http/response_stream.hpp"

namespace smsd {

namespace {

std::string resync_frame(const std::string& id) {
  return "id: " + id + "\nevent: resync\ndata: {}\n\n";
}

// An epoch that differs from one process to the next: the start time in milliseconds, base 36.
std::string make_epoch() {
  auto n = static_cast<std::uint64_t>(now_millis());
  std::string out;
  do {
    out.insert(out.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[n % 36]);
    n /= 36;
  } while (n > 0);
  return out;
}

} // namespace

bool parse_stream_event_id(const std::string& text, std::string& epoch, std::uint64_t& seq) {
  const auto dash = text.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == text.size()
      || text.size() - dash - 1 > 19)
    return false;
  std::uint64_t n = 0;
  for (std::size_t i = dash + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9')
      return false;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  epoch = text.substr(0, dash);
  seq = n;
  return true;
}

sms_stream_hub::sms_stream_hub(attendee_counts_lookup lookup, sms_stream_settings settings)
  : lookup_(std::move(lookup)), settings_(settings), epoch_(make_epoch()) {
}

sms_stream_hub::~sms_stream_hub() {
  stop();
}

void sms_stream_hub::start() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (started_ || stopping_)
    return;
  started_ = true;
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "smsd-stream");
    run();
  });
}

void sms_stream_hub::stop() {
  std::vector<std::shared_ptr<response_stream>> open;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_)
      return;
    stopping_ = true;
    for (auto& [event, subs] : subscribers_)
      for (auto& s : subs)
        open.push_back(std::move(s.stream));
    subscribers_.clear();
    stream_count_ = 0;
    pending_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
  // Outside the lock: closing runs each stream's on_closed, which would take it.
  for (auto& s : open)
    s->close();
}

void sms_stream_hub::publish(std::vector<message_change> changes) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_)
      return;
    // The hub's thread needs waking only when a round's first change comes: with changes
    // waiting it sleeps until the round is due anyway.
    const bool was_empty = pending_.empty();
    for (auto& c : changes) {
      if (!subscribers_.count(c.event_id)) {
        mark_unseen(c.event_id); // a page that comes back with an older id must refetch
        continue;
      }
      auto& ev = pending_[c.event_id];
      auto [it, fresh] = ev.index.emplace(c.message_id, ev.changes.size());
      if (fresh)
        ev.changes.push_back(std::move(c));
      else
        ev.changes[it->second] = std::move(c); // the newest status of the message wins
      wake = was_empty;
    }
  }
  if (wake)
    cv_.notify_one();
}

std::shared_ptr<response_stream> sms_stream_hub::subscribe(
  const std::string& event_id, const std::string& last_event_id,
  std::chrono::steady_clock::time_point ends_at) {
  auto stream = std::make_shared<response_stream>(settings_.max_backlog, ends_at);
  std::lock_guard<std::mutex> guard{mtx_};
  if (stopping_)
    return nullptr;
  const std::uint64_t id = next_subscriber_++;
  // Under the lock, so that no round falls between what it catches up on and its first event.
  if (!stream->write(catch_up(event_id, last_event_id)))
    return stream; // closed already (it cannot hold what it must catch up on): never listed
  stream->on_closed([this, event_id, id] { unsubscribe(event_id, id); });
  subscribers_[event_id].push_back({id, stream});
  ++stream_count_;
  return stream;
}

std::size_t sms_stream_hub::streams() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return stream_count_;
}

void sms_stream_hub::unsubscribe(const std::string& event_id, std::uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = subscribers_.find(event_id);
  if (it == subscribers_.end())
    return;
  auto& subs = it->second;
  auto s = std::find_if(subs.begin(), subs.end(), [&](const subscriber& x) { return x.id == id; });
  if (s == subs.end())
    return;
  subs.erase(s);
  --stream_count_;
  if (subs.empty()) {
    subscribers_.erase(it);
    if (pending_.erase(event_id))
      mark_unseen(event_id); // its changes waiting for the next round go to nobody
  }
}

void sms_stream_hub::mark_unseen(const std::string& event_id) {
  unseen_[event_id] = ++seq_;
  if (unseen_.size() <= settings_.unseen_events)
    return;
  // Forget the older half; a stream resuming from before what was forgotten gets a resync.
  std::vector<std::uint64_t> seqs;
  seqs.reserve(unseen_.size());
  for (const auto& [ev, seq] : unseen_)
    seqs.push_back(seq);
  auto middle = seqs.begin() + static_cast<std::ptrdiff_t>(seqs.size() / 2);
  std::nth_element(seqs.begin(), middle, seqs.end());
  const std::uint64_t cut = *middle;
  for (auto it = unseen_.begin(); it != unseen_.end();) {
    if (it->second < cut) {
      unseen_forgotten_ = std::max(unseen_forgotten_, it->second);
      it = unseen_.erase(it);
    } else {
      ++it;
    }
  }
}

std::string sms_stream_hub::catch_up(const std::string& event_id,
                                     const std::string& last_event_id) const {
  if (last_event_id.empty())
    return ": connected\n\n"; // a new page: it has just read everything
  const std::string now_id = epoch_ + "-" + std::to_string(seq_);
  std::string epoch;
  std::uint64_t seq = 0;
  if (!parse_stream_event_id(last_event_id, epoch, seq) || epoch != epoch_ || seq > seq_)
    return resync_frame(now_id); // another process's id (a restart), or not one of ours
  const std::uint64_t oldest = history_.empty() ? seq_ + 1 : history_.front().seq;
  if (seq + 1 < oldest)
    return resync_frame(now_id); // what came after it is no longer kept
  auto unseen = unseen_.find(event_id);
  if ((unseen != unseen_.end() && unseen->second > seq) || seq < unseen_forgotten_)
    return resync_frame(now_id); // a change after it went out while no stream was open
  std::string out = ": resumed\n\n";
  for (const auto& e : history_) {
    if (e.seq <= seq || e.event_id != event_id)
      continue;
    out += e.frame;
    if (out.size() > settings_.max_backlog / 2)
      return resync_frame(now_id); // more missed than is worth replaying: refetch instead
  }
  return out;
}

void sms_stream_hub::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  auto next_round = std::chrono::steady_clock::now();
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (stopping_)
      return;
    // A round went out recently: let changes gather for the next one.
    if (cv_.wait_until(lock, next_round, [&] { return stopping_; }))
      return;
    auto round = std::move(pending_);
    pending_.clear();
    lock.unlock();
    send_round(std::move(round));
    lock.lock();
    next_round = std::chrono::steady_clock::now() + settings_.round_interval;
  }
}

void sms_stream_hub::send_round(std::unordered_map<std::string, event_changes> round) {
  for (auto& [event_id, ev] : round) {
    // Read the counts outside the lock; ids and history are assigned under it.
    std::vector<std::string> payloads;
    bool resync = ev.changes.size() > settings_.max_changes_per_round;
    if (!resync) {
      std::vector<std::string> attendees;
      for (const auto& c : ev.changes)
        if (std::find(attendees.begin(), attendees.end(), c.attendee_id) == attendees.end())
          attendees.push_back(c.attendee_id);
      auto counts = lookup_(event_id, attendees);
      if (!counts) {
        spdlog::warn("sms-stream: cannot read the counts of event {}: {}; sending resync",
                     event_id, describe(counts.error()));
        resync = true;
      } else {
        for (const auto& c : ev.changes) {
          auto found = std::find_if(counts->begin(), counts->end(),
                                    [&](const attendee_counts& a) { return a.attendee_id == c.attendee_id; });
          if (found == counts->end())
            continue; // the attendee is gone
          payloads.push_back(dump_json({{"messageId", c.message_id},
                                        {"attendeeId", c.attendee_id},
                                        {"status", c.status},
                                        {"dot", attendee_dot(*found)},
                                        {"counts", attendee_counts_json(*found)}}));
        }
      }
    }
    std::string text;
    std::vector<std::shared_ptr<response_stream>> targets;
    std::size_t events = 0;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (stopping_)
        return;
      auto subs = subscribers_.find(event_id);
      if (subs == subscribers_.end()) {
        mark_unseen(event_id); // its last stream closed meanwhile
        continue;
      }
      auto add = [&](std::string frame) {
        text += frame;
        history_.push_back({seq_, event_id, std::move(frame)});
        if (history_.size() > settings_.history)
          history_.pop_front();
        ++events;
      };
      if (resync) {
        ++seq_;
        add(resync_frame(epoch_ + "-" + std::to_string(seq_)));
      } else {
        for (auto& p : payloads) {
          ++seq_;
          add("id: " + epoch_ + "-" + std::to_string(seq_) + "\nevent: sms\ndata: " + p + "\n\n");
        }
      }
      for (auto& s : subs->second)
        targets.push_back(s.stream);
    }
    if (text.empty())
      continue;
    // Outside the lock: a write that overflows closes its stream, whose on_closed takes it.
    for (auto& s : targets)
      if (s->write(text))
        count(counters().stream_events, events);
  }
}

} // namespace smsd

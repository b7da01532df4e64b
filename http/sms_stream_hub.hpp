#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <caf/expected.hpp>

#include "actors/message_change.hpp"
#include "persistence/records.hpp"

namespace smsd {

class response_stream;

struct sms_stream_settings {
  /// Changes that come while a round of events goes out wait for the next round, at most this
  /// long after it: under load, one round carries many changes.
  std::chrono::milliseconds round_interval{250};
  /// An event with more changed messages than this in one round gets one `resync` instead of
  /// an `sms` event per message (the page refetches; no stream carries a storm).
  std::size_t max_changes_per_round = 256;
  /// Events kept for Last-Event-ID, over every event of the process.
  std::size_t history = 4096;
  /// Events whose last change went out to nobody, remembered so that a stream resuming from
  /// before it gets a resync; beyond this many the oldest are forgotten (and streams resuming
  /// from before them get a resync too).
  std::size_t unseen_events = 10000;
  /// Text waiting for a stream's connection beyond this closes the stream.
  std::size_t max_backlog = 256 * 1024;
};

/// The counts of some attendees of an event (store::attendee_counts_for), for the dots.
using attendee_counts_lookup = std::function<caf::expected<std::vector<attendee_counts>>(
  const std::string& event_id, const std::vector<std::string>& attendee_ids)>;

/// The live side of the organizer page (GET /api/events/{eventId}/sms-stream): takes the status
/// changes of each group commit (publish, from the commit workers) and sends each stream of
/// that event an `sms` event per changed message, with its attendee's dot and counts read after
/// the commit:
///
///     id: <process epoch>-<sequence>
///     event: sms
///     data: {"messageId", "attendeeId", "status", "dot", "counts": {...}}
///
/// A thread of its own does the reading and writing, in rounds: changes that arrive while a
/// round is out wait for the next one (at most round_interval later), coalesced per message.
/// The last `history` events are kept, so a stream opened with Last-Event-ID gets what it
/// missed (or, beyond half a stream's backlog of them, a resync); an id from another process, older than what is kept, or older than a change of its
/// event that went out to nobody (no stream was open) gets `event: resync` (the page
/// refetches). Nothing is read for events nobody watches.
class sms_stream_hub {
public:
  explicit sms_stream_hub(attendee_counts_lookup lookup, sms_stream_settings settings = {});
  ~sms_stream_hub();
  sms_stream_hub(const sms_stream_hub&) = delete;
  sms_stream_hub& operator=(const sms_stream_hub&) = delete;

  /// Starts the hub's thread.
  void start();

  /// Closes every stream and joins the thread; later publishes and subscribes do nothing.
  void stop();

  /// A group commit's changes. Any thread; returns at once.
  void publish(std::vector<message_change> changes);

  /// A new stream of the event's changes, which closes by itself at `ends_at`. `last_event_id`
  /// (a Last-Event-ID header, may be empty) asks for what came after it. Null once stopped.
  std::shared_ptr<response_stream> subscribe(const std::string& event_id,
                                             const std::string& last_event_id,
                                             std::chrono::steady_clock::time_point ends_at);

  /// Streams open now.
  std::size_t streams() const;

private:
  struct subscriber {
    std::uint64_t id = 0;
    std::shared_ptr<response_stream> stream;
  };
  struct sent_event {
    std::uint64_t seq = 0;
    std::string event_id;
    std::string frame;
  };
  /// One round's changes of one event: the newest change of each message, in first-seen order.
  struct event_changes {
    std::vector<message_change> changes;
    std::unordered_map<std::string, std::size_t> index; ///< message id -> position
  };

  void run();
  /// Reads the dots of a round's attendees and writes each event's frames to its streams.
  void send_round(std::unordered_map<std::string, event_changes> round);
  void unsubscribe(const std::string& event_id, std::uint64_t id);
  /// A change of the event went out to nobody. Called under mtx_.
  void mark_unseen(const std::string& event_id);
  /// What a stream opened after `last_event_id` must get first. Called under mtx_.
  std::string catch_up(const std::string& event_id, const std::string& last_event_id) const;

  const attendee_counts_lookup lookup_;
  const sms_stream_settings settings_;
  const std::string epoch_; ///< this process's part of every id

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread thread_;
  std::unordered_map<std::string, std::vector<subscriber>> subscribers_; ///< by event id
  std::size_t stream_count_ = 0;
  std::uint64_t next_subscriber_ = 1;
  std::unordered_map<std::string, event_changes> pending_; ///< by event id
  std::uint64_t seq_ = 0;
  std::deque<sent_event> history_;
  /// By event: the sequence number taken when a change of it last went out to nobody.
  std::unordered_map<std::string, std::uint64_t> unseen_;
  std::uint64_t unseen_forgotten_ = 0; ///< the highest of those forgotten
};

/// The `id:` of an sms-stream event: "<epoch>-<sequence>". Parses one of ours; false otherwise.
bool parse_stream_event_id(const std::string& text, std::string& epoch, std::uint64_t& seq);

} // namespace smsd

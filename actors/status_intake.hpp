#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "common/time.hpp"
#include "persistence/records.hpp"

namespace smsd {

/// One status report about a message, already verified (signature checked, fields present).
struct status_report {
  std::optional<std::string> message_id; ///< our id, when the callback URL carried it (?mid=)
  std::string message_sid;     ///< empty only in a send result without a SID
  std::string provider_status; ///< Twilio's word, lower case ("delivered"); empty in a send
                               ///< result whose outcome is unknown
  std::optional<std::string> error_code;
  std::optional<std::string> error_message;
  std::optional<std::string> idempotency_token; ///< I-Twilio-Idempotency-Token
  std::string source = "webhook";               ///< webhook, send, reconcile
  std::string payload = "{}";                   ///< JSON object of every field received
  millis received_at = 0;
  /// A send result (source "send") also says what the Twilio request came to.
  std::optional<send_update> send;
};

/// Told once what became of a report: `ok`, or why not. Called on whichever thread finished
/// the work (a CAF worker, or the submitting thread when the intake is closed): it must be
/// quick and must not block.
using durable_callback = std::function<void(bool ok, const std::string& why)>;

/// A report's acknowledgement on its way through the actors. Whoever completes the work calls
/// succeed() or fail() once; if every holder drops it unanswered (an actor went away), its
/// destructor tells the callback that the report was dropped. So the callback always runs,
/// exactly once.
class durable_ack {
public:
  /// When the report passed each stage on its way to the database, set by the stage that took
  /// it (one thread at a time: the ack travels with the report). succeed() adds the stages'
  /// durations to smsd_report_stage_seconds_total (docs/operations.md).
  struct timing {
    using time_point = std::chrono::steady_clock::time_point;
    time_point submitted;           ///< handed to the router (the ack's creation)
    time_point at_actor;            ///< its message actor took it
    time_point state_ready;         ///< the actor had the message's state and began applying it
    time_point at_writer;           ///< the persistence actor handed its batch to a commit worker
    bool waited_for_state = false;  ///< the actor read the state first (its first input)
  };
  timing times;

  explicit durable_ack(durable_callback done);
  ~durable_ack();
  durable_ack(const durable_ack&) = delete;
  durable_ack& operator=(const durable_ack&) = delete;

  void succeed();
  void fail(const std::string& why);

private:
  durable_callback done_; ///< empty once called
};

using ack_ptr = std::shared_ptr<durable_ack>;

/// The door from threads outside CAF (the HTTP loop, the sender, the reconciler) into the
/// message actors.
class status_intake {
public:
  virtual ~status_intake() = default;

  /// Hands a report to its message's actor. `done` runs once the report, and any change it
  /// made, is committed to the database, or once that failed (or the actor chain went away).
  virtual void submit(status_report report, durable_callback done) = 0;

  /// The same, for callers that wait: the future becomes ready when `done` would run, and holds
  /// an exception if the report was not stored. Callers wait on it with a deadline.
  std::future<void> submit(status_report report);
};

} // namespace smsd

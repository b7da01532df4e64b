#pragma once

#include <cstdint>
#include <string>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "common/time.hpp"
#include "scheduling/job.hpp"

namespace smsd {

class status_intake;
namespace twilio {
class twilio_api;
}

struct reconcile_settings {
  millis stale_after_ms = 12LL * 3600 * 1000;   ///< a message with a SID not final after this is polled
  millis window_ms = 7LL * 24 * 3600 * 1000;    ///< older messages are left alone
  millis unknown_after_ms = 15LL * 60 * 1000;   ///< a send with no answer is looked up after this
  int concurrency = 4;                          ///< Twilio calls in flight at once
  int batch_limit = 200;                        ///< candidates read per page
  int max_batches = 50;                         ///< pages per run; the rest waits for the next run
  int ack_timeout_ms = 10000;                   ///< wait for a report to be durable
  millis match_skew_ms = 2LL * 60 * 1000;       ///< Twilio's date_created may be this early
};

/// What one run did. `updated` counts messages whose row changed (status, send state or SID)
/// once their report was durable, read back from the database.
struct reconcile_result {
  std::int64_t examined = 0;       ///< candidates looked at
  std::int64_t fetched = 0;        ///< fetches Twilio answered with the message
  std::int64_t updated = 0;        ///< messages the reports changed
  std::int64_t failed_unknown = 0; ///< SIDs Twilio has no record of (404): failed
  std::int64_t attached = 0;       ///< unknown sends found in Twilio's list: SID attached
  std::int64_t not_sent = 0;       ///< unknown sends Twilio never accepted: failed, not_sent
  std::int64_t errors = 0;         ///< left for the next run (Twilio or the database failed)
  bool capped = false;             ///< stopped at max_batches with candidates left

  nlohmann::json counts_json() const;
};

/// Reconciliation (DESIGN §1, issue 5): asks Twilio about messages whose status never came
/// (stale ones, by SID) and sends whose answer never came (no SID, by listing To), and hands
/// what it learns to the message actors as reports with source "reconcile", through the same
/// state machine. It never sends anything.
class reconcile_job final : public job {
public:
  reconcile_job(reconcile_settings settings, twilio::twilio_api& twilio, status_intake& intake);

  static constexpr const char* job_name = "reconcile";
  std::string name() const override { return job_name; }

  /// The job interface: reconcile() as a job_result (outcome "ok", counts_json() as counts).
  caf::expected<job_result> run(store& db, millis now) override;

  /// One run, independent of any schedule: candidates are chosen relative to `now` (created in
  /// [now - window, now - stale_after) with a SID, or [now - window, now - unknown_after) with
  /// an unknown send). Reports carry the wall-clock time their answer came. Runs on the calling
  /// thread (plus `concurrency` threads for Twilio); `db` is used from the calling thread only.
  /// An error only when the candidates cannot be read at all; per-message failures are counted.
  caf::expected<reconcile_result> reconcile(store& db, millis now);

  const reconcile_settings& settings() const { return settings_; }

private:
  reconcile_settings settings_;
  twilio::twilio_api& twilio_;
  status_intake& intake_;
};

} // namespace smsd

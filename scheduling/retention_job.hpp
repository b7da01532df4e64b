#pragma once

#include "scheduling/job.hpp"

namespace smsd {

struct retention_settings {
  int days = 90;           ///< messages of events dated more than this long ago are deleted
  int batch_limit = 1000;  ///< rows per transaction, so no lock is held long
  int max_batches = 0;     ///< stop after this many batches (0: until done); tests use it
};

/// Retention (DESIGN §1, issue 5): deletes the status events, then the messages, of events whose
/// date is strictly before now - days, in transactions of at most batch_limit rows. Each batch
/// selects what is still there, so a run killed half-way leaves the rest to the next run, which
/// deletes nothing else. Events and attendees stay.
/// Counts: examined (rows selected), deleted_messages, deleted_events (status events), batches,
/// errors, and capped (stopped at max_batches).
class retention_job final : public job {
public:
  explicit retention_job(retention_settings settings) : settings_(settings) {}

  static constexpr const char* job_name = "retention";
  std::string name() const override { return job_name; }
  caf::expected<job_result> run(store& db, millis now) override;

  const retention_settings& settings() const { return settings_; }

private:
  retention_settings settings_;
};

} // namespace smsd

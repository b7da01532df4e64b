#include "scheduling/retention_job.hpp"

#include "common/errors.hpp"
#include "common/log.hpp"
#include "persistence/store.hpp"

namespace smsd {

caf::expected<job_result> retention_job::run(store& db, millis now) {
  const millis cutoff = now - static_cast<millis>(settings_.days) * 24 * 3600 * 1000;
  std::int64_t deleted_events = 0, deleted_messages = 0, batches = 0, errors = 0;
  bool capped = false;
  auto budget_left = [&] { return settings_.max_batches <= 0 || batches < settings_.max_batches; };
  // Status events first: a message deleted before its events would cascade them all in one
  // transaction of unbounded size.
  enum class phase { status_events, messages };
  for (auto p : {phase::status_events, phase::messages}) {
    while (errors == 0) {
      if (!budget_left()) {
        capped = true;
        break;
      }
      auto n = p == phase::status_events
                 ? db.delete_expired_status_events(cutoff, settings_.batch_limit)
                 : db.delete_expired_messages(cutoff, settings_.batch_limit);
      if (!n) {
        spdlog::warn("retention: a batch failed (the next run continues): {}", describe(n.error()));
        ++errors;
        break;
      }
      if (*n == 0)
        break;
      ++batches;
      (p == phase::status_events ? deleted_events : deleted_messages) += *n;
      if (*n < settings_.batch_limit)
        break;
    }
    if (capped || errors)
      break;
  }
  job_result r;
  r.outcome = errors ? "failed" : "ok";
  r.examined = deleted_events + deleted_messages;
  r.deleted = deleted_events + deleted_messages;
  r.errors = errors;
  r.counts = nlohmann::json{{"examined", r.examined},
                            {"deleted_messages", deleted_messages},
                            {"deleted_events", deleted_events},
                            {"batches", batches},
                            {"errors", errors},
                            {"cutoff", to_iso8601(cutoff)}};
  if (capped)
    r.counts["capped"] = true;
  return r;
}

} // namespace smsd

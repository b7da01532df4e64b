#pragma once

#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "scheduling/job_runner.hpp"
#include "scheduling/schedule.hpp"

namespace smsd {

struct job_timer_state {
  std::string job;
  schedule sched;
  clock_source clock;
  job_runner* runner = nullptr;
  millis armed_for = 0; ///< the tick the pending timer is for (0: none)
  static inline const char* name = "job_timer";
};

/// The timer of one job (the model is VAST's eraser: tick -> run -> re-arm). Ticks are computed
/// with the injectable `clock` (UTC, the schedule's arithmetic); the wait uses CAF's clock. The
/// run itself happens on the runner's worker thread for the job, never on a CAF thread.
job_timer_actor::behavior_type
job_timer_impl(job_timer_actor::stateful_pointer<job_timer_state> self, std::string job,
               schedule sched, clock_source clock, job_runner* runner);

/// Spawns and arms a timer for every job of the runner. The runner must outlive the timers.
std::vector<job_timer_actor> start_job_timers(caf::actor_system& sys, job_runner& runner);

} // namespace smsd

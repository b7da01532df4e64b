#include "scheduling/job_scheduler.hpp"

#include <algorithm>
#include <chrono>

#include <caf/send.hpp>

#include "common/log.hpp"

namespace smsd {

namespace {

void arm_after(job_timer_actor::stateful_pointer<job_timer_state> self, millis after) {
  auto& st = self->state;
  auto now = st.clock();
  auto next = next_after(st.sched, std::max(now, after));
  st.armed_for = next;
  self->delayed_send(self, std::chrono::milliseconds(std::max<millis>(0, next - now)),
                     caf::tick_atom::value, static_cast<std::int64_t>(next));
}

} // namespace

job_timer_actor::behavior_type
job_timer_impl(job_timer_actor::stateful_pointer<job_timer_state> self, std::string job,
               schedule sched, clock_source clock, job_runner* runner) {
  auto& st = self->state;
  st.job = std::move(job);
  st.sched = sched;
  st.clock = std::move(clock);
  st.runner = runner;
  return {
    [=](arm_atom) {
      // Arming twice would run each tick twice in this process (the database would refuse
      // the second claim, but there is no need to ask).
      if (self->state.armed_for == 0)
        arm_after(self, self->state.clock());
    },
    [=](caf::tick_atom, std::int64_t tick) {
      auto& st = self->state;
      if (tick != st.armed_for)
        return; // a stale timer
      st.runner->run_tick(st.job, tick);
      arm_after(self, tick);
    },
  };
}

std::vector<job_timer_actor> start_job_timers(caf::actor_system& sys, job_runner& runner) {
  std::vector<job_timer_actor> out;
  for (auto& name : runner.names()) {
    auto s = runner.schedule_of(name);
    auto clock = [&runner] { return runner.now(); };
    auto t = sys.spawn(job_timer_impl, name, *s, clock_source{clock}, &runner);
    caf::anon_send(t, arm_atom::value);
    spdlog::info("job {}: {} (UTC), next run {}", name, s->text(),
                 to_iso8601(next_after(*s, runner.now())));
    out.push_back(t);
  }
  return out;
}

} // namespace smsd

#include "actors/status_intake.hpp"

#include <stdexcept>

#include "common/metrics.hpp"

namespace smsd {

namespace {

using clock_type = std::chrono::steady_clock;

// Adds one stage's duration, if both of its ends were stamped.
void add_stage(report_stage s, clock_type::time_point from, clock_type::time_point to) {
  if (from == clock_type::time_point{} || to < from)
    return;
  auto& c = counters();
  const auto i = static_cast<std::size_t>(s);
  count(c.report_stage_micros[i], static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(to - from).count()));
  count(c.report_stage_reports[i]);
}

} // namespace

durable_ack::durable_ack(durable_callback done) : done_(std::move(done)) {
  times.submitted = clock_type::now();
}

durable_ack::~durable_ack() {
  if (done_)
    done_(false, "the report was dropped before it was stored");
}

void durable_ack::succeed() {
  const auto now = clock_type::now();
  add_stage(report_stage::to_actor, times.submitted, times.at_actor);
  if (times.waited_for_state)
    add_stage(report_stage::state_load, times.at_actor, times.state_ready);
  add_stage(report_stage::to_writer, times.state_ready, times.at_writer);
  add_stage(report_stage::commit, times.at_writer, now);
  add_stage(report_stage::total, times.submitted, now);
  if (auto done = std::move(done_)) {
    done_ = nullptr;
    done(true, std::string{});
  }
}

void durable_ack::fail(const std::string& why) {
  if (auto done = std::move(done_)) {
    done_ = nullptr;
    done(false, why);
  }
}

std::future<void> status_intake::submit(status_report report) {
  auto promise = std::make_shared<std::promise<void>>();
  auto result = promise->get_future();
  submit(std::move(report), [promise](bool ok, const std::string& why) {
    if (ok)
      promise->set_value();
    else
      promise->set_exception(std::make_exception_ptr(std::runtime_error(why)));
  });
  return result;
}

} // namespace smsd

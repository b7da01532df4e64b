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

void count_stages(const durable_ack::timing& t) {
  const auto now = clock_type::now();
  add_stage(report_stage::to_actor, t.submitted, t.at_actor);
  if (t.waited_for_state)
    add_stage(report_stage::state_load, t.at_actor, t.state_ready);
  add_stage(report_stage::to_writer, t.state_ready, t.at_writer);
  add_stage(report_stage::commit, t.at_writer, now);
  add_stage(report_stage::total, t.submitted, now);
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
  if (auto done = std::move(done_)) {
    done_ = nullptr;
    count_stages(times);
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

#include "actors/status_intake.hpp"

#include <stdexcept>

namespace smsd {

durable_ack::durable_ack(durable_callback done) : done_(std::move(done)) {
}

durable_ack::~durable_ack() {
  if (done_)
    done_(false, "the report was dropped before it was stored");
}

void durable_ack::succeed() {
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

#include "http/response_stream.hpp"

#include <utility>

namespace smsd {

response_stream::response_stream(std::size_t max_backlog, time_point ends_at)
  : max_backlog_(max_backlog), ends_at_(ends_at) {
}

bool response_stream::write(std::string_view text) {
  std::function<void()> closed_now;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_)
      return false;
    if (sink_) {
      // Under the lock, so that writes from several threads reach the loop in one order.
      sink_->data(std::string(text));
      return true;
    }
    if (waiting_.size() + text.size() <= max_backlog_) {
      waiting_.append(text);
      return true;
    }
    waiting_.clear();
    closed_now = close_locked();
  }
  if (closed_now)
    closed_now();
  return false;
}

void response_stream::close() {
  std::function<void()> closed_now;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_)
      return;
    closed_now = close_locked();
    if (sink_)
      sink_->end();
    else
      end_requested_ = true; // what was written still goes out once attached
  }
  if (closed_now)
    closed_now();
}

bool response_stream::closed() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return closed_;
}

void response_stream::on_closed(std::function<void()> callback) {
  std::lock_guard<std::mutex> guard{mtx_};
  on_closed_ = std::move(callback);
}

void response_stream::attach(std::shared_ptr<sink> s) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!waiting_.empty() && (!closed_ || end_requested_))
    s->data(std::move(waiting_));
  waiting_.clear();
  if (closed_) {
    s->end();
    return;
  }
  sink_ = std::move(s);
}

void response_stream::detach() {
  std::function<void()> closed_now;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    sink_.reset();
    waiting_.clear();
    closed_now = close_locked();
  }
  if (closed_now)
    closed_now();
}

std::function<void()> response_stream::close_locked() {
  if (closed_)
    return {};
  closed_ = true;
  return std::exchange(on_closed_, {});
}

} // namespace smsd

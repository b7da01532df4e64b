#include "twilio_sim/callback_poster.hpp"

#include <algorithm>
#include <deque>
#include <istream>
#include <ostream>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Timespan.h>
#include <spdlog/spdlog.h>

#include "twilio_sim/resources.hpp"

namespace smsd::sim {

struct callback_poster::worker {
  std::condition_variable cv;
  std::deque<callback_job> queue;
  Poco::Net::HTTPClientSession* active = nullptr; ///< the post in progress, to interrupt on stop
  std::thread thread;
};

namespace {

using clock_type = std::chrono::steady_clock;

Poco::Timespan timespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

} // namespace

callback_poster::callback_poster(options opts, result_handler on_result)
  : opts_(opts), on_result_(std::move(on_result)) {
  const int n = std::max(1, opts_.workers);
  for (int i = 0; i < n; ++i)
    workers_.push_back(std::make_unique<worker>());
}

callback_poster::~callback_poster() {
  stop();
}

void callback_poster::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_)
    return;
  started_ = true;
  timer_thread_ = std::thread([this] { timer_loop(); });
  for (auto& w : workers_)
    w->thread = std::thread([this, p = w.get()] { worker_loop(*p); });
}

bool callback_poster::later(const timer_entry& a, const timer_entry& b) {
  return a.due != b.due ? a.due > b.due : a.seq > b.seq;
}

void callback_poster::push_timer(callback_job job, clock_type::time_point due) {
  // Caller holds mu_.
  timers_.push_back(timer_entry{due, seq_++, std::move(job)});
  std::push_heap(timers_.begin(), timers_.end(), &callback_poster::later);
  timer_cv_.notify_one();
}

void callback_poster::schedule(callback_job job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_)
    return;
  const auto due = clock_type::now() + job.delay;
  ++pending_;
  push_timer(std::move(job), due);
}

std::size_t callback_poster::reset() {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t n = timers_.size();
  timers_.clear();
  for (auto& w : workers_) {
    n += w->queue.size();
    w->queue.clear();
  }
  pending_ -= n;
  ++epoch_;
  retried_ = 0;
  return n;
}

std::uint64_t callback_poster::retried() const {
  std::lock_guard<std::mutex> lock(mu_);
  return retried_;
}

std::size_t callback_poster::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_;
}

void callback_poster::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    timers_.clear();
    for (auto& w : workers_) {
      w->queue.clear();
      // Shutting the socket down wakes a worker blocked in connect, send or receive.
      if (w->active) {
        try {
          w->active->socket().shutdown();
        } catch (...) {
        }
      }
    }
  }
  timer_cv_.notify_all();
  for (auto& w : workers_)
    w->cv.notify_all();
  if (timer_thread_.joinable())
    timer_thread_.join();
  for (auto& w : workers_)
    if (w->thread.joinable())
      w->thread.join();
  std::lock_guard<std::mutex> lock(mu_);
  pending_ = 0;
}

void callback_poster::timer_loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      timer_cv_.wait(lock);
      continue;
    }
    const auto due = timers_.front().due;
    if (clock_type::now() < due) {
      timer_cv_.wait_until(lock, due);
      continue;
    }
    std::pop_heap(timers_.begin(), timers_.end(), &callback_poster::later);
    callback_job job = std::move(timers_.back().job);
    timers_.pop_back();
    // The same worker for every callback of a message keeps them in the order they fell due.
    auto& w = *workers_[std::hash<std::string>{}(job.message_sid) % workers_.size()];
    w.queue.push_back(std::move(job));
    w.cv.notify_one();
  }
}

void callback_poster::worker_loop(worker& w) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    w.cv.wait(lock, [&] { return stopping_ || !w.queue.empty(); });
    if (stopping_)
      return;
    callback_job job = std::move(w.queue.front());
    w.queue.pop_front();
    const std::uint64_t epoch = epoch_;
    lock.unlock();
    bool connect_failed = false;
    callback_result result = post(w, job, connect_failed);
    lock.lock();
    if (connect_failed && job.attempt == 1 && !stopping_ && epoch == epoch_) {
      job.attempt = 2;
      ++retried_;
      push_timer(std::move(job), clock_type::now() + opts_.retry_delay);
      continue;
    }
    lock.unlock();
    if (!result.ok)
      spdlog::warn("twilio_sim: callback {} for {} failed: {}", job.status, job.message_sid,
                   result.detail);
    try {
      on_result_(job, result);
    } catch (const std::exception& e) {
      spdlog::error("twilio_sim: recording a callback result failed: {}", e.what());
    }
    lock.lock();
    // Counted down only after the result is recorded: whoever sees nothing pending sees it all.
    if (pending_ > 0)
      --pending_;
  }
}

callback_result callback_poster::post(worker& w, const callback_job& job, bool& connect_failed) {
  callback_result result;
  const auto url = split_http_url(job.target_url);
  if (!url || url->scheme != "http") {
    result.detail = "only http:// callback URLs can be posted (give --callback-base for https)";
    return result;
  }
  Poco::Net::HTTPClientSession session(url->host, url->port);
  session.setTimeout(timespan(opts_.connect_timeout), timespan(opts_.response_timeout),
                     timespan(opts_.response_timeout));
  session.setKeepAlive(false);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      result.detail = "stopped";
      return result;
    }
    w.active = &session;
  }
  bool connecting = true;
  try {
    std::string target = url->path_and_query;
    if (target.empty() || target.front() != '/')
      target.insert(0, "/");
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, target,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    const std::string body = form_encode(job.params);
    request.setContentType("application/x-www-form-urlencoded");
    request.setContentLength64(static_cast<Poco::Int64>(body.size()));
    request.set("X-Twilio-Signature", job.signature);
    request.set("I-Twilio-Idempotency-Token", job.idempotency_token);
    request.set("User-Agent", "TwilioProxy/1.1");
    request.setKeepAlive(false);
    // sendRequest connects and writes the header: a failure there means no connection was made.
    std::ostream& out = session.sendRequest(request);
    connecting = false;
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
    out.flush();
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    char buf[4096];
    std::size_t total = 0;
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      total += static_cast<std::size_t>(in.gcount());
      if (total > (1u << 20))
        break; // the receiver's answer does not matter beyond its status
    }
    result.http_status = static_cast<int>(response.getStatus());
    result.ok = result.http_status >= 200 && result.http_status < 300;
    if (!result.ok)
      result.detail = "answered " + std::to_string(result.http_status);
  } catch (const Poco::Exception& e) {
    connect_failed = connecting;
    result.detail = (connecting ? "cannot connect: " : "") + e.displayText();
  } catch (const std::exception& e) {
    connect_failed = connecting;
    result.detail = e.what();
  }
  std::lock_guard<std::mutex> lock(mu_);
  w.active = nullptr;
  return result;
}

} // namespace smsd::sim

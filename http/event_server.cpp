#include "http/event_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <Poco/Net/HTTPResponse.h>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "http/errors.hpp"
#include "http/response_stream.hpp"

namespace smsd {

namespace {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;

// epoll data of the two descriptors that are not connections.
constexpr std::uint64_t listen_key = 0;
constexpr std::uint64_t wake_key = 1;
// How often a loop looks for connections past their deadline.
constexpr auto sweep_every = std::chrono::milliseconds(200);
// A connection closing while the client may still send reads this much at most, this long.
constexpr std::size_t drain_bytes = 1 << 20;
constexpr auto drain_time = std::chrono::milliseconds(2000);
// Unparsed input kept (at least; a whole request of the largest size allowed always fits):
// beyond it the loop parses before reading on, and stops reading a connection whose request is
// being answered (pipelined requests) until the answer is out.
constexpr std::size_t max_buffered = 256 * 1024;
// Connections taken per wake-up of the listening socket, so that one loop cannot starve.
constexpr int accepts_per_wake = 64;

std::string errno_text(int e) {
  return std::strerror(e);
}

std::string peer_text(const sockaddr_storage& a) {
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (a.ss_family == AF_INET6) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(&a);
    ::inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
    port = ntohs(in->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return "?";
}

// An answer on its way back to the loop that owns the connection, or more of a streamed one.
struct completion {
  enum class kind : std::uint8_t {
    answer,      // the request's answer (`response`)
    stream_data, // text written to the answer's stream
    stream_end,  // the stream's producer ended it
  };
  std::uint64_t conn = 0;
  std::uint64_t seq = 0;
  http_response response;
  kind what = kind::answer;
  std::string text;

  static completion answer(std::uint64_t conn, std::uint64_t seq, http_response r) {
    completion c;
    c.conn = conn;
    c.seq = seq;
    c.response = std::move(r);
    return c;
  }
};

// Where handler threads and async handlers leave answers for a loop. Shared with every
// responder, so that an answer arriving after the loop stopped is dropped, not written to
// freed memory.
class mailbox {
public:
  mailbox() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  }
  ~mailbox() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  mailbox(const mailbox&) = delete;
  mailbox& operator=(const mailbox&) = delete;

  int fd() const { return fd_; }

  void post(completion c) {
    bool wake;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (closed_)
        return;
      wake = items_.empty();
      items_.push_back(std::move(c));
    }
    // Only the first answer since the loop last emptied the box wakes it: the loop takes all.
    if (wake)
      notify();
  }

  void notify() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
  }

  void take(std::vector<completion>& out) {
    std::lock_guard<std::mutex> guard{mtx_};
    out.swap(items_);
  }

  void close() {
    std::lock_guard<std::mutex> guard{mtx_};
    closed_ = true;
    items_.clear();
  }

private:
  int fd_;
  std::mutex mtx_;
  std::vector<completion> items_;
  bool closed_ = false;
};

// The threads that run blocking routes.
class handler_pool {
public:
  void start(int threads) {
    for (int i = 0; i < threads; ++i)
      threads_.emplace_back([this, i] {
        ::pthread_setname_np(::pthread_self(), ("smsd-http-" + std::to_string(i)).substr(0, 15).c_str());
        run();
      });
  }

  void post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (stopping_)
        return;
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

  // Lets running tasks finish, drops queued ones, joins.
  void stop() {
    std::deque<std::function<void()>> dropped;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      stopping_ = true;
      dropped.swap(tasks_);
    }
    cv_.notify_all();
    for (auto& t : threads_)
      if (t.joinable())
        t.join();
    threads_.clear();
  }

private:
  void run() {
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> guard{mtx_};
        cv_.wait(guard, [&] { return stopping_ || !tasks_.empty(); });
        if (stopping_)
          return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

http_response run_blocking(const route_handler& handler, const request_context& ctx) {
  try {
    return handler(ctx);
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", ctx.method, ctx.path, e.what());
  } catch (...) {
    spdlog::error("{} {}: unknown exception", ctx.method, ctx.path);
  }
  auto out = error_response(500, "internal error");
  out.close = true;
  return out;
}

enum class phase {
  idle,     // between requests (keep-alive)
  head,     // a request's head is arriving
  body,     // its body is arriving
  busy,      // a handler is working on it
  streaming, // its answer is a stream (Server-Sent Events); written until either side ends it
  draining,  // the answer is out (or going); reading what the client still sends, then close
};

struct connection {
  int fd = -1;
  std::uint64_t id = 0;
  std::string peer;
  phase state = phase::idle;
  time_point deadline;

  std::string in;
  std::size_t in_pos = 0; // parsed up to here
  bool read_paused = false;
  bool peer_closed = false;

  std::string out;
  std::size_t out_pos = 0;
  bool close_after_write = false;

  // The request being read or answered.
  std::uint64_t seq = 0;
  request_head head;
  body_framing framing;
  chunked_decoder chunks;
  std::string body;
  bool too_large = false;
  bool expect_continue = false;
  bool continue_sent = false;
  bool keep_alive = true;
  bool head_method = false;
  int minor_version = 1;
  const async_route* pending_async = nullptr; // the async route answering, for its timeout
  time_point started;

  bool shut_down = false; // our FIN is sent; draining
  std::size_t drained = 0;

  std::shared_ptr<response_stream> stream; // while streaming
  time_point next_heartbeat;
};

// Where an attached response_stream writes: the mailbox of the loop that owns its connection.
class loop_sink final : public response_stream::sink {
public:
  loop_sink(std::shared_ptr<mailbox> box, std::uint64_t conn, std::uint64_t seq)
    : box_(std::move(box)), conn_(conn), seq_(seq) {
  }
  void data(std::string text) override {
    post(completion::kind::stream_data, std::move(text));
  }
  void end() override {
    post(completion::kind::stream_end, {});
  }

private:
  void post(completion::kind what, std::string text) {
    completion c;
    c.conn = conn_;
    c.seq = seq_;
    c.what = what;
    c.text = std::move(text);
    box_->post(std::move(c));
  }

  std::shared_ptr<mailbox> box_;
  std::uint64_t conn_;
  std::uint64_t seq_;
};

} // namespace

struct loop_shared {
  std::shared_ptr<const router> routes;
  event_server_options opts;
  handler_pool pool;
  std::atomic<int> open{0};
  int listen_fd = -1;
};

namespace {

class event_loop {
public:
  explicit event_loop(loop_shared& shared)
    : shared_(shared), box_(std::make_shared<mailbox>()),
      // A whole request of the largest size allowed always fits.
      buffer_cap_(std::max(max_buffered, shared.opts.max_body_bytes + shared.opts.limits.max_head
                                           + 4096)) {
  }

  ~event_loop() {
    if (epfd_ >= 0)
      ::close(epfd_);
  }

  caf::error init(bool exclusive_accept) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0 || box_->fd() < 0)
      return make_error(errc::internal, "epoll: " + errno_text(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = wake_key;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, box_->fd(), &ev) != 0)
      return make_error(errc::internal, "epoll: " + errno_text(errno));
    exclusive_ = exclusive_accept;
    if (!watch_listen())
      return make_error(errc::internal, "epoll: " + errno_text(errno));
    return caf::none;
  }

  void start(int index) {
    thread_ = std::thread([this, index] {
      ::pthread_setname_np(::pthread_self(), ("smsd-loop-" + std::to_string(index)).c_str());
      run();
    });
  }

  void request_stop() {
    stop_.store(true);
    box_->notify();
  }

  void join() {
    if (thread_.joinable())
      thread_.join();
  }

private:
  bool watch_listen() {
    epoll_event ev{};
    ev.events = EPOLLIN | (exclusive_ ? EPOLLEXCLUSIVE : 0u);
    ev.data.u64 = listen_key;
    return ::epoll_ctl(epfd_, EPOLL_CTL_ADD, shared_.listen_fd, &ev) == 0;
  }

  void run() {
    std::vector<epoll_event> events(256);
    std::vector<completion> answers;
    auto next_sweep = clock_type::now() + sweep_every;
    while (!stop_.load()) {
      const int n = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()),
                                 static_cast<int>(sweep_every.count()));
      if (n < 0 && errno != EINTR) {
        spdlog::error("http: epoll_wait: {}", errno_text(errno));
        break;
      }
      now_ = clock_type::now();
      for (int i = 0; i < n; ++i) {
        const auto key = events[static_cast<std::size_t>(i)].data.u64;
        const auto what = events[static_cast<std::size_t>(i)].events;
        if (key == listen_key) {
          accept_some();
        } else if (key == wake_key) {
          std::uint64_t count;
          [[maybe_unused]] auto r = ::read(box_->fd(), &count, sizeof count);
        } else {
          on_event(key, what);
        }
      }
      box_->take(answers);
      for (auto& a : answers)
        deliver(a);
      answers.clear();
      if (now_ >= next_sweep) {
        sweep();
        next_sweep = now_ + sweep_every;
      }
    }
    box_->close();
    for (auto& [id, c] : conns_) {
      ::close(c->fd);
      release_stream(*c);
    }
    shared_.open.fetch_sub(static_cast<int>(conns_.size()));
    conns_.clear();
  }

  // ---- accepting

  void accept_some() {
    if (accept_paused_)
      return;
    for (int i = 0; i < accepts_per_wake; ++i) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      const int fd = ::accept4(shared_.listen_fd, reinterpret_cast<sockaddr*>(&addr), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED)
          continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: stop watching the socket for a while instead of spinning.
          spdlog::warn("http: cannot accept a connection: {}; pausing accepts for 1 s",
                       errno_text(errno));
          ::epoll_ctl(epfd_, EPOLL_CTL_DEL, shared_.listen_fd, nullptr);
          accept_paused_ = true;
          accept_resume_ = now_ + std::chrono::seconds(1);
        }
        return;
      }
      if (shared_.open.load() >= shared_.opts.max_connections) {
        spdlog::warn("http: {} connections open (SMSD_HTTP_MAX_CONNECTIONS); closing a new one",
                     shared_.open.load());
        ::close(fd);
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<connection>();
      c->fd = fd;
      c->id = next_id_++;
      c->peer = peer_text(addr);
      c->deadline = now_ + shared_.opts.idle_timeout;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      ev.data.u64 = c->id;
      if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        continue;
      }
      shared_.open.fetch_add(1);
      conns_.emplace(c->id, std::move(c));
    }
  }

  // ---- events

  void on_event(std::uint64_t id, std::uint32_t what) {
    auto it = conns_.find(id);
    if (it == conns_.end())
      return;
    connection& c = *it->second;
    if (what & EPOLLERR) {
      close_connection(c);
      return;
    }
    if (what & EPOLLOUT) {
      if (!flush(c))
        return;
    }
    if (what & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
      on_readable(c);
  }

  // Reads what has arrived (edge-triggered: until EAGAIN, or until max_buffered is waiting to
  // be parsed), then moves the connection on. Returns false if the connection was closed.
  bool on_readable(connection& c) {
    while (true) {
      if (c.state == phase::draining)
        return drain(c);
      if (c.state == phase::streaming)
        return discard_input(c);
      bool full = false;
      while (true) {
        if (c.in.size() - c.in_pos >= buffer_cap_) {
          full = true;
          break;
        }
        const ssize_t n = ::recv(c.fd, buffer_, sizeof buffer_, 0);
        if (n > 0) {
          c.in.append(buffer_, static_cast<std::size_t>(n));
          continue;
        }
        if (n == 0) {
          c.peer_closed = true;
          break;
        }
        if (errno == EINTR)
          continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          break;
        close_connection(c);
        return false;
      }
      if (!advance(c))
        return false;
      if (!full)
        return true;
      if (c.state == phase::busy) {
        c.read_paused = true; // read again once the answer is out (resume)
        return true;
      }
      // advance() consumed some of a full buffer: read on.
    }
  }

  // Parses and dispatches what the buffer holds, one request at a time.
  bool advance(connection& c) {
    const auto& opts = shared_.opts;
    while (c.state == phase::idle || c.state == phase::head || c.state == phase::body) {
      std::string_view pending(c.in.data() + c.in_pos, c.in.size() - c.in_pos);
      if (c.state == phase::idle) {
        if (pending.empty())
          break;
        c.state = phase::head;
        c.started = now_;
        c.deadline = now_ + opts.io_timeout;
      }
      if (c.state == phase::head) {
        const head_parse r = parse_head(pending, opts.limits, c.head);
        if (r.result == head_parse::state::incomplete)
          break;
        if (r.result == head_parse::state::invalid) {
          c.minor_version = 1;
          c.head_method = false;
          return refuse(c, r.status, r.error);
        }
        c.in_pos += r.consumed;
        if (!begin_body(c))
          return false;
        continue;
      }
      if (c.state == phase::body) {
        if (c.framing.type == body_framing::kind::length) {
          if (pending.size() >= c.framing.length) {
            const auto len = static_cast<std::size_t>(c.framing.length);
            c.body.assign(pending.data(), len);
            c.in_pos += len;
            if (!dispatch(c))
              return false;
          } else {
            send_continue(c);
            break;
          }
        } else { // chunked
          std::size_t used = 0;
          const auto s = c.chunks.feed(pending, used, c.body, opts.max_body_bytes);
          c.in_pos += used;
          if (s == chunked_decoder::state::done) {
            if (!dispatch(c))
              return false;
          } else if (s == chunked_decoder::state::more) {
            send_continue(c);
            break;
          } else if (s == chunked_decoder::state::too_large) {
            c.too_large = true;
            c.body.clear();
            if (!dispatch(c))
              return false;
          } else {
            return refuse(c, 400, "could not read the request body");
          }
        }
      }
    }
    compact(c);
    if (c.peer_closed && (c.state == phase::idle || c.state == phase::head
                          || c.state == phase::body)) {
      // The client sent all it will; a request cut short gets no answer.
      if (c.out_pos >= c.out.size()) {
        close_connection(c);
        return false;
      }
      c.close_after_write = true;
      c.state = phase::draining;
    }
    return true;
  }

  // After a complete head: decides how the body is framed, and dispatches a request without
  // one. Returns false if the connection was closed.
  bool begin_body(connection& c) {
    const auto& opts = shared_.opts;
    c.minor_version = c.head.minor_version;
    c.head_method = c.head.method == "HEAD";
    const std::string* conn_header = c.head.headers.find("Connection");
    auto has_token = [&](std::string_view token) {
      if (!conn_header)
        return false;
      std::string_view rest = *conn_header;
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
          item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
          item.remove_suffix(1);
        if (iequals(item, token))
          return true;
        if (comma == std::string_view::npos)
          break;
        rest.remove_prefix(comma + 1);
      }
      return false;
    };
    c.keep_alive = c.minor_version >= 1 ? !has_token("close") : has_token("keep-alive");
    c.framing = framing_of(c.head.headers);
    if (c.framing.type == body_framing::kind::invalid)
      return refuse(c, c.framing.status, c.framing.error);
    const std::string* expect = c.head.headers.find("Expect");
    c.expect_continue = c.minor_version >= 1 && expect && iequals(*expect, "100-continue");
    c.continue_sent = false;
    c.too_large = false;
    c.body.clear();
    c.chunks = chunked_decoder{};
    if (c.framing.type == body_framing::kind::none)
      return dispatch(c);
    if (c.framing.type == body_framing::kind::length
        && c.framing.length > opts.max_body_bytes) {
      // Not read at all: the handler decides (a 413, or an earlier refusal), then the
      // connection drains and closes. No 100 Continue is sent for it.
      c.too_large = true;
      return dispatch(c);
    }
    c.state = phase::body;
    return true;
  }

  void send_continue(connection& c) {
    if (!c.expect_continue || c.continue_sent)
      return;
    c.continue_sent = true;
    c.out.append("HTTP/1.1 100 Continue\r\n\r\n");
    flush(c);
  }

  // Answers a request that could not be read, then closes. Returns false if the connection
  // was closed already.
  bool refuse(connection& c, int status, const std::string& why) {
    c.state = phase::busy;
    ++c.seq;
    c.keep_alive = false;
    auto r = error_response(status, why);
    r.close = true;
    return finish(c, std::move(r));
  }

  // Hands a complete request to its route. Returns false if the connection was closed (only
  // an answer given at once can do that).
  bool dispatch(connection& c) {
    c.state = phase::busy;
    c.deadline = time_point::max();
    const std::uint64_t seq = ++c.seq;
    request_context ctx;
    ctx.method = std::move(c.head.method);
    ctx.target = std::move(c.head.target);
    std::tie(ctx.path, ctx.query) = split_target(ctx.target);
    ctx.headers = std::move(c.head.headers);
    ctx.peer = c.peer;
    ctx.body = std::move(c.body);
    ctx.body_too_large = c.too_large;
    c.body.clear();
    auto m = shared_.routes->find(ctx.method, ctx.path);
    if (m.async_handler) {
      ctx.params = std::move(m.params);
      c.pending_async = m.async_handler;
      c.deadline = now_ + m.async_handler->timeout;
      responder respond = [box = box_, id = c.id, seq](http_response r) {
        box->post(completion::answer(id, seq, std::move(r)));
      };
      try {
        m.async_handler->handler(ctx, std::move(respond));
      } catch (const std::exception& e) {
        spdlog::error("{} {}: {}", ctx.method, ctx.path, e.what());
        auto r = error_response(500, "internal error");
        r.close = true;
        box_->post(completion::answer(c.id, seq, std::move(r)));
      }
      return true;
    }
    if (m.handler) {
      ctx.params = std::move(m.params);
      shared_.pool.post([handler = m.handler, ctx = std::move(ctx), box = box_, id = c.id, seq] {
        box->post(completion::answer(id, seq, run_blocking(*handler, ctx)));
      });
      return true;
    }
    return finish(c, router::failure_response(m));
  }

  void deliver(completion& a) {
    auto it = conns_.find(a.conn);
    connection* c = it == conns_.end() ? nullptr : it->second.get();
    if (c && c->seq != a.seq)
      c = nullptr; // an answer to an earlier request (answered already: a timeout)
    switch (a.what) {
      case completion::kind::answer:
        if (!c || c->state != phase::busy) {
          if (a.response.stream)
            a.response.stream->detach(); // nobody to stream to
          return;
        }
        if (finish(*c, std::move(a.response)))
          resume(*c);
        return;
      case completion::kind::stream_data:
        if (c && c->state == phase::streaming)
          stream_out(*c, a.text);
        return;
      case completion::kind::stream_end:
        if (c && c->state == phase::streaming)
          end_stream(*c);
        return;
    }
  }

  // Queues streamed text, or drops a client that does not read it: more than stream_backlog
  // bytes unsent closes the connection. Returns false if the connection was closed.
  bool stream_out(connection& c, std::string_view text) {
    if (c.out.size() - c.out_pos + text.size() > shared_.opts.stream_backlog) {
      spdlog::warn("http: {} reads its event stream too slowly ({} bytes unsent); closing it",
                   c.peer, c.out.size() - c.out_pos);
      count(counters().streams_dropped);
      close_connection(c);
      return false;
    }
    c.out.append(text);
    return flush(c);
  }

  // The stream is over (its producer ended it, or its time is up): what was written goes out,
  // then the connection closes.
  void end_stream(connection& c) {
    release_stream(c);
    c.close_after_write = true;
    c.state = phase::draining;
    c.deadline = now_ + shared_.opts.io_timeout;
    flush(c);
  }

  // A streaming connection reads only to notice the client leaving; what it sends is dropped.
  bool discard_input(connection& c) {
    while (true) {
      const ssize_t n = ::recv(c.fd, buffer_, sizeof buffer_, 0);
      if (n > 0)
        continue;
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return true;
      close_connection(c); // the client closed, or an error
      return false;
    }
  }

  // After an answer given outside advance(): reads and parses what waited behind it.
  void resume(connection& c) {
    if (c.state != phase::idle)
      return;
    if (c.read_paused) {
      c.read_paused = false;
      on_readable(c);
    } else {
      advance(c);
    }
  }

  // Writes the answer of the request in progress and readies the connection for the next one,
  // or for closing. Returns false if the connection was closed.
  bool finish(connection& c, http_response r) {
    c.pending_async = nullptr;
    if (r.status >= 100 && r.status < process_counters::max_status)
      count(counters().http_responses[r.status]);
    if (r.stream)
      return start_stream(c, std::move(r));
    const bool close = r.close || !c.keep_alive || c.too_large || c.peer_closed;
    if (spdlog::should_log(spdlog::level::debug))
      spdlog::debug("{} {} {:.1f}ms", c.peer, r.status,
                    std::chrono::duration<double, std::milli>(now_ - c.started).count());
    render(c, r, close);
    c.too_large = false;
    if (close) {
      c.close_after_write = true;
      c.state = phase::draining;
      c.deadline = now_ + shared_.opts.io_timeout;
      return flush(c);
    }
    c.state = phase::idle;
    c.deadline = now_ + shared_.opts.idle_timeout;
    if (!flush(c))
      return false;
    if (c.out_pos < c.out.size())
      c.deadline = now_ + shared_.opts.io_timeout;
    return true;
  }

  // Writes a streamed answer's head and first text, then attaches its stream: what is written
  // to it from now on arrives through the mailbox (stream_data). Its body lasts until the
  // connection closes, so no request after it on this connection is read.
  bool start_stream(connection& c, http_response r) {
    if (c.peer_closed || c.head_method) {
      r.stream->detach();
      r.stream.reset();
      r.close = true;
      return finish(c, std::move(r));
    }
    render(c, r, true);
    c.stream = r.stream;
    count(counters().streams_opened);
    counters().streams_open.fetch_add(1, std::memory_order_relaxed);
    c.state = phase::streaming;
    c.deadline = c.stream->ends_at();
    c.next_heartbeat = now_ + shared_.opts.stream_heartbeat;
    c.in.clear();
    c.in_pos = 0;
    if (!flush(c))
      return false;
    c.stream->attach(std::make_shared<loop_sink>(box_, c.id, c.seq));
    return true;
  }

  void render(connection& c, const http_response& r, bool close) {
    std::string& o = c.out;
    if (c.out_pos == o.size()) {
      o.clear();
      c.out_pos = 0;
    }
    const bool no_body = r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200);
    o.append("HTTP/1.1 ");
    o.append(std::to_string(r.status));
    o.push_back(' ');
    o.append(Poco::Net::HTTPResponse::getReasonForStatus(
      static_cast<Poco::Net::HTTPResponse::HTTPStatus>(r.status)));
    o.append("\r\nDate: ");
    o.append(http_date());
    o.append("\r\n");
    if (!no_body) {
      if (!r.content_type.empty()) {
        o.append("Content-Type: ");
        o.append(r.content_type);
        o.append("\r\n");
      }
      if (!r.stream) { // a stream's body ends when the connection closes
        o.append("Content-Length: ");
        o.append(std::to_string(r.body.size()));
        o.append("\r\n");
      }
    }
    // Answers are not cached unless the handler says otherwise (the organizer page's assets).
    const bool own_cache_control =
      std::any_of(r.headers.begin(), r.headers.end(),
                  [](const auto& h) { return iequals(h.first, "Cache-Control"); });
    if (!own_cache_control)
      o.append("Cache-Control: no-store\r\n");
    for (const auto& [name, value] : r.headers) {
      o.append(name);
      o.append(": ");
      o.append(value);
      o.append("\r\n");
    }
    if (close)
      o.append("Connection: close\r\n");
    else if (c.minor_version == 0)
      o.append("Connection: keep-alive\r\n");
    o.append("\r\n");
    if (!no_body && !c.head_method)
      o.append(r.body);
  }

  // Sends what is queued. Returns false if the connection was closed.
  bool flush(connection& c) {
    while (c.out_pos < c.out.size()) {
      const ssize_t n = ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos,
                               MSG_NOSIGNAL);
      if (n > 0) {
        c.out_pos += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return true; // EPOLLOUT will call again
      close_connection(c);
      return false;
    }
    c.out.clear();
    c.out_pos = 0;
    if (c.close_after_write && c.state == phase::draining && !c.shut_down) {
      // Our answer is out: say so (FIN), then read until the client closes too.
      ::shutdown(c.fd, SHUT_WR);
      c.shut_down = true;
      c.deadline = now_ + drain_time;
      c.in.clear();
      c.in_pos = 0;
      if (c.peer_closed) {
        close_connection(c);
        return false;
      }
      return drain(c);
    }
    return true;
  }

  bool drain(connection& c) {
    if (!c.shut_down)
      return true; // the answer first
    while (true) {
      const ssize_t n = ::recv(c.fd, buffer_, sizeof buffer_, 0);
      if (n > 0) {
        c.drained += static_cast<std::size_t>(n);
        if (c.drained > drain_bytes) {
          close_connection(c);
          return false;
        }
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return true;
      close_connection(c); // the client's FIN, or an error
      return false;
    }
  }

  void compact(connection& c) {
    if (c.in_pos == c.in.size()) {
      c.in.clear();
      c.in_pos = 0;
    } else if (c.in_pos > 64 * 1024) {
      c.in.erase(0, c.in_pos);
      c.in_pos = 0;
    }
  }

  void sweep() {
    if (accept_paused_ && now_ >= accept_resume_) {
      accept_paused_ = !watch_listen();
      if (!accept_paused_)
        accept_some();
    }
    std::vector<std::uint64_t> expired;
    std::vector<std::uint64_t> heartbeats;
    for (auto& [id, c] : conns_) {
      if (c->deadline <= now_)
        expired.push_back(id);
      else if (c->state == phase::streaming && c->next_heartbeat <= now_)
        heartbeats.push_back(id);
    }
    for (auto id : heartbeats) {
      auto it = conns_.find(id);
      if (it == conns_.end())
        continue;
      it->second->next_heartbeat = now_ + shared_.opts.stream_heartbeat;
      stream_out(*it->second, ": ping\n\n");
    }
    for (auto id : expired) {
      auto it = conns_.find(id);
      if (it == conns_.end())
        continue;
      connection& c = *it->second;
      if (c.state == phase::streaming) {
        end_stream(c); // its time is up (the token that opened it expired)
      } else if (c.state == phase::busy && c.pending_async) {
        const async_route* route = c.pending_async;
        spdlog::warn("http: no answer for {} within {} ms; answering {}", c.peer,
                     route->timeout.count(), route->on_timeout.status);
        if (finish(c, route->on_timeout))
          resume(c);
      } else {
        close_connection(c); // idle too long, a request too slow to arrive, or a stuck write
      }
    }
  }

  // The connection streams no more: its stream is told (and closes, if it had not).
  void release_stream(connection& c) {
    if (!c.stream)
      return;
    c.stream->detach();
    c.stream.reset();
    counters().streams_open.fetch_sub(1, std::memory_order_relaxed);
  }

  void close_connection(connection& c) {
    release_stream(c);
    ::close(c.fd);
    shared_.open.fetch_sub(1);
    conns_.erase(c.id); // destroys c
  }

  // The Date header's value, formatted once per second.
  const std::string& http_date() {
    const std::time_t t = std::time(nullptr);
    if (t != date_time_) {
      std::tm tm{};
      ::gmtime_r(&t, &tm);
      char buf[64];
      std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
      date_ = buf;
      date_time_ = t;
    }
    return date_;
  }

  loop_shared& shared_;
  std::shared_ptr<mailbox> box_;
  std::size_t buffer_cap_;
  int epfd_ = -1;
  bool exclusive_ = false;
  bool accept_paused_ = false;
  time_point accept_resume_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  time_point now_ = clock_type::now();
  std::uint64_t next_id_ = 2;
  std::unordered_map<std::uint64_t, std::unique_ptr<connection>> conns_;
  std::string date_;
  std::time_t date_time_ = 0;
  char buffer_[64 * 1024];
};

// Raises the soft limit on open files towards what max_connections needs.
void raise_file_limit(int max_connections) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return;
  const rlim_t want = static_cast<rlim_t>(max_connections) + 256;
  if (lim.rlim_cur >= want)
    return;
  rlimit raised = lim;
  raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want : std::min(want, lim.rlim_max);
  if (::setrlimit(RLIMIT_NOFILE, &raised) != 0 || raised.rlim_cur < want)
    spdlog::warn("http: the open-file limit ({}) is below SMSD_HTTP_MAX_CONNECTIONS + 256; "
                 "connections beyond it are refused",
                 static_cast<unsigned long long>(raised.rlim_cur));
}

} // namespace

struct event_server::impl {
  loop_shared shared;
  std::vector<std::unique_ptr<event_loop>> loops;
  std::uint16_t port = 0;
  bool running = false;
};

event_server::event_server(std::shared_ptr<const router> routes, event_server_options options)
  : impl_(std::make_unique<impl>()) {
  impl_->shared.routes = std::move(routes);
  impl_->shared.opts = std::move(options);
}

event_server::~event_server() {
  stop();
}

caf::error event_server::start() {
  if (impl_->running)
    return make_error(errc::internal, "http server already started");
  const auto& opts = impl_->shared.opts;
  if (opts.io_threads < 1 || opts.handler_threads < 1 || opts.max_connections < 1)
    return make_error(errc::invalid_argument, "the HTTP thread and connection counts must be positive");
  const std::string where = opts.host + ":" + std::to_string(opts.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(opts.port);
  if (int rc = ::getaddrinfo(opts.host.c_str(), port_text.c_str(), &hints, &found); rc != 0)
    return make_error(errc::unavailable, "cannot listen on " + where + ": " + ::gai_strerror(rc));
  int fd = -1;
  std::string why = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      why = errno_text(errno);
      continue;
    }
    // SO_REUSEADDR for quick restarts; never SO_REUSEPORT, which would let a second instance
    // share the port silently.
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 1024) == 0)
      break;
    why = errno_text(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  if (fd < 0)
    return make_error(errc::unavailable, "cannot listen on " + where + ": " + why);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  impl_->port = bound.ss_family == AF_INET6
                  ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                  : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  impl_->shared.listen_fd = fd;
  raise_file_limit(opts.max_connections);

  for (int i = 0; i < opts.io_threads; ++i) {
    auto loop = std::make_unique<event_loop>(impl_->shared);
    if (auto err = loop->init(opts.io_threads > 1)) {
      impl_->loops.clear();
      ::close(fd);
      impl_->shared.listen_fd = -1;
      return err;
    }
    impl_->loops.push_back(std::move(loop));
  }
  impl_->shared.pool.start(opts.handler_threads);
  for (std::size_t i = 0; i < impl_->loops.size(); ++i)
    impl_->loops[i]->start(static_cast<int>(i));
  impl_->running = true;
  return caf::none;
}

std::uint16_t event_server::port() const {
  return impl_->port;
}

int event_server::connections() const {
  return impl_->shared.open.load();
}

void event_server::stop() {
  if (!impl_ || !impl_->running)
    return;
  impl_->running = false;
  for (auto& loop : impl_->loops)
    loop->request_stop();
  for (auto& loop : impl_->loops)
    loop->join();
  impl_->shared.pool.stop();
  impl_->loops.clear();
  if (impl_->shared.listen_fd >= 0)
    ::close(impl_->shared.listen_fd);
  impl_->shared.listen_fd = -1;
}

} // namespace smsd

#include "http/event_server.hpp"

#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>

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
#include <ostream>
#include <streambuf>
#include <thread>
#include <unordered_map>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/PollSet.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/StreamSocketImpl.h>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "http/errors.hpp"
#include "http/response_stream.hpp"

namespace smsd {

namespace {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;
using Poco::Net::PollSet;
using Poco::Net::StreamSocket;

// How often a loop looks for connections past their deadline (PollSet's wait is bounded by it).
constexpr auto sweep_every = std::chrono::milliseconds(200);
// A connection closing while the client may still send reads this much at most, this long.
constexpr std::size_t drain_bytes = 1 << 20;
constexpr auto drain_time = std::chrono::milliseconds(2000);
// Reads per readiness event: the poll is level-triggered, so what is left is read next round,
// after the other connections had their turn.
constexpr int reads_per_event = 4;
// Connections taken per readiness of the listening socket, so that accepting cannot starve.
constexpr int accepts_per_wake = 64;
// A connection freed this much memory or more since the last trim: give it back to the system.
constexpr std::size_t trim_after_bytes = 1 << 20;
// Buffers a connection keeps between requests; a larger one is released.
constexpr std::size_t kept_buffer_bytes = 16 * 1024;
// The paths a connection beyond the limits may still ask for (load balancers' health checks).
bool health_path(std::string_view path) {
  return path == "/livez" || path == "/readyz" || path == "/metrics";
}

// An answer on its way back to the loop that owns the connection, more of a streamed one, or a
// new connection for the loop to take.
struct completion {
  enum class kind : std::uint8_t {
    answer,      // the request's answer (`response`)
    stream_data, // text written to the answer's stream
    stream_end,  // the stream's producer ended it
    adopt,       // a connection accepted by the first loop, to be served by this one
  };
  std::uint64_t conn = 0;
  std::uint64_t seq = 0;
  http_response response;
  kind what = kind::answer;
  std::string text;
  // kind::adopt
  StreamSocket socket;
  std::string peer_host;
  int limit = 0; // 0: within the limits; else the status a connection beyond them answers

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
// freed memory. A posted item wakes the loop through one end of a socket pair that sits in the
// loop's PollSet beside its connections.
class mailbox {
public:
  mailbox() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      return;
    rx_ = StreamSocket(new Poco::Net::StreamSocketImpl(fds[0]));
    tx_ = StreamSocket(new Poco::Net::StreamSocketImpl(fds[1]));
    rx_.setBlocking(false);
    tx_.setBlocking(false);
    ok_ = true;
  }
  mailbox(const mailbox&) = delete;
  mailbox& operator=(const mailbox&) = delete;

  bool ok() const { return ok_; }
  const StreamSocket& wake_socket() const { return rx_; }

  void post(completion c) {
    bool wake;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (closed_)
        return;
      wake = items_.empty();
      items_.push_back(std::move(c));
    }
    // Only the first item since the loop last emptied the box wakes it: the loop takes all.
    if (wake)
      notify();
  }

  void notify() {
    const char one = 1;
    try {
      tx_.sendBytes(&one, 1, MSG_NOSIGNAL);
    } catch (const Poco::Exception&) {
      // The pair's buffer is full: the loop has wake-ups enough to read.
    }
  }

  // Reads the wake-up bytes (the loop, when its socket is readable).
  void clear_wakeups() {
    char buf[256];
    try {
      while (rx_.receiveBytes(buf, sizeof buf) > 0)
        continue;
    } catch (const Poco::Exception&) {
    }
  }

  void take(std::vector<completion>& out) {
    std::lock_guard<std::mutex> guard{mtx_};
    out.swap(items_);
  }

  // Refuses items from now on; returns what was waiting (connections to close).
  std::vector<completion> close() {
    std::lock_guard<std::mutex> guard{mtx_};
    closed_ = true;
    std::vector<completion> left;
    left.swap(items_);
    return left;
  }

private:
  StreamSocket rx_;
  StreamSocket tx_;
  bool ok_ = false;
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
  idle,      // between requests (keep-alive)
  head,      // a request's head is arriving
  body,      // its body is arriving
  busy,      // a handler is working on it
  streaming, // its answer is a stream (Server-Sent Events); written until either side ends it
  draining,  // the answer is out (or going); reading what the client still sends, then close
};

struct connection {
  StreamSocket socket;
  std::uint64_t id = 0;
  std::string peer;      // address:port, for logs
  std::string peer_host; // address, for the per-client limit
  int limit = 0;         // beyond a limit: the status its one request gets (503 or 429)
  phase state = phase::idle;
  time_point deadline;
  int mode = 0; // the PollSet interest registered now

  // Input read but not parsed yet. Usually empty: a request that arrives whole is parsed from
  // the loop's read buffer where it landed; only a partial one (or pipelined requests waiting
  // for an answer) is kept here.
  std::string in;
  std::size_t in_pos = 0;
  head_scanner scanner;
  bool scanner_fresh = true; // no byte of this head scanned yet
  bool peer_closed = false;
  std::size_t accounted = 0; // bytes of in + body counted in loop_shared::buffered

  std::string out;
  std::size_t out_pos = 0;
  bool close_after_write = false;
  time_point write_deadline = time_point::max(); // unsent output must move on by then

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

  std::size_t unsent() const { return out.size() - out_pos; }
  std::size_t buffered() const { return in.size() - in_pos; }
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

// An output stream that appends to a std::string (a connection's unsent output), for
// Poco::Net::HTTPResponse::write.
class append_buf final : public std::streambuf {
public:
  void target(std::string* s) { s_ = s; }

protected:
  int_type overflow(int_type ch) override {
    if (ch != traits_type::eof())
      s_->push_back(static_cast<char>(ch));
    return ch;
  }
  std::streamsize xsputn(const char* p, std::streamsize n) override {
    s_->append(p, static_cast<std::size_t>(n));
    return n;
  }

private:
  std::string* s_ = nullptr;
};

// An input stream over bytes that stay where they are, for Poco::Net::HTTPRequest::read: one per
// loop, pointed at each head in turn (a Poco::MemoryInputStream per head cost as much as the
// strict checks).
class view_buf final : public std::streambuf {
public:
  void view(std::string_view bytes) {
    char* p = const_cast<char*>(bytes.data()); // only read: no putback beyond what was read
    setg(p, p, p + bytes.size());
  }
};

// A header name or value that would break the head (CR, LF, other controls but tab).
bool unsafe_field(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    const auto u = static_cast<unsigned char>(ch);
    return (u < 0x20 && u != '\t') || u == 0x7f;
  });
}

// How many Host fields a head has.
std::size_t host_fields(const header_fields& headers) {
  return static_cast<std::size_t>(std::count_if(
    headers.fields().begin(), headers.fields().end(),
    [](const auto& f) { return iequals(f.first, "Host"); }));
}

class event_loop;

} // namespace

struct loop_shared {
  std::shared_ptr<const router> routes;
  event_server_options opts;
  handler_pool pool;
  std::atomic<int> open{0};         // connections within the limits
  std::atomic<int> reserve_open{0}; // connections beyond them (one answer, then closed)
  std::atomic<std::int64_t> buffered{0}; // input held by every connection, bytes
  Poco::Net::ServerSocket listener;
  std::vector<event_loop*> loops;
  std::size_t next_loop = 0; // the first loop's only
  std::mutex peers_mtx;
  std::unordered_map<std::string, int> per_peer; // connections within the limits, by address
};

namespace {

class event_loop {
public:
  event_loop(loop_shared& shared, bool accepts)
    : shared_(shared), box_(std::make_shared<mailbox>()), accepts_(accepts), in_(&in_buf_),
      out_(&out_buf_) {
  }

  caf::error init() {
    if (!box_->ok())
      return make_error(errc::internal, std::string{"socketpair: "} + std::strerror(errno));
    try {
      poll_.add(box_->wake_socket(), PollSet::POLL_READ);
      wake_impl_ = box_->wake_socket().impl();
      if (accepts_) {
        poll_.add(shared_.listener, PollSet::POLL_READ);
        listen_impl_ = shared_.listener.impl();
      }
    } catch (const Poco::Exception& e) {
      return make_error(errc::internal, "http: cannot poll: " + e.displayText());
    }
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

  // A connection the first loop accepted, for this loop to serve (any thread).
  void post(completion c) { box_->post(std::move(c)); }

private:
  void run() {
    std::vector<completion> answers;
    auto next_sweep = clock_type::now() + sweep_every;
    const Poco::Timespan wait(0, static_cast<long>(sweep_every.count()) * 1000);
    while (!stop_.load()) {
      PollSet::SocketModeMap ready;
      try {
        ready = poll_.poll(wait);
      } catch (const Poco::Exception& e) {
        spdlog::error("http: poll: {}", e.displayText());
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      now_ = clock_type::now();
      for (const auto& [socket, mode] : ready) {
        auto* impl = socket.impl();
        if (impl == wake_impl_)
          box_->clear_wakeups();
        else if (impl == listen_impl_)
          accept_some();
        else
          on_event(impl, mode);
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
    // Connections handed over but not taken yet close with the rest.
    for (auto& left : box_->close())
      if (left.what == completion::kind::adopt)
        release_slot(left.limit, left.peer_host), left.socket.close();
    std::vector<std::uint64_t> ids;
    for (auto& [id, c] : conns_)
      ids.push_back(id);
    for (auto id : ids)
      close_connection(*conns_.at(id));
    ::malloc_trim(0);
  }

  // ---- accepting (the first loop only)

  void accept_some() {
    if (accept_paused_)
      return;
    for (int i = 0; i < accepts_per_wake; ++i) {
      Poco::Net::SocketAddress addr;
      StreamSocket s;
      try {
        s = shared_.listener.acceptConnection(addr);
      } catch (const Poco::Exception& e) {
        const int code = e.code();
        if (code == EINTR || code == ECONNABORTED)
          continue;
        if (code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM) {
          // Out of descriptors: stop watching the socket for a while instead of spinning.
          spdlog::warn("http: cannot accept a connection: {}; pausing accepts for 1 s",
                       e.displayText());
          try {
            poll_.remove(shared_.listener);
          } catch (const Poco::Exception&) {
          }
          accept_paused_ = true;
          accept_resume_ = now_ + std::chrono::seconds(1);
        }
        return; // EAGAIN: nothing more waiting
      }
      admit(std::move(s), addr);
    }
  }

  // Decides whether a new connection is within the limits, and hands it to a loop.
  void admit(StreamSocket s, const Poco::Net::SocketAddress& addr) {
    const auto& opts = shared_.opts;
    std::string host = addr.host().toString();
    int limit = 0;
    if (shared_.open.load() >= opts.max_connections) {
      limit = 503;
    } else if (opts.max_connections_per_peer > 0) {
      std::lock_guard<std::mutex> guard{shared_.peers_mtx};
      auto& n = shared_.per_peer[host];
      if (n >= opts.max_connections_per_peer)
        limit = 429;
      else
        ++n;
    }
    if (limit != 0) {
      // Beyond a limit: a few connections in reserve still get one answer (a health check's,
      // or a 503/429 that says why), the rest are closed at once.
      if (shared_.reserve_open.fetch_add(1) >= opts.reserve_connections) {
        shared_.reserve_open.fetch_sub(1);
        count(counters().http_connections_refused[limit == 503 ? 0 : 1]);
        if (now_ >= next_refusal_log_) {
          spdlog::warn("http: {} connections open (SMSD_HTTP_MAX_CONNECTIONS {}, per client {}); "
                       "closing new ones from {}",
                       shared_.open.load(), opts.max_connections, opts.max_connections_per_peer,
                       host);
          next_refusal_log_ = now_ + std::chrono::seconds(10);
        }
        s.close();
        return;
      }
    }
    shared_.open.fetch_add(limit == 0 ? 1 : 0);
    try {
      s.setBlocking(false);
      s.setNoDelay(true);
    } catch (const Poco::Exception&) {
      release_slot(limit, host);
      return;
    }
    completion c;
    c.what = completion::kind::adopt;
    c.socket = std::move(s);
    c.peer_host = std::move(host);
    c.text = addr.toString();
    c.limit = limit;
    auto* target = shared_.loops[shared_.next_loop++ % shared_.loops.size()];
    if (target == this)
      adopt(c);
    else
      target->post(std::move(c));
  }

  // Gives back the slot a connection held (its limits' accounting).
  void release_slot(int limit, const std::string& host) {
    if (limit != 0) {
      shared_.reserve_open.fetch_sub(1);
      return;
    }
    shared_.open.fetch_sub(1);
    if (shared_.opts.max_connections_per_peer > 0) {
      std::lock_guard<std::mutex> guard{shared_.peers_mtx};
      auto it = shared_.per_peer.find(host);
      if (it != shared_.per_peer.end() && --it->second <= 0)
        shared_.per_peer.erase(it);
    }
  }

  void adopt(completion& a) {
    auto c = std::make_unique<connection>();
    c->socket = std::move(a.socket);
    c->id = next_id_++;
    c->peer = std::move(a.text);
    c->peer_host = std::move(a.peer_host);
    c->limit = a.limit;
    c->deadline = now_ + shared_.opts.idle_timeout;
    try {
      poll_.add(c->socket, PollSet::POLL_READ);
    } catch (const Poco::Exception& e) {
      spdlog::warn("http: cannot poll a connection from {}: {}", c->peer, e.displayText());
      release_slot(c->limit, c->peer_host);
      c->socket.close();
      return;
    }
    c->mode = PollSet::POLL_READ;
    by_impl_.emplace(c->socket.impl(), c->id);
    conns_.emplace(c->id, std::move(c));
  }

  // ---- events

  void on_event(Poco::Net::SocketImpl* impl, int mode) {
    auto it = by_impl_.find(impl);
    if (it == by_impl_.end())
      return;
    const std::uint64_t id = it->second;
    connection* c = find(id);
    if (!c)
      return;
    if (mode & PollSet::POLL_ERROR) {
      close_connection(*c);
      return;
    }
    if (mode & PollSet::POLL_WRITE) {
      flush(*c);
      // Requests that waited for the output to drain below the cap go on.
      if ((c = find(id)) && c->state == phase::idle && c->buffered() > 0
          && c->unsent() <= shared_.opts.max_unsent_bytes)
        advance(*c, {});
    }
    if ((mode & PollSet::POLL_READ) && (c = find(id)))
      on_readable(*c);
    if ((c = find(id)))
      settle(*c);
  }

  connection* find(std::uint64_t id) {
    auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : it->second.get();
  }

  // Registers the interest the connection's state calls for: reading while it may take input
  // (not while its unsent output is over the cap, nor past a full buffer while it is being
  // answered), writing only while output waits (the poll is level-triggered).
  void settle(connection& c) {
    int want = 0;
    if (!c.peer_closed) {
      switch (c.state) {
        case phase::idle:
        case phase::head:
        case phase::body:
          if (c.unsent() <= shared_.opts.max_unsent_bytes)
            want |= PollSet::POLL_READ;
          break;
        case phase::busy:
          if (c.buffered() < input_cap() && c.unsent() <= shared_.opts.max_unsent_bytes)
            want |= PollSet::POLL_READ;
          break;
        case phase::streaming:
          want |= PollSet::POLL_READ; // to see the client leave
          break;
        case phase::draining:
          if (c.shut_down)
            want |= PollSet::POLL_READ;
          break;
      }
    }
    if (c.unsent() > 0)
      want |= PollSet::POLL_WRITE;
    if (want == c.mode)
      return;
    try {
      poll_.update(c.socket, want);
      c.mode = want;
    } catch (const Poco::Exception&) {
      close_connection(c);
    }
  }

  // Input a connection may hold unparsed: one head, and a chunk's size line.
  std::size_t input_cap() const { return shared_.opts.limits.max_head + 4096; }

  // Reads what has arrived and moves the connection on. Returns false if it was closed.
  bool on_readable(connection& c) {
    for (int i = 0; i < reads_per_event; ++i) {
      if (c.state == phase::draining)
        return drain(c);
      if (c.state == phase::streaming)
        return discard_input(c);
      if (c.state == phase::busy && c.buffered() >= input_cap())
        return true; // pipelined requests wait for the answer in progress (settle stops reading)
      if (c.unsent() > shared_.opts.max_unsent_bytes)
        return true; // the client does not read its answers: read no more requests
      int n;
      try {
        n = c.socket.receiveBytes(buffer_, sizeof buffer_);
      } catch (const Poco::Exception&) {
        close_connection(c); // reset by the peer, or another error
        return false;
      }
      if (n < 0)
        return true; // nothing more now
      if (n == 0) {
        c.peer_closed = true;
        return advance(c, {});
      }
      if (!advance(c, std::string_view(buffer_, static_cast<std::size_t>(n))))
        return false;
      if (static_cast<std::size_t>(n) < sizeof buffer_)
        return true;
    }
    return true;
  }

  // Takes `fresh` input (or none, to go on with what is kept) and parses and dispatches what it
  // can, one request at a time. A request that arrives whole is parsed where it lies; what is
  // left over is kept in c.in, within input_cap and the server's budget. Returns false if the
  // connection was closed.
  bool advance(connection& c, std::string_view fresh) {
    const std::uint64_t id = c.id;
    std::string_view data;
    bool kept = c.buffered() > 0;
    if (kept && !fresh.empty()) {
      if (!keep(c, fresh))
        return find(id) != nullptr;
      fresh = {};
    }
    data = kept ? std::string_view(c.in).substr(c.in_pos) : fresh;
    const std::size_t before = data.size();
    if (!parse(c, data))
      return false;
    if (c.state == phase::draining || c.state == phase::streaming) {
      // Refused, or answered for the last time: nothing more is parsed, what came is dropped.
      c.in.clear();
      c.in_pos = 0;
      account(c);
      return true;
    }
    const std::size_t used = before - data.size();
    if (kept) {
      c.in_pos += used;
      compact(c);
    } else if (!data.empty()) {
      if (!keep(c, data))
        return find(id) != nullptr;
    }
    account(c);
    if (c.peer_closed && (c.state == phase::idle || c.state == phase::head
                          || c.state == phase::body)) {
      // The client sent all it will; a request cut short gets no answer.
      if (c.unsent() == 0) {
        close_connection(c);
        return false;
      }
      c.close_after_write = true;
      c.state = phase::draining;
      c.deadline = now_ + shared_.opts.io_timeout;
    }
    return true;
  }

  // Appends unparsed input to c.in, unless that would pass the connection's cap (then the
  // request is refused: it cannot be a request we take) or the server's budget for all
  // connections (503: the client may come back). Returns false if it was refused (and maybe
  // closed).
  bool keep(connection& c, std::string_view data) {
    if (c.buffered() + data.size() > input_cap() && c.state != phase::busy) {
      refuse(c, 431, "request header fields too large");
      return false;
    }
    const auto budget = static_cast<std::int64_t>(shared_.opts.max_buffered_bytes);
    if (shared_.buffered.load(std::memory_order_relaxed) + static_cast<std::int64_t>(data.size())
          > budget
        && c.state != phase::busy) {
      count(counters().http_requests_shed);
      refuse(c, 503, "server busy: too much input waiting, try again");
      return false;
    }
    c.in.append(data);
    return true;
  }

  // Counts what the connection's buffers hold in the server's total.
  void account(connection& c) {
    const std::size_t now = c.in.capacity() + c.body.capacity();
    if (now == c.accounted)
      return;
    shared_.buffered.fetch_add(static_cast<std::int64_t>(now) - static_cast<std::int64_t>(c.accounted),
                               std::memory_order_relaxed);
    c.accounted = now;
  }

  // Parses requests from the front of `data`, consuming what it uses. Returns false if the
  // connection was closed.
  bool parse(connection& c, std::string_view& data) {
    const auto& opts = shared_.opts;
    const std::uint64_t id = c.id;
    while (c.state == phase::idle || c.state == phase::head || c.state == phase::body) {
      if (c.unsent() > opts.max_unsent_bytes)
        break; // the client does not read its answers: take no more requests from it
      if (c.state == phase::idle || (c.state == phase::head && c.scanner_fresh)) {
        // Empty lines before a request line are ignored (RFC 9112 §2.2).
        while (!data.empty() && (data.front() == '\n'
                                 || (data.front() == '\r' && data.size() > 1 && data[1] == '\n')))
          data.remove_prefix(data.front() == '\n' ? 1 : 2);
      }
      if (c.state == phase::idle) {
        if (data.empty())
          break;
        c.state = phase::head;
        c.started = now_;
        c.deadline = now_ + opts.io_timeout;
        c.scanner.reset();
        c.scanner_fresh = true;
      }
      if (c.state == phase::head) {
        const std::size_t end = c.scanner.scan(data);
        c.scanner_fresh = false;
        if (end == 0) {
          if (c.scanner.over_limits(data, opts.limits)) {
            const head_parse r = check_head(data, opts.limits);
            c.minor_version = 1;
            c.head_method = false;
            if (r.result == head_parse::state::invalid)
              return refuse(c, r.status, r.error);
            return refuse(c, 431, "request header fields too large");
          }
          break;
        }
        if (!read_head(c, data.substr(0, end)))
          return find(id) != nullptr; // refused
        data.remove_prefix(end);
        if (!begin_body(c))
          return false;
        continue;
      }
      // phase::body
      if (c.framing.type == body_framing::kind::length) {
        const std::size_t missing = static_cast<std::size_t>(c.framing.length) - c.body.size();
        const std::size_t take = std::min(missing, data.size());
        c.body.append(data.data(), take);
        data.remove_prefix(take);
        if (take == missing) {
          if (!dispatch(c))
            return false;
        } else {
          send_continue(c);
          break;
        }
      } else { // chunked
        std::size_t used = 0;
        const auto s = c.chunks.feed(data, used, c.body, opts.max_body_bytes);
        data.remove_prefix(used);
        if (s == chunked_decoder::state::done) {
          if (!dispatch(c))
            return false;
        } else if (s == chunked_decoder::state::more) {
          send_continue(c);
          break;
        } else if (s == chunked_decoder::state::too_large) {
          c.too_large = true;
          std::string().swap(c.body);
          if (!dispatch(c))
            return false;
        } else {
          return refuse(c, 400, "could not read the request body");
        }
      }
    }
    return true;
  }

  // A head that ended: the strict checks on its bytes first, then Poco's HTTPRequest reads it.
  // Returns false if the request was refused (the connection may be closed).
  bool read_head(connection& c, std::string_view bytes) {
    const auto& opts = shared_.opts;
    c.minor_version = 1;
    c.head_method = false;
    const head_parse r = check_head(bytes, opts.limits);
    if (r.result == head_parse::state::invalid) {
      refuse(c, r.status, r.error);
      return false;
    }
    if (r.result != head_parse::state::complete || r.consumed != bytes.size()) {
      refuse(c, 400, "malformed request head");
      return false;
    }
    // One HTTPRequest per loop, cleared for each head: its strings keep their buffers.
    Poco::Net::HTTPRequest& req = request_;
    req.clear();
    req.setFieldLimit(static_cast<int>(opts.limits.max_fields));
    try {
      in_buf_.view(bytes);
      in_.clear();
      req.read(in_);
    } catch (const Poco::Exception& e) {
      refuse(c, 431, "request header fields too large: " + e.message());
      return false;
    }
    request_head head;
    head.method = req.getMethod();
    head.target = req.getURI();
    head.minor_version = req.getVersion() == Poco::Net::HTTPMessage::HTTP_1_0 ? 0 : 1;
    for (const auto& [name, value] : req)
      head.headers.add(name, value);
    c.head = std::move(head);
    return true;
  }

  // After a complete head: checks what RFC 9112 asks of it, decides how the body is framed,
  // and dispatches a request without one. Returns false if the connection was closed.
  bool begin_body(connection& c) {
    const auto& opts = shared_.opts;
    c.minor_version = c.head.minor_version;
    c.head_method = c.head.method == "HEAD";
    const std::size_t hosts = host_fields(c.head.headers);
    if (hosts > 1)
      return refuse(c, 400, "more than one Host header field");
    if (hosts == 0 && c.minor_version >= 1)
      return refuse(c, 400, "an HTTP/1.1 request needs a Host header field");
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
    if (c.minor_version == 0 && c.head.headers.has("Transfer-Encoding"))
      // RFC 9112 §6.1: a 1.0 message with Transfer-Encoding has faulty framing.
      return refuse(c, 400, "Transfer-Encoding in an HTTP/1.0 request");
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
    if (c.framing.type == body_framing::kind::length) {
      const auto len = static_cast<std::size_t>(c.framing.length);
      const auto budget = static_cast<std::int64_t>(opts.max_buffered_bytes);
      if (shared_.buffered.load(std::memory_order_relaxed) + static_cast<std::int64_t>(len)
          > budget) {
        count(counters().http_requests_shed);
        return refuse(c, 503, "server busy: too much input waiting, try again");
      }
      c.body.reserve(len);
      account(c);
    }
    c.state = phase::body;
    return true;
  }

  void send_continue(connection& c) {
    if (!c.expect_continue || c.continue_sent)
      return;
    c.continue_sent = true;
    Poco::Net::HTTPResponse r(Poco::Net::HTTPResponse::HTTP_CONTINUE);
    r.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
    write_head(c, r);
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
    c.body = std::string();
    account(c);
    if (c.limit != 0) {
      // A connection beyond the limits gets one answer: a health check's, or why not.
      c.keep_alive = false;
      if (!health_path(ctx.path)) {
        auto r = error_response(c.limit, c.limit == 429
                                           ? "too many connections from this client"
                                           : "server busy: too many connections, try again");
        r.headers.emplace_back("Retry-After", "1");
        r.close = true;
        return finish(c, std::move(r));
      }
    }
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
    if (a.what == completion::kind::adopt) {
      adopt(a);
      return;
    }
    connection* c = find(a.conn);
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
        break;
      case completion::kind::stream_data:
        if (c && c->state == phase::streaming)
          stream_out(*c, a.text);
        break;
      case completion::kind::stream_end:
        if (c && c->state == phase::streaming)
          end_stream(*c);
        break;
      case completion::kind::adopt:
        break;
    }
    if (connection* again = find(a.conn))
      settle(*again);
  }

  // Queues streamed text, or drops a client that does not read it: more than stream_backlog
  // bytes unsent closes the connection. Returns false if the connection was closed.
  bool stream_out(connection& c, std::string_view text) {
    if (c.unsent() + text.size() > shared_.opts.stream_backlog) {
      spdlog::warn("http: {} reads its event stream too slowly ({} bytes unsent); closing it",
                   c.peer, c.unsent());
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
  bool discard_input(connection& c) { return read_and_drop(c, false); }

  // Reads what the client sends and drops it; closes the connection at its FIN or an error,
  // and, when `counted`, once more than drain_bytes came. Returns false if it was closed.
  bool read_and_drop(connection& c, bool counted) {
    for (int i = 0; i < reads_per_event; ++i) {
      int n;
      try {
        n = c.socket.receiveBytes(buffer_, sizeof buffer_);
      } catch (const Poco::Exception&) {
        n = 0;
      }
      if (n < 0)
        return true;
      c.drained += static_cast<std::size_t>(std::max(n, 0));
      if (n == 0 || (counted && c.drained > drain_bytes)) {
        close_connection(c);
        return false;
      }
    }
    return true;
  }

  // After an answer given outside advance(): parses what waited behind it, then reads on.
  void resume(connection& c) {
    if (c.state != phase::idle)
      return;
    if (c.buffered() > 0 || c.peer_closed)
      advance(c, {});
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
    if (c.unsent() > 0)
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
    std::string().swap(c.in);
    c.in_pos = 0;
    account(c);
    if (!flush(c))
      return false;
    c.stream->attach(std::make_shared<loop_sink>(box_, c.id, c.seq));
    return true;
  }

  // Drops the output already sent, if all of it was, so that appending starts at the front.
  static void compact_out(connection& c) {
    if (c.out_pos == c.out.size()) {
      c.out.clear();
      c.out_pos = 0;
    }
  }

  // Appends a response head to the connection's output (Poco writes it).
  void write_head(connection& c, const Poco::Net::HTTPResponse& head) {
    compact_out(c);
    out_buf_.target(&c.out);
    head.write(out_);
  }

  // The last answer head HTTPResponse wrote on this loop and what it was written for. An answer
  // of the same shape within the same second (the webhook's 200 {"success":true}, mostly) gets
  // these bytes again: they are the ones HTTPResponse would write.
  struct head_memo {
    bool valid = false;
    std::time_t date = 0;
    int status = 0;
    bool no_body = false;
    bool stream = false;
    bool close = false;
    bool http10 = false;
    std::size_t length = 0;
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string bytes;

    bool matches(const http_response& r, std::time_t now, bool no_body_now, bool close_now,
                 bool http10_now) const {
      return valid && date == now && status == r.status && no_body == no_body_now
             && stream == (r.stream != nullptr) && close == close_now && http10 == http10_now
             && length == r.body.size() && content_type == r.content_type && headers == r.headers;
    }
    void remember(const http_response& r, std::time_t now, bool no_body_now, bool close_now,
                  bool http10_now, std::string_view written) {
      valid = true;
      date = now;
      status = r.status;
      no_body = no_body_now;
      stream = r.stream != nullptr;
      close = close_now;
      http10 = http10_now;
      length = r.body.size();
      content_type = r.content_type;
      headers = r.headers;
      bytes.assign(written);
    }
  };

  void render(connection& c, const http_response& given, bool close) {
    const http_response* r = &given;
    http_response replaced;
    // A header carrying CR or LF would split the head (Poco does not check): refuse to send it.
    bool unsafe = unsafe_field(r->content_type);
    for (const auto& [name, value] : r->headers)
      unsafe = unsafe || !is_token_text(name) || unsafe_field(value);
    if (unsafe) {
      spdlog::error("http: an answer to {} had a header field that would break the head; "
                    "answering 500",
                    c.peer);
      replaced = error_response(500, "internal error");
      r = &replaced;
    }
    const bool no_body =
      r->status == 204 || r->status == 304 || (r->status >= 100 && r->status < 200);
    const std::string& date = http_date();
    const bool http10 = c.minor_version == 0;
    if (memo_.matches(*r, date_time_, no_body, close, http10)) {
      compact_out(c);
      c.out.append(memo_.bytes);
      if (!no_body && !c.head_method)
        c.out.append(r->body);
      return;
    }
    using Poco::Net::HTTPResponse;
    // One HTTPResponse per loop, cleared for each answer.
    HTTPResponse& head = response_;
    head.clear();
    head.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(r->status));
    head.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
    head.set("Date", date);
    if (!no_body) {
      if (!r->content_type.empty())
        head.setContentType(r->content_type);
      if (!r->stream) // a stream's body ends when the connection closes
        head.setContentLength64(static_cast<Poco::Int64>(r->body.size()));
    }
    // Answers are not cached unless the handler says otherwise (the organizer page's assets).
    const bool own_cache_control =
      std::any_of(r->headers.begin(), r->headers.end(),
                  [](const auto& h) { return iequals(h.first, "Cache-Control"); });
    if (!own_cache_control)
      head.set("Cache-Control", "no-store");
    for (const auto& [name, value] : r->headers)
      head.add(name, value);
    if (close)
      head.set("Connection", "close");
    else if (http10)
      head.set("Connection", "keep-alive");
    compact_out(c);
    const std::size_t start = c.out.size();
    write_head(c, head);
    memo_.remember(*r, date_time_, no_body, close, http10, std::string_view(c.out).substr(start));
    if (!no_body && !c.head_method)
      c.out.append(r->body);
  }

  static bool is_token_text(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
      const auto u = static_cast<unsigned char>(ch);
      return u > 0x20 && u < 0x7f && ch != ':';
    });
  }

  // Sends what is queued. Output that the client leaves unread past io_timeout closes the
  // connection (sweep). Returns false if the connection was closed.
  bool flush(connection& c) {
    bool moved = false;
    while (c.out_pos < c.out.size()) {
      int n;
      try {
        n = c.socket.sendBytes(c.out.data() + c.out_pos,
                               static_cast<int>(std::min<std::size_t>(c.unsent(), 1 << 30)),
                               MSG_NOSIGNAL);
      } catch (const Poco::Exception& e) {
        if (e.code() == EAGAIN || e.code() == EWOULDBLOCK)
          break; // the socket's buffer is full: the poll says when it drains
        close_connection(c);
        return false;
      }
      if (n <= 0)
        break;
      c.out_pos += static_cast<std::size_t>(n);
      moved = true;
    }
    if (c.out_pos < c.out.size()) {
      if (moved || c.write_deadline == time_point::max())
        c.write_deadline = now_ + shared_.opts.io_timeout;
      return true;
    }
    c.write_deadline = time_point::max();
    c.out.clear();
    c.out_pos = 0;
    if (c.out.capacity() > kept_buffer_bytes * 4)
      std::string().swap(c.out);
    if (c.close_after_write && c.state == phase::draining && !c.shut_down) {
      // Our answer is out: say so (FIN), then read until the client closes too.
      try {
        c.socket.shutdownSend();
      } catch (const Poco::Exception&) {
        close_connection(c);
        return false;
      }
      c.shut_down = true;
      c.deadline = now_ + drain_time;
      std::string().swap(c.in);
      c.in_pos = 0;
      account(c);
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
    return read_and_drop(c, true);
  }

  void compact(connection& c) {
    if (c.in_pos == c.in.size()) {
      c.in.clear();
      c.in_pos = 0;
      if (c.in.capacity() > kept_buffer_bytes)
        std::string().swap(c.in);
    } else if (c.in_pos > kept_buffer_bytes) {
      c.in.erase(0, c.in_pos);
      c.in_pos = 0;
    }
  }

  void sweep() {
    if (accept_paused_ && now_ >= accept_resume_) {
      try {
        poll_.add(shared_.listener, PollSet::POLL_READ);
        accept_paused_ = false;
      } catch (const Poco::Exception&) {
        accept_resume_ = now_ + std::chrono::seconds(1);
      }
    }
    std::vector<std::uint64_t> expired;
    std::vector<std::uint64_t> stuck;
    std::vector<std::uint64_t> heartbeats;
    for (auto& [id, c] : conns_) {
      if (c->write_deadline <= now_)
        stuck.push_back(id);
      else if (c->deadline <= now_)
        expired.push_back(id);
      else if (c->state == phase::streaming && c->next_heartbeat <= now_)
        heartbeats.push_back(id);
    }
    for (auto id : stuck) {
      if (connection* c = find(id)) {
        spdlog::warn("http: {} has not read its answers ({} bytes unsent) for {} ms; closing it",
                     c->peer, c->unsent(), shared_.opts.io_timeout.count());
        count(counters().http_slow_readers_closed);
        close_connection(*c);
      }
    }
    for (auto id : heartbeats) {
      if (connection* c = find(id)) {
        c->next_heartbeat = now_ + shared_.opts.stream_heartbeat;
        stream_out(*c, ": ping\n\n");
      }
    }
    for (auto id : expired) {
      connection* c = find(id);
      if (!c)
        continue;
      if (c->state == phase::streaming) {
        end_stream(*c); // its time is up (the token that opened it expired)
      } else if (c->state == phase::busy && c->pending_async) {
        const async_route* route = c->pending_async;
        spdlog::warn("http: no answer for {} within {} ms; answering {}", c->peer,
                     route->timeout.count(), route->on_timeout.status);
        if (finish(*c, route->on_timeout))
          resume(*c);
      } else {
        close_connection(*c); // idle too long, a request too slow to arrive, or a stuck write
      }
    }
    for (auto* ids : {&stuck, &heartbeats, &expired})
      for (auto id : *ids)
        if (connection* c = find(id))
          settle(*c);
    if (freed_ >= trim_after_bytes) {
      // Connections that held large buffers have closed: return the memory to the system
      // rather than keep it for connections that may never come back.
      ::malloc_trim(0);
      freed_ = 0;
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
    try {
      poll_.remove(c.socket);
    } catch (const Poco::Exception&) {
    }
    by_impl_.erase(c.socket.impl());
    try {
      c.socket.close();
    } catch (const Poco::Exception&) {
    }
    release_slot(c.limit, c.peer_host);
    freed_ += c.in.capacity() + c.body.capacity() + c.out.capacity();
    shared_.buffered.fetch_sub(static_cast<std::int64_t>(c.accounted), std::memory_order_relaxed);
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
  const bool accepts_;
  PollSet poll_;
  Poco::Net::SocketImpl* wake_impl_ = nullptr;
  Poco::Net::SocketImpl* listen_impl_ = nullptr;
  bool accept_paused_ = false;
  time_point accept_resume_;
  time_point next_refusal_log_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  time_point now_ = clock_type::now();
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::unique_ptr<connection>> conns_;
  std::unordered_map<Poco::Net::SocketImpl*, std::uint64_t> by_impl_;
  std::size_t freed_ = 0;
  std::string date_;
  std::time_t date_time_ = 0;
  Poco::Net::HTTPRequest request_;
  Poco::Net::HTTPResponse response_;
  head_memo memo_;
  view_buf in_buf_;
  std::istream in_;
  append_buf out_buf_;
  std::ostream out_;
  char buffer_[64 * 1024];
};

// Raises the soft limit on open files towards what the connection limits need.
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
  auto& listener = impl_->shared.listener;
  try {
    listener = Poco::Net::ServerSocket();
    // reuseAddress for quick restarts; never reusePort, which would let a second instance
    // share the port silently.
    listener.bind(Poco::Net::SocketAddress(opts.host, opts.port), true, false);
    listener.listen(1024);
    listener.setBlocking(false);
    impl_->port = listener.address().port();
  } catch (const Poco::Exception& e) {
    listener.close();
    return make_error(errc::unavailable, "cannot listen on " + where + ": " + e.displayText());
  }
  raise_file_limit(opts.max_connections + opts.reserve_connections);
  impl_->shared.loops.clear();
  impl_->shared.next_loop = 0;
  for (int i = 0; i < opts.io_threads; ++i) {
    auto loop = std::make_unique<event_loop>(impl_->shared, i == 0);
    if (auto err = loop->init()) {
      impl_->loops.clear();
      impl_->shared.loops.clear();
      listener.close();
      return err;
    }
    impl_->shared.loops.push_back(loop.get());
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
  return impl_->shared.open.load() + impl_->shared.reserve_open.load();
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
  impl_->shared.loops.clear();
  try {
    impl_->shared.listener.close();
  } catch (const Poco::Exception&) {
  }
}

} // namespace smsd

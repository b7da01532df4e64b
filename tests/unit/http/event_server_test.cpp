#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>

#include <unistd.h>

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <catch2/catch.hpp>

#include "http/event_server.hpp"
#include "http/response.hpp"
#include "http/response_stream.hpp"
#include "common/metrics.hpp"

using namespace smsd;
using namespace std::chrono_literals;

namespace {

// Answers held back by the "/later" route, released by the test.
struct held_answers {
  std::mutex mtx;
  std::vector<responder> waiting;

  void release_all(int status) {
    std::vector<responder> out;
    {
      std::lock_guard<std::mutex> guard{mtx};
      out.swap(waiting);
    }
    for (auto& r : out)
      r(empty_response(status));
  }
  std::size_t size() {
    std::lock_guard<std::mutex> guard{mtx};
    return waiting.size();
  }

  // Streams opened by "/stream", for the test to write to; each says "opened\n" first.
  std::vector<std::shared_ptr<response_stream>> streams;
  std::atomic<int> streams_closed{0};
  std::chrono::steady_clock::time_point stream_ends = std::chrono::steady_clock::time_point::max();

  std::shared_ptr<response_stream> stream(std::size_t i) {
    std::lock_guard<std::mutex> guard{mtx};
    return i < streams.size() ? streams[i] : nullptr;
  }
  // Waits up to 5 s for the i-th stream to be opened.
  std::shared_ptr<response_stream> wait_stream(std::size_t i) {
    for (int n = 0; n < 500; ++n) {
      if (auto s = stream(i))
        return s;
      std::this_thread::sleep_for(10ms);
    }
    return nullptr;
  }
};

// Waits up to 5 s for `done`.
template <class F>
bool eventually(F done) {
  for (int n = 0; n < 500; ++n) {
    if (done())
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

std::shared_ptr<router> test_routes(held_answers& held) {
  auto r = std::make_shared<router>();
  r->add("GET", "/hello", [](const request_context&) {
    http_response out;
    out.content_type = "text/plain";
    out.body = "hello";
    return out;
  });
  r->add("GET", "/livez", [](const request_context&) { return empty_response(204); });
  r->add("POST", "/echo", [](const request_context& req) {
    http_response out;
    out.content_type = "text/plain";
    out.body = req.body_too_large ? "too large" : req.body;
    return out;
  });
  r->add("GET", "/throw", [](const request_context&) -> http_response {
    throw std::runtime_error("boom");
  });
  async_route now;
  now.handler = [](request_context& req, responder respond) {
    // Answered from another thread, as the webhook's ack is.
    std::thread([respond = std::move(respond), body = req.body]() mutable {
      http_response out;
      out.content_type = "text/plain";
      out.body = "async:" + body;
      respond(std::move(out));
    }).detach();
  };
  r->add_async("POST", "/async", std::move(now));
  async_route later;
  later.handler = [&held](request_context&, responder respond) {
    std::lock_guard<std::mutex> guard{held.mtx};
    held.waiting.push_back(std::move(respond));
  };
  later.timeout = 300ms;
  later.on_timeout = empty_response(503);
  r->add_async("POST", "/later", std::move(later));
  r->add("GET", "/stream", [&held](const request_context&) {
    auto stream = std::make_shared<response_stream>(1 << 20, held.stream_ends);
    stream->write("opened\n"); // before the head is out: waits for it
    stream->on_closed([&held] { ++held.streams_closed; });
    {
      std::lock_guard<std::mutex> guard{held.mtx};
      held.streams.push_back(stream);
    }
    http_response out;
    out.content_type = "text/event-stream";
    out.body = "first\n";
    out.stream = std::move(stream);
    return out;
  });
  return r;
}

struct event_fixture {
  held_answers held;
  std::unique_ptr<event_server> server;

  explicit event_fixture(event_server_options opts = {}) {
    opts.host = "127.0.0.1";
    opts.port = 0;
    opts.handler_threads = 2;
    server = std::make_unique<event_server>(test_routes(held), opts);
    REQUIRE_FALSE(server->start());
  }
  ~event_fixture() {
    server->stop();
  }

  Poco::Net::StreamSocket connect() const {
    Poco::Net::StreamSocket s;
    s.connect(Poco::Net::SocketAddress("127.0.0.1", server->port()), Poco::Timespan(5, 0));
    s.setReceiveTimeout(Poco::Timespan(5, 0));
    return s;
  }
};

void send_all(Poco::Net::StreamSocket& s, const std::string& bytes) {
  s.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
}

// Reads until `count` complete responses (by Content-Length) arrived, the peer closed, or the
// receive timed out. Returns the raw bytes.
std::string read_responses(Poco::Net::StreamSocket& s, int count) {
  std::string in;
  auto complete = [&] {
    std::size_t pos = 0;
    int found = 0;
    while (found < count) {
      const std::size_t end = in.find("\r\n\r\n", pos);
      if (end == std::string::npos)
        return false;
      std::size_t len = 0;
      const std::size_t cl = in.find("Content-Length: ", pos);
      if (cl != std::string::npos && cl < end)
        len = std::stoul(in.substr(cl + 16));
      if (in.size() < end + 4 + len)
        return false;
      pos = end + 4 + len;
      ++found;
    }
    return true;
  };
  char buf[4096];
  while (!complete()) {
    int n = 0;
    try {
      n = s.receiveBytes(buf, sizeof buf);
    } catch (const Poco::TimeoutException&) {
      break;
    } catch (const Poco::Exception&) {
      n = 0;
    }
    if (n <= 0)
      break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  return in;
}

// Reads until `needle` arrived (or the peer closed, or 5 s passed); returns all read so far.
std::string read_until(Poco::Net::StreamSocket& s, const std::string& needle, std::string in = {}) {
  char buf[4096];
  while (in.find(needle) == std::string::npos) {
    int n = 0;
    try {
      n = s.receiveBytes(buf, sizeof buf);
    } catch (const Poco::Exception&) {
      break;
    }
    if (n <= 0)
      break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  return in;
}

// True if the server closes the connection within the receive timeout.
bool closed_by_server(Poco::Net::StreamSocket& s) {
  char buf[256];
  try {
    return s.receiveBytes(buf, sizeof buf) <= 0;
  } catch (const Poco::TimeoutException&) {
    return false;
  } catch (const Poco::Exception&) {
    return true; // reset
  }
}

std::size_t count_of(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE("pipelined requests are answered in the order they came, sync and async mixed",
          "[event_server]") {
  event_fixture f;
  auto s = f.connect();
  send_all(s, "POST /async HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
              "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nthree"
              "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string in = read_responses(s, 4);
  const auto a = in.find("async:one");
  const auto b = in.find("hello");
  const auto c = in.find("three");
  const auto d = in.find("404 Not Found");
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  REQUIRE(c != std::string::npos);
  REQUIRE(d != std::string::npos);
  CHECK(a < b);
  CHECK(b < c);
  CHECK(c < d);
  CHECK(count_of(in, "HTTP/1.1 ") == 4);
  CHECK(count_of(in, "Connection: close") == 0);
}

TEST_CASE("answers of the same shape share a head; any difference gets its own",
          "[event_server]") {
  // The loop writes a head again only when the answer differs from the last one (status,
  // type, length, fields, Connection) or the second changed: each head must still be its own.
  event_fixture f;
  auto s = f.connect();
  send_all(s, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
              "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
              "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string in = read_responses(s, 7);
  std::vector<std::string> heads;
  std::vector<std::string> bodies;
  std::size_t pos = 0;
  for (int i = 0; i < 7; ++i) {
    const std::size_t end = in.find("\r\n\r\n", pos);
    REQUIRE(end != std::string::npos);
    heads.push_back(in.substr(pos, end + 4 - pos));
    const std::size_t cl = heads.back().find("Content-Length: ");
    REQUIRE(cl != std::string::npos);
    const std::size_t len = std::stoul(heads.back().substr(cl + 16));
    bodies.push_back(in.substr(end + 4, len));
    pos = end + 4 + len;
  }
  CHECK(pos == in.size());
  auto has = [](const std::string& head, const std::string& text) {
    return head.find(text) != std::string::npos;
  };
  CHECK(has(heads[0], "HTTP/1.1 200 OK\r\n"));
  CHECK(has(heads[0], "Content-Type: text/plain\r\n"));
  CHECK(has(heads[0], "Content-Length: 5\r\n"));
  CHECK(bodies[0] == "hello");
  CHECK(has(heads[1], "HTTP/1.1 404 Not Found\r\n"));
  CHECK(has(heads[1], "Content-Type: application/json\r\n"));
  CHECK(has(heads[2], "HTTP/1.1 200 OK\r\n"));
  CHECK(has(heads[2], "Content-Type: text/plain\r\n"));
  CHECK(bodies[2] == "hello");
  CHECK(has(heads[3], "Content-Length: 3\r\n"));
  CHECK(bodies[3] == "abc");
  CHECK(has(heads[4], "Connection: keep-alive\r\n"));
  CHECK(bodies[4] == "hello");
  CHECK_FALSE(has(heads[5], "Connection:"));
  CHECK(bodies[5] == "hello");
  CHECK(has(heads[6], "Connection: close\r\n"));
  CHECK(bodies[6] == "hello");
  for (const auto& h : heads) {
    CHECK(has(h, "Date: "));
    CHECK(has(h, "Cache-Control: no-store\r\n"));
  }
  CHECK(closed_by_server(s));
}

TEST_CASE("Expect: 100-continue gets 100 Continue for a body within the cap, then the answer",
          "[event_server]") {
  event_fixture f;
  auto s = f.connect();
  send_all(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  char buf[256];
  const int n = s.receiveBytes(buf, sizeof buf);
  REQUIRE(n > 0);
  CHECK(std::string(buf, static_cast<std::size_t>(n)) == "HTTP/1.1 100 Continue\r\n\r\n");
  send_all(s, "body");
  const std::string in = read_responses(s, 1);
  CHECK(in.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(in.find("\r\n\r\nbody") != std::string::npos);
}

TEST_CASE("a chunked body arriving in pieces is decoded", "[event_server]") {
  event_fixture f;
  auto s = f.connect();
  send_all(s, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab");
  std::this_thread::sleep_for(50ms);
  send_all(s, "cd\r\n3\r\nef");
  std::this_thread::sleep_for(50ms);
  send_all(s, "g\r\n0\r\n\r\n");
  const std::string in = read_responses(s, 1);
  CHECK(in.find("\r\n\r\nabcdefg") != std::string::npos);
}

TEST_CASE("HTTP/1.0 is answered and closed unless it asks to keep the connection",
          "[event_server]") {
  event_fixture f;
  {
    auto s = f.connect();
    send_all(s, "GET /hello HTTP/1.0\r\n\r\n");
    const std::string in = read_responses(s, 1);
    CHECK(in.find("Connection: close") != std::string::npos);
    CHECK(closed_by_server(s));
  }
  auto s = f.connect();
  send_all(s, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  std::string in = read_responses(s, 1);
  CHECK(in.find("Connection: keep-alive") != std::string::npos);
  send_all(s, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  in = read_responses(s, 1);
  CHECK(in.find("hello") != std::string::npos);
}

TEST_CASE("Connection: close is honoured, and a client that half-closes still gets its answer",
          "[event_server]") {
  event_fixture f;
  auto s = f.connect();
  send_all(s, "POST /async HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  s.shutdownSend();
  const std::string in = read_responses(s, 1);
  CHECK(in.find("async:hi") != std::string::npos);
  CHECK(closed_by_server(s));

  auto t = f.connect();
  send_all(t, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string reply = read_responses(t, 1);
  CHECK(reply.find("Connection: close") != std::string::npos);
  CHECK(closed_by_server(t));
}

TEST_CASE("an async answer that does not come in time is replaced, and the late one dropped",
          "[event_server]") {
  event_fixture f;
  auto s = f.connect();
  send_all(s, "POST /later HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  std::string in = read_responses(s, 1);
  CHECK(in.rfind("HTTP/1.1 503", 0) == 0);
  // The late answer goes nowhere; the connection serves the next request normally.
  f.held.release_all(204);
  send_all(s, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  in = read_responses(s, 1);
  CHECK(in.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(in.find("204") == std::string::npos);
}

TEST_CASE("a handler that throws is a 500 and the connection closes", "[event_server]") {
  event_fixture f;
  auto s = f.connect();
  send_all(s, "GET /throw HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string in = read_responses(s, 1);
  CHECK(in.rfind("HTTP/1.1 500", 0) == 0);
  CHECK(in.find("Connection: close") != std::string::npos);
  CHECK(closed_by_server(s));
}

TEST_CASE("idle connections and requests too slow to arrive are closed after their timeouts",
          "[event_server]") {
  event_server_options opts;
  opts.idle_timeout = 300ms;
  opts.io_timeout = 600ms;
  event_fixture f{opts};
  auto idle = f.connect();
  send_all(idle, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(read_responses(idle, 1).find("hello") != std::string::npos);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(closed_by_server(idle));
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);

  auto slow = f.connect();
  send_all(slow, "GET /hello HTTP/1.1\r\nHo");
  CHECK(closed_by_server(slow));
  CHECK(f.server->connections() <= 1);
}

TEST_CASE("a declared body over the cap is not read; the answer comes and the connection drains",
          "[event_server]") {
  event_server_options opts;
  opts.max_body_bytes = 1000;
  event_fixture f{opts};
  auto s = f.connect();
  send_all(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
  // The client goes on sending its body; the server has answered and reads it away.
  send_all(s, std::string(5000, 'x'));
  const std::string in = read_responses(s, 1);
  CHECK(in.find("too large") != std::string::npos);
  CHECK(in.find("Connection: close") != std::string::npos);
  // The server's FIN came after the answer, but it keeps the connection to read what we send.
  CHECK(closed_by_server(s));
  send_all(s, std::string(5000, 'y'));
  std::this_thread::sleep_for(100ms);
  CHECK(f.server->connections() == 1);
  // Our FIN ends it.
  s.shutdownSend();
  for (int i = 0; i < 100 && f.server->connections() > 0; ++i)
    std::this_thread::sleep_for(10ms);
  CHECK(f.server->connections() == 0);
}

TEST_CASE("stop returns while answers are outstanding, and answers after it go nowhere",
          "[event_server]") {
  event_fixture f;
  auto s = f.connect();
  send_all(s, "POST /later HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  for (int i = 0; i < 100 && f.held.size() == 0; ++i)
    std::this_thread::sleep_for(10ms);
  REQUIRE(f.held.size() == 1);
  const auto t0 = std::chrono::steady_clock::now();
  f.server->stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  f.held.release_all(204); // the loop is gone: dropped, no crash
  CHECK(closed_by_server(s));
}

TEST_CASE("a streamed answer sends its head, then its text as it is written, until its producer "
          "ends it", "[event_server][stream]") {
  event_fixture f;
  auto s = f.connect();
  send_all(s, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string in = read_until(s, "opened\n");
  const auto head_end = in.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  const std::string head = in.substr(0, head_end);
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.find("Content-Type: text/event-stream") != std::string::npos);
  CHECK(head.find("Content-Length") == std::string::npos); // it lasts until the close
  CHECK(head.find("Connection: close") != std::string::npos);
  CHECK(in.substr(head_end + 4) == "first\nopened\n");

  auto stream = f.held.wait_stream(0);
  REQUIRE(stream);
  CHECK(stream->write("second\n"));
  std::thread([stream] { stream->write("third\n"); }).join(); // from any thread
  in = read_until(s, "third\n", in);
  CHECK(in.substr(head_end + 4) == "first\nopened\nsecond\nthird\n");
  CHECK(f.held.streams_closed == 0);

  stream->close();
  CHECK(closed_by_server(s));
  CHECK(f.held.streams_closed == 1);
  CHECK_FALSE(stream->write("too late"));
  CHECK(eventually([&] { return f.server->connections() == 0; }));
}

TEST_CASE("a stream gets a heartbeat comment every stream_heartbeat", "[event_server][stream]") {
  event_server_options opts;
  opts.stream_heartbeat = 100ms;
  event_fixture f{opts};
  auto s = f.connect();
  send_all(s, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto t0 = std::chrono::steady_clock::now();
  std::string in = read_until(s, ": ping\n\n: ping\n\n");
  CHECK(count_of(in, ": ping\n\n") >= 2);
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
}

TEST_CASE("a stream's client that stops reading is dropped, not buffered without bound",
          "[event_server][stream]") {
  event_server_options opts;
  opts.stream_backlog = 64 * 1024;
  event_fixture f{opts};
  const auto dropped_before = counters().streams_dropped.load();
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress::IPv4);
  s.setReceiveBufferSize(4096); // before connecting, so the window stays small
  s.connect(Poco::Net::SocketAddress("127.0.0.1", f.server->port()), Poco::Timespan(5, 0));
  send_all(s, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  auto stream = f.held.wait_stream(0);
  REQUIRE(stream);
  // The client reads nothing. Write far more than the kernel's buffers hold (a few MiB on
  // loopback): the server must give up on the client long before that.
  const std::string chunk(16 * 1024, 'x');
  std::size_t written = 0;
  const std::size_t limit = 256u << 20;
  while (written < limit && stream->write(chunk)) {
    written += chunk.size();
    if (written % (1u << 20) == 0)
      std::this_thread::sleep_for(5ms); // let the loop catch up, as a real producer would
  }
  CHECK(eventually([&] { return stream->closed(); }));
  INFO("written before the drop: " << written);
  CHECK(written < limit);
  CHECK(f.held.streams_closed == 1);
  CHECK(counters().streams_dropped.load() == dropped_before + 1);
  CHECK(eventually([&] { return f.server->connections() == 0; }));
}

TEST_CASE("a client that leaves closes its stream", "[event_server][stream]") {
  event_fixture f;
  {
    auto s = f.connect();
    send_all(s, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    read_until(s, "opened\n");
    s.close();
  }
  auto stream = f.held.wait_stream(0);
  REQUIRE(stream);
  CHECK(eventually([&] { return f.held.streams_closed == 1; }));
  CHECK(stream->closed());
  CHECK(eventually([&] { return f.server->connections() == 0; }));
}

TEST_CASE("a stream ends by itself at its ends_at", "[event_server][stream]") {
  event_fixture f;
  f.held.stream_ends = std::chrono::steady_clock::now() + 300ms;
  auto s = f.connect();
  send_all(s, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  read_until(s, "opened\n");
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(closed_by_server(s));
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  CHECK(eventually([&] { return f.held.streams_closed == 1; }));
}

TEST_CASE("stopping the server closes its streams", "[event_server][stream]") {
  event_fixture f;
  auto s = f.connect();
  send_all(s, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  read_until(s, "opened\n");
  auto stream = f.held.wait_stream(0);
  REQUIRE(stream);
  f.server->stop();
  CHECK(stream->closed());
  CHECK(f.held.streams_closed == 1);
  CHECK(closed_by_server(s));
  CHECK_FALSE(stream->write("after stop"));
}

TEST_CASE("streams count as connections and appear in the stream counters",
          "[event_server][stream]") {
  event_fixture f;
  const auto opened_before = counters().streams_opened.load();
  auto a = f.connect();
  auto b = f.connect();
  send_all(a, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  send_all(b, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  read_until(a, "opened\n");
  read_until(b, "opened\n");
  CHECK(f.server->connections() == 2);
  CHECK(counters().streams_opened.load() == opened_before + 2);
  CHECK(counters().streams_open.load() >= 2);
  a.close();
  b.close();
  CHECK(eventually([&] { return f.held.streams_closed == 2; }));
}

// -- what a hostile client must not get away with ------------------------------------------------

namespace {

// This process's resident memory, bytes.
std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  std::size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// Status code of the first response in `in`, 0 if none.
int status_of(const std::string& in) {
  if (in.rfind("HTTP/1.1 ", 0) != 0 || in.size() < 12)
    return 0;
  return std::stoi(in.substr(9, 3));
}

} // namespace

TEST_CASE("a client that pipelines requests and never reads its answers is not buffered for",
          "[event_server][limits]") {
  event_server_options opts;
  opts.io_timeout = 1s;
  event_fixture f{opts};
  const auto closed_before = counters().http_slow_readers_closed.load();
  const std::size_t rss_before = rss_bytes();
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress::IPv4);
  s.setReceiveBufferSize(4096); // before connecting, so the window stays small
  s.connect(Poco::Net::SocketAddress("127.0.0.1", f.server->port()), Poco::Timespan(5, 0));
  s.setBlocking(false);
  // Pipelined requests, never a byte read back. Without a bound, the server reads them all and
  // keeps every answer (each about 150 bytes for a 40-byte request).
  std::string batch;
  for (int i = 0; i < 1000; ++i)
    batch += "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::size_t offered = 256u << 20;
  std::size_t accepted = 0;
  std::size_t peak_rss = rss_before;
  const auto give_up = std::chrono::steady_clock::now() + 4s;
  while (accepted < offered && std::chrono::steady_clock::now() < give_up) {
    int n = 0;
    try {
      n = s.sendBytes(batch.data() + accepted % batch.size(),
                      static_cast<int>(batch.size() - accepted % batch.size()));
    } catch (const Poco::Exception&) {
      n = 0; // would block, or closed by the server
    }
    if (n > 0)
      accepted += static_cast<std::size_t>(n);
    else
      std::this_thread::sleep_for(5ms);
    peak_rss = std::max(peak_rss, rss_bytes());
  }
  INFO("request bytes the kernel took: " << accepted << ", RSS growth: "
                                         << (peak_rss - rss_before) / 1024 << " KiB");
  // The server stopped reading: the kernel's buffers (a few MiB on loopback) filled, and the
  // rest waited with the client.
  CHECK(accepted < (48u << 20));
  CHECK(peak_rss - rss_before < (48u << 20));
  // Its unsent answers did not move for io_timeout: the connection is closed.
  CHECK(eventually([&] { return counters().http_slow_readers_closed.load() > closed_before; }));
  CHECK(eventually([&] { return f.server->connections() == 0; }));
}

TEST_CASE("partial requests are bounded in total, answered 503 beyond, and their memory is "
          "returned when they close", "[event_server][limits]") {
  event_server_options opts;
  opts.max_buffered_bytes = 8u << 20;
  opts.io_timeout = 30s; // the test closes them
  event_fixture f{opts};
  const std::size_t rss_before = rss_bytes();
  // 400 connections each send 60 KB of a head that never ends (field lines within the 8 KiB
  // limit): 24 MB if all were kept.
  std::string partial = "POST /echo HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 10; ++i)
    partial += "X-Filler-" + std::to_string(i) + ": " + std::string(6000, 'a') + "\r\n";
  std::vector<Poco::Net::StreamSocket> conns;
  for (int i = 0; i < 400; ++i) {
    conns.push_back(f.connect());
    send_all(conns.back(), partial);
  }
  std::this_thread::sleep_for(300ms); // let the loop read them
  int refused = 0;
  for (auto& c : conns) {
    c.setReceiveTimeout(Poco::Timespan(0, 20000));
    const std::string in = read_responses(c, 1);
    if (status_of(in) == 503)
      ++refused;
  }
  const std::size_t rss_during = rss_bytes();
  INFO("refused " << refused << " of 400; RSS growth " << (rss_during - rss_before) / 1024
                  << " KiB");
  CHECK(refused > 0);
  CHECK(refused < 400);
  CHECK(rss_during - rss_before < (8u << 20) + (12u << 20)); // the budget, plus the answers
  conns.clear(); // every connection closes
  CHECK(eventually([&] { return f.server->connections() == 0; }));
  std::this_thread::sleep_for(500ms); // a sweep gives the memory back
  const std::size_t rss_after = rss_bytes();
  INFO("RSS after closing: " << (static_cast<long long>(rss_after) - static_cast<long long>(rss_before)) / 1024
                             << " KiB over the start");
  CHECK(rss_after < rss_before + (6u << 20));
}

TEST_CASE("Host: an HTTP/1.1 request needs exactly one; HTTP/1.0 may have none",
          "[event_server][limits]") {
  event_fixture f;
  {
    auto s = f.connect();
    send_all(s, "GET /hello HTTP/1.1\r\n\r\n");
    const std::string in = read_responses(s, 1);
    CHECK(status_of(in) == 400);
    CHECK(in.find("Host") != std::string::npos);
    CHECK(closed_by_server(s));
  }
  {
    auto s = f.connect();
    send_all(s, "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    CHECK(status_of(read_responses(s, 1)) == 400);
  }
  {
    auto s = f.connect();
    send_all(s, "GET /hello HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n");
    CHECK(status_of(read_responses(s, 1)) == 400);
  }
  {
    auto s = f.connect();
    send_all(s, "GET /hello HTTP/1.0\r\n\r\n");
    CHECK(read_responses(s, 1).find("hello") != std::string::npos);
  }
}

TEST_CASE("Transfer-Encoding in an HTTP/1.0 request is faulty framing: 400 and close",
          "[event_server][limits]") {
  event_fixture f;
  auto s = f.connect();
  send_all(s, "POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\n0\r\n\r\nGET /hello HTTP/1.0\r\n\r\n");
  const std::string in = read_until(s, "\r\n\r\n");
  CHECK(status_of(in) == 400);
  CHECK(in.find("Connection: close") != std::string::npos);
  CHECK(read_until(s, "hello\n", in).find("HTTP/1.1 200") == std::string::npos);
  CHECK(closed_by_server(s));
}

TEST_CASE("the end of a head is found in one pass over its bytes, however they arrive",
          "[event_server][limits]") {
  // head_scanner looks at each byte a bounded number of times: a head trickled one byte per
  // read is not re-parsed from its start on every read.
  std::string head = "GET /hello HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 700; ++i)
    head += "X-Field-" + std::to_string(i) + ": " + std::string(60, 'v') + "\r\n";
  head += "\r\n";
  head_scanner scanner;
  std::size_t end = 0;
  for (std::size_t n = 1; n <= head.size() && end == 0; ++n)
    end = scanner.scan(std::string_view(head).substr(0, n));
  CHECK(end == head.size());
  // Each call looks back two bytes for a blank line it saw the start of: at most three looks
  // per byte when they come one at a time (a re-parse from the start would be ~size²/2).
  CHECK(scanner.examined() <= 3 * head.size());

  // And the server answers such a head, sent in small pieces.
  event_fixture f;
  auto s = f.connect();
  const std::string small = "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n";
  for (char ch : small) {
    send_all(s, std::string(1, ch));
    std::this_thread::sleep_for(1ms);
  }
  CHECK(read_responses(s, 1).find("hello") != std::string::npos);
}

TEST_CASE("beyond the connection limit a reserve answers health checks and 503s the rest",
          "[event_server][limits]") {
  event_server_options opts;
  opts.max_connections = 2;
  opts.reserve_connections = 2;
  event_fixture f{opts};
  std::vector<Poco::Net::StreamSocket> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(f.connect());
    send_all(held.back(), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(status_of(read_responses(held.back(), 1)) == 200);
  }
  {
    auto health = f.connect();
    send_all(health, "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string in = read_responses(health, 1);
    CHECK(status_of(in) == 204);
    CHECK(in.find("Connection: close") != std::string::npos);
    CHECK(closed_by_server(health));
  }
  {
    auto other = f.connect();
    send_all(other, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string in = read_responses(other, 1);
    CHECK(status_of(in) == 503);
    CHECK(in.find("Retry-After: 1") != std::string::npos);
    CHECK(closed_by_server(other));
  }
  // With the reserve taken too (once the two above are gone), a new connection is closed at once.
  REQUIRE(eventually([&] { return f.server->connections() == 2; }));
  const auto refused_before = counters().http_connections_refused[0].load();
  std::vector<Poco::Net::StreamSocket> reserve;
  for (int i = 0; i < 2; ++i)
    reserve.push_back(f.connect());
  CHECK(eventually([&] { return f.server->connections() == 4; }));
  auto beyond = f.connect();
  CHECK(closed_by_server(beyond));
  CHECK(counters().http_connections_refused[0].load() == refused_before + 1);
}

TEST_CASE("one client address gets at most max_connections_per_peer; more are told 429",
          "[event_server][limits]") {
  event_server_options opts;
  opts.max_connections_per_peer = 2;
  event_fixture f{opts};
  std::vector<Poco::Net::StreamSocket> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(f.connect());
    send_all(held.back(), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(status_of(read_responses(held.back(), 1)) == 200);
  }
  auto third = f.connect();
  send_all(third, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(status_of(read_responses(third, 1)) == 429);
  auto health = f.connect();
  send_all(health, "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(status_of(read_responses(health, 1)) == 204);
  // A slot freed is a slot for the same client again.
  held.front().close();
  CHECK(eventually([&] {
    auto again = f.connect();
    send_all(again, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    return status_of(read_responses(again, 1)) == 200;
  }));
}

TEST_CASE("no source under http/ calls the socket or epoll API itself: Poco Net does",
          "[event_server]") {
  const std::regex raw(R"((\bepoll_\w+|\baccept4?\s*\(|::recv\s*\(|::send\s*\(|\brecv\s*\(|\bsend\s*\(\s*\w+\s*,|\beventfd\b|<sys/epoll\.h>))");
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SMSD_SOURCE_DIR) + "/http")) {
    std::ifstream in(entry.path());
    std::string line;
    int number = 0;
    ++files;
    while (std::getline(in, line)) {
      ++number;
      const auto comment = line.find("//");
      const std::string code = comment == std::string::npos ? line : line.substr(0, comment);
      INFO(entry.path().string() << ":" << number << ": " << line);
      CHECK_FALSE(std::regex_search(code, raw));
    }
  }
  CHECK(files > 20);
}

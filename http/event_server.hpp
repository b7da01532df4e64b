#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/error.hpp>

#include "http/http_parser.hpp"
#include "http/router.hpp"

namespace smsd {

struct event_server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;                ///< 0: any free port
  int io_threads = 1;                    ///< event loops (epoll), each serving its connections
  int handler_threads = 32;              ///< threads that run the blocking routes
  int max_connections = 10000;           ///< open at once; more are closed at accept
  std::size_t max_body_bytes = 64 * 1024;
  head_limits limits;
  /// An idle keep-alive connection is closed after this.
  std::chrono::milliseconds idle_timeout{5000};
  /// A request's head and body must arrive, and a response leave, within this.
  std::chrono::milliseconds io_timeout{15000};
  /// A streamed answer (Server-Sent Events) gets a comment line this often.
  std::chrono::milliseconds stream_heartbeat{15000};
  /// A streamed answer whose client leaves more than this unread is closed.
  std::size_t stream_backlog = 256 * 1024;
};

/// smsd's HTTP/1.1 server: a few epoll event loops own every connection, so that a keep-alive
/// connection costs memory, not a thread, and a request waiting for its answer blocks nothing.
///
/// Each loop reads requests (parse_head, then Content-Length or chunked bodies, 100-continue),
/// finds the route and either calls an async route on the loop itself (the webhook: it hands
/// the report on and answers once it is durable, from whichever thread that happens on) or
/// hands a blocking route to the handler threads. Answers come back to the loop through its
/// mailbox (an eventfd wakes it) and are written in the order the requests came; pipelined
/// requests wait their turn. An answer may also be a stream (http_response::stream, Server-Sent
/// Events): what is written to it arrives through the mailbox too, a heartbeat comment goes out
/// every stream_heartbeat, and a client that does not read is dropped at stream_backlog unsent
/// bytes rather than buffered without bound. A connection that ends while the client may still
/// be sending (an oversized body, a malformed request, `Connection: close`) sends its answer,
/// shuts down its sending side and reads what is left, up to 1 MiB or 2 s, before closing, so
/// that the kernel does not reset the connection and destroy the answer.
class event_server {
public:
  event_server(std::shared_ptr<const router> routes, event_server_options options);
  ~event_server();
  event_server(const event_server&) = delete;
  event_server& operator=(const event_server&) = delete;

  /// Binds and starts the loops and handler threads.
  caf::error start();

  /// The port actually bound (after start).
  std::uint16_t port() const;

  /// Stops accepting, closes every connection (answers still on their way are dropped), lets
  /// running handlers finish and joins every thread. Idempotent.
  void stop();

  /// Connections open now, over every loop.
  int connections() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace smsd

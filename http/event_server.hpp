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
  int io_threads = 1;                    ///< event loops (Poco PollSet), each serving its connections
  int handler_threads = 32;              ///< threads that run the blocking routes
  int max_connections = 10000;           ///< open at once; more go to the reserve
  /// Open at once from one client address (0: no limit); more go to the reserve.
  int max_connections_per_peer = 1000;
  /// Connections beyond either limit that still get one answer before closing: a health check
  /// (/livez, /readyz, /metrics) is served, anything else gets 503 (or 429 for the per-client
  /// limit) with Retry-After. Beyond the reserve, new connections are closed at once.
  int reserve_connections = 16;
  /// Unsent output above which a connection is not read (pipelined requests wait in the
  /// kernel); output that does not move for io_timeout closes the connection.
  std::size_t max_unsent_bytes = 64 * 1024;
  /// Unparsed input (partial heads and bodies) held for all connections together; a request
  /// that would pass it is answered 503.
  std::size_t max_buffered_bytes = 64 * 1024 * 1024;
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

/// smsd's HTTP/1.1 server, on Poco Net's socket layer: a few event loops, each a
/// Poco::Net::PollSet (epoll) over non-blocking Poco::Net::StreamSockets, own every connection,
/// so that a keep-alive connection costs memory, not a thread, and a request waiting for its
/// answer blocks nothing. (Poco 1.11's HTTPServer holds a thread per connection and cannot
/// answer later from another thread: docs/architecture.md.)
///
/// The first loop accepts (Poco::Net::ServerSocket) and hands connections round-robin to the
/// loops. Each loop finds the end of a head incrementally, runs the strict checks of
/// check_head on its raw bytes, lets Poco::Net::HTTPRequest tokenise it, reads Content-Length
/// or chunked bodies (100-continue), finds the route and either calls an async route on the
/// loop itself (the webhook: it hands the report on and answers once it is durable, from
/// whichever thread that happens on) or hands a blocking route to the handler threads. Answers
/// come back through the loop's mailbox (a socket pair in its PollSet wakes it), are written
/// with Poco::Net::HTTPResponse in the order the requests came; pipelined requests wait their
/// turn. An answer may also be a stream (http_response::stream, Server-Sent Events): what is
/// written to it arrives through the mailbox too, a heartbeat comment goes out every
/// stream_heartbeat, and a client that does not read is dropped at stream_backlog unsent bytes.
///
/// Bounds: a connection is not read while its unsent output is over max_unsent_bytes, and is
/// closed when that output does not move for io_timeout; unparsed input is bounded per
/// connection (one head) and for the server (max_buffered_bytes, then 503); buffers are
/// released when connections close. Connections beyond max_connections or
/// max_connections_per_peer go to a small reserve that answers health checks and says 503/429
/// to anything else. A connection that ends while the client may still be sending (an
/// oversized body, a malformed request, `Connection: close`) sends its answer, shuts down its
/// sending side and reads what is left, up to 1 MiB or 2 s, before closing, so that the kernel
/// does not reset the connection and destroy the answer.
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

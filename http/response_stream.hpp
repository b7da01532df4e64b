#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace smsd {

/// The body of an answer that stays open (Server-Sent Events): whoever produces it writes to it
/// from any thread; the event server sends what is written, in order, until either side ends it.
///
/// A handler creates the stream, may write to it at once (the text waits, up to `max_backlog`
/// bytes, until the answer's head is out) and returns it in http_response::stream. The server
/// then attaches the connection. The stream ends when its producer calls close(), when the
/// client goes away, when the client reads too slowly (the server drops it rather than buffer
/// without bound), at `ends_at`, or when the server stops; `on_closed` then runs once.
class response_stream {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// Where an attached stream's text goes: the connection's event loop. Called from any thread.
  class sink {
  public:
    virtual ~sink() = default;
    virtual void data(std::string text) = 0;
    virtual void end() = 0;
  };

  explicit response_stream(std::size_t max_backlog, time_point ends_at = time_point::max());
  response_stream(const response_stream&) = delete;
  response_stream& operator=(const response_stream&) = delete;

  /// Queues text for the client. False once the stream is closed, or when more than
  /// max_backlog bytes wait to be attached (the stream is then closed).
  bool write(std::string_view text);

  /// Ends the answer: the connection closes once what was written is out.
  void close();

  bool closed() const;

  /// When the server ends the stream by itself (a token's expiry).
  time_point ends_at() const { return ends_at_; }

  /// Runs once when the stream closes, on whichever thread closed it; set before the handler
  /// returns the stream. It must not call back into this stream's write/close.
  void on_closed(std::function<void()> callback);

  // -- for the server ------------------------------------------------------------------------

  /// The connection is ready: what waited goes out, later writes go straight to `s`.
  void attach(std::shared_ptr<sink> s);

  /// The connection ended (client gone, dropped, server stopping): the stream is closed.
  void detach();

private:
  /// Marks the stream closed and returns the callback to run (outside the lock).
  std::function<void()> close_locked();

  const std::size_t max_backlog_;
  const time_point ends_at_;
  mutable std::mutex mtx_;
  std::string waiting_; ///< written before attach
  std::shared_ptr<sink> sink_;
  bool closed_ = false;
  bool end_requested_ = false; ///< close() before attach: end once attached
  std::function<void()> on_closed_;
};

} // namespace smsd

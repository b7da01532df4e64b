#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <Poco/Net/StreamSocket.h>

#include "tests/support/http_test_client.hpp"

namespace smsd::test {

/// One Server-Sent Event as read off the wire.
struct sse_event {
  std::string id;
  std::string event; ///< "message" when the frame names none
  std::string data;  ///< data lines joined with '\n'
};

/// Opens a GET on a raw socket and reads its answer as an event stream, frame by frame, the way
/// a browser's fetch() reader sees it: the status and head first, then events as they come.
class sse_client {
public:
  /// Connects and sends the request; reads the head (up to 5 s).
  sse_client(std::uint16_t port, const std::string& target, const header_list& headers = {});

  int status() const { return status_; }
  /// The head's raw text (status line and fields).
  const std::string& head() const { return head_; }
  /// For an answer that is not a stream: the body received with the head (and what followed).
  const std::string& pending() const { return buffer_; }

  /// The next event (comments skipped), waiting at most `timeout`; nullopt on timeout or close.
  std::optional<sse_event> next(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// Comments (": ...") seen so far, in order, joined with '\n'.
  const std::string& comments() const { return comments_; }

  /// True once the server closed the connection (after next() saw it, or within `timeout`).
  bool closed_within(std::chrono::milliseconds timeout);

  void close() { socket_.close(); }

private:
  bool read_more(std::chrono::steady_clock::time_point deadline);

  Poco::Net::StreamSocket socket_;
  int status_ = 0;
  std::string head_;
  std::string buffer_;
  std::string comments_;
  bool closed_ = false;
};

} // namespace smsd::test

#include "tests/support/sse_client.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Timespan.h>

namespace smsd::test {

sse_client::sse_client(std::uint16_t port, const std::string& target, const header_list& headers) {
  socket_.connect(Poco::Net::SocketAddress("127.0.0.1", port), Poco::Timespan(5, 0));
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
  for (const auto& [name, value] : headers)
    req += name + ": " + value + "\r\n";
  req += "\r\n";
  socket_.sendBytes(req.data(), static_cast<int>(req.size()));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (buffer_.find("\r\n\r\n") == std::string::npos)
    if (!read_more(deadline))
      return;
  const auto end = buffer_.find("\r\n\r\n");
  head_ = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  if (head_.rfind("HTTP/1.1 ", 0) == 0)
    status_ = std::stoi(head_.substr(9, 3));
}

bool sse_client::read_more(std::chrono::steady_clock::time_point deadline) {
  if (closed_)
    return false;
  const auto left = deadline - std::chrono::steady_clock::now();
  if (left <= std::chrono::milliseconds(0))
    return false;
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(left).count();
  socket_.setReceiveTimeout(Poco::Timespan(micros));
  char buf[8192];
  int n = 0;
  try {
    n = socket_.receiveBytes(buf, sizeof buf);
  } catch (const Poco::TimeoutException&) {
    return false;
  } catch (const Poco::Exception&) {
    n = 0;
  }
  if (n <= 0) {
    closed_ = true;
    return false;
  }
  buffer_.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::optional<sse_event> sse_client::next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto end = buffer_.find("\n\n");
    if (end != std::string::npos) {
      const std::string block = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      sse_event ev;
      bool any = false;
      std::size_t pos = 0;
      while (pos <= block.size()) {
        auto nl = block.find('\n', pos);
        if (nl == std::string::npos)
          nl = block.size();
        const std::string line = block.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.empty())
          continue;
        if (line[0] == ':') {
          comments_ += (comments_.empty() ? "" : "\n") + line;
          continue;
        }
        const auto colon = line.find(':');
        const std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ')
          value.erase(0, 1);
        if (field == "id")
          ev.id = value;
        else if (field == "event")
          ev.event = value;
        else if (field == "data")
          ev.data += (ev.data.empty() ? "" : "\n") + value;
        any = true;
      }
      if (!any)
        continue; // comments only
      if (ev.event.empty())
        ev.event = "message";
      return ev;
    }
    if (!read_more(deadline))
      return std::nullopt;
  }
}

bool sse_client::closed_within(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed_)
    if (!read_more(deadline) && !closed_)
      return false;
  return true;
}

} // namespace smsd::test

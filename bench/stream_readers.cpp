// stream_readers: holds N organizer-page event streams (GET /api/events/{id}/sms-stream) open on
// one smsd and reads them as fast as they come, counting events, until SIGTERM/SIGINT or
// --duration. bench/run_callback_bench.sh --streams N runs it beside the callback load, to
// measure what open streams cost the callbacks.
//
//   stream_readers --target 127.0.0.1:PORT --event ID --token TOKEN [--streams 100]
//                  [--duration 600]
//
// Prints one line when it ends:
//   STREAMS opened=N answered_200=N sms_events=E resync_events=R bytes=B closed_early=C
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::atomic<bool> stop_now{false};

void on_signal(int) {
  stop_now = true;
}

struct reader {
  int fd = -1;
  bool head_done = false;
  bool ok = false;
  std::string carry; // the head until it is complete; then the tail of the last read
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "stream_readers: %s\nusage: stream_readers --target HOST:PORT --event ID "
               "--token TOKEN [--streams N] [--duration S]\n",
               why);
  std::exit(2);
}

// Occurrences of `needle` in carry + data that end inside data, so none is counted twice.
std::uint64_t count_new(const std::string& carry, const char* data, std::size_t n,
                        const std::string& needle) {
  std::string joined = carry;
  joined.append(data, n);
  std::uint64_t found = 0;
  for (auto p = joined.find(needle); p != std::string::npos; p = joined.find(needle, p + 1))
    if (p + needle.size() > carry.size())
      ++found;
  return found;
}

} // namespace

int main(int argc, char** argv) {
  std::string target, event, token;
  int streams = 100;
  int duration = 600;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--target")
      target = value();
    else if (a == "--event")
      event = value();
    else if (a == "--token")
      token = value();
    else if (a == "--streams")
      streams = std::atoi(value().c_str());
    else if (a == "--duration")
      duration = std::atoi(value().c_str());
    else
      usage(("unknown option " + a).c_str());
  }
  const auto colon = target.rfind(':');
  if (colon == std::string::npos || event.empty() || token.empty() || streams < 1 || duration < 1)
    usage("--target HOST:PORT, --event and --token are required");
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(target.c_str() + colon + 1)));
  if (::inet_pton(AF_INET, target.substr(0, colon).c_str(), &addr.sin_addr) != 1)
    usage("--target must be an IPv4 address and port");
  const std::string request = "GET /api/events/" + event
                              + "/sms-stream HTTP/1.1\r\nHost: " + target
                              + "\r\nAccept: text/event-stream\r\nAuthorization: Bearer " + token
                              + "\r\n\r\n";

  std::vector<reader> readers(static_cast<std::size_t>(streams));
  for (auto& r : readers) {
    r.fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (r.fd < 0 || ::connect(r.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::perror("stream_readers: connect");
      return 1;
    }
    if (::send(r.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
      std::perror("stream_readers: send");
      return 1;
    }
  }

  std::uint64_t sms = 0, resync = 0, bytes = 0, closed_early = 0, answered = 0;
  std::vector<pollfd> fds(readers.size());
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(duration);
  char buf[65536];
  int open = streams;
  while (!stop_now && open > 0 && std::chrono::steady_clock::now() < end) {
    for (std::size_t i = 0; i < readers.size(); ++i)
      fds[i] = {readers[i].fd, POLLIN, 0};
    if (::poll(fds.data(), fds.size(), 200) < 0)
      continue; // EINTR: the loop condition decides
    for (std::size_t i = 0; i < readers.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)) || readers[i].fd < 0)
        continue;
      auto& r = readers[i];
      const ssize_t n = ::recv(r.fd, buf, sizeof buf, 0);
      if (n <= 0) {
        ::close(r.fd);
        r.fd = -1;
        ++closed_early;
        --open;
        continue;
      }
      bytes += static_cast<std::uint64_t>(n);
      const auto size = static_cast<std::size_t>(n);
      if (!r.head_done) {
        r.carry.append(buf, size);
        const auto head_end = r.carry.find("\r\n\r\n");
        if (head_end == std::string::npos)
          continue;
        r.head_done = true;
        r.ok = r.carry.rfind("HTTP/1.1 200", 0) == 0;
        answered += r.ok ? 1 : 0;
        const std::string body = r.carry.substr(head_end + 4);
        sms += count_new("", body.data(), body.size(), "event: sms\n");
        resync += count_new("", body.data(), body.size(), "event: resync\n");
        r.carry = body.size() > 16 ? body.substr(body.size() - 16) : body;
        continue;
      }
      sms += count_new(r.carry, buf, size, "event: sms\n");
      resync += count_new(r.carry, buf, size, "event: resync\n");
      r.carry.append(buf, size);
      if (r.carry.size() > 16)
        r.carry.erase(0, r.carry.size() - 16);
    }
  }
  for (auto& r : readers)
    if (r.fd >= 0)
      ::close(r.fd);
  std::printf("STREAMS opened=%d answered_200=%llu sms_events=%llu resync_events=%llu bytes=%llu "
              "closed_early=%llu\n",
              streams, static_cast<unsigned long long>(answered),
              static_cast<unsigned long long>(sms), static_cast<unsigned long long>(resync),
              static_cast<unsigned long long>(bytes),
              static_cast<unsigned long long>(closed_early));
  return 0;
}

#include "http/http_listener.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/SocketImpl.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

namespace smsd {

namespace {

// How much is read and dropped at most, and for how long, before a connection closes.
constexpr std::size_t linger_bytes = 1 << 20;
constexpr auto linger_time = std::chrono::milliseconds(2000);

// Set by drain_before_close() for the connection this thread serves.
thread_local bool must_drain = false;

// `fd` is a duplicate of the connection's descriptor, so the socket outlives Poco's close of
// its own descriptor. Unless a handler asked for draining or input is waiting, close at once.
// Else send our FIN (if Poco has not), then read until the client's FIN, the byte bound or the
// deadline, and only then close: the answer already sent is not destroyed by a reset.
void close_gracefully(int fd, bool drain) {
  pollfd p{fd, POLLIN, 0};
  if (drain || ::poll(&p, 1, 0) > 0) {
    ::shutdown(fd, SHUT_WR);
    const auto deadline = std::chrono::steady_clock::now() + linger_time;
    char buf[16 * 1024];
    std::size_t drained = 0;
    while (drained < linger_bytes) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      p.revents = 0;
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        break;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      drained += static_cast<std::size_t>(n);
    }
  }
  ::close(fd);
}

class http_connection : public Poco::Net::HTTPServerConnection {
public:
  using Poco::Net::HTTPServerConnection::HTTPServerConnection;

  void run() override {
    // Poco's session closes the socket's descriptor when run() ends, with no chance to drain
    // it first; a duplicate descriptor keeps the socket open until close_gracefully is done.
    const int fd = ::dup(socket().impl()->sockfd());
    must_drain = false;
    try {
      Poco::Net::HTTPServerConnection::run();
    } catch (...) {
      if (fd >= 0)
        close_gracefully(fd, must_drain);
      throw;
    }
    if (fd >= 0)
      close_gracefully(fd, must_drain);
  }
};

class http_connection_factory : public Poco::Net::TCPServerConnectionFactory {
public:
  http_connection_factory(Poco::Net::HTTPServerParams::Ptr params,
                          Poco::Net::HTTPRequestHandlerFactory::Ptr factory)
    : params_(std::move(params)), factory_(std::move(factory)) {
  }

  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new http_connection(socket, params_, factory_);
  }

private:
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
};

} // namespace

void drain_before_close() {
  must_drain = true;
}

http_listener::http_listener(Poco::SharedPtr<request_dispatcher_factory> factory,
                             Poco::ThreadPool& pool, const Poco::Net::ServerSocket& socket,
                             Poco::Net::HTTPServerParams::Ptr params)
  : Poco::Net::TCPServer(new http_connection_factory(params, factory), pool, socket, params),
    factory_(factory) {
}

http_listener::~http_listener() {
  stop();
}

void http_listener::stopAll(bool abort_current) {
  stop();
  factory_->stop_connections(abort_current);
}

} // namespace smsd

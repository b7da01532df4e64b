#pragma once

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/SharedPtr.h>
#include <Poco/ThreadPool.h>

#include "http/request_dispatcher.hpp"

namespace smsd {

/// Called from a request handler: the connection serving this thread will close after the
/// answer while the client may still be sending (its body was not read to the end), so it must
/// drain before closing, even if nothing has arrived yet.
void drain_before_close();

/// Poco's HTTPServer, assembled from the same parts (a TCPServer running Poco's
/// HTTPServerConnection on our thread pool), with one difference: a connection that ends while
/// the client may still be sending (Poco's own 400 for oversized headers, our 413, a
/// `Connection: close` answer) shuts down its sending side and reads what is left, up to a bound,
/// before closing. Closing with unread data would make the kernel send a reset, and the client
/// could lose the answer that was already on its way.
class http_listener : public Poco::Net::TCPServer {
public:
  http_listener(Poco::SharedPtr<request_dispatcher_factory> factory, Poco::ThreadPool& pool,
                const Poco::Net::ServerSocket& socket, Poco::Net::HTTPServerParams::Ptr params);
  ~http_listener() override;

  /// As HTTPServer::stopAll: stops accepting, then tells every open connection to stop; with
  /// abort_current their sockets are shut down at once, ending keep-alive waits.
  void stopAll(bool abort_current);

private:
  Poco::SharedPtr<request_dispatcher_factory> factory_;
};

} // namespace smsd

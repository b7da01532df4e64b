#pragma once

#include <cstddef>
#include <memory>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include "http/router.hpp"

namespace smsd {

/// Poco's side of every request: reads the body (reading stops past max_body_bytes; the request
/// is then marked too large and its connection closed after the answer), routes method + path,
/// runs the handler and writes its response. Unknown paths get our 404 and wrong methods our
/// 405; an exception from a handler becomes a 500 `{"error": ...}`. Nothing escapes into Poco.
class request_dispatcher : public Poco::Net::HTTPRequestHandler {
public:
  request_dispatcher(std::shared_ptr<const router> routes, std::size_t max_body_bytes);

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override;

private:
  std::shared_ptr<const router> routes_;
  std::size_t max_body_bytes_;
};

/// Hands every request to a request_dispatcher; never answers nullptr (Poco would send 501).
class request_dispatcher_factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
  request_dispatcher_factory(std::shared_ptr<const router> routes, std::size_t max_body_bytes);

  /// Refuses `Expect: 100-continue` for a declared body over the cap, so that the client does
  /// not send it only to get a 413.
  Poco::Net::HTTPRequestHandler*
  createRequestHandler(const Poco::Net::HTTPServerRequest& request) override;

  /// Tells the open connections that the server stopped (what HTTPServer::stopAll does); with
  /// abort_current their sockets are shut down at once.
  void stop_connections(bool abort_current);

private:
  std::shared_ptr<const router> routes_;
  std::size_t max_body_bytes_;
};

} // namespace smsd

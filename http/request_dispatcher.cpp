#include "http/request_dispatcher.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <istream>
#include <string>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "common/log.hpp"
#include "http/errors.hpp"
#include "http/http_listener.hpp"

namespace smsd {

namespace {

struct body_result {
  std::string data;
  bool too_large = false;
  bool failed = false; ///< unreadable: malformed framing, timeout, or the client went away
};

body_result read_body(Poco::Net::HTTPServerRequest& request, std::size_t max) {
  body_result r;
  const bool chunked = request.getChunkedTransferEncoding();
  // A request with neither Content-Length nor chunked framing has no body (RFC 9112 §6.3);
  // Poco would otherwise read until the client closes.
  if (!chunked && !request.hasContentLength())
    return r;
  Poco::Int64 declared = -1;
  try {
    if (!chunked)
      declared = request.getContentLength64();
  } catch (const Poco::SyntaxException&) {
    declared = -1;
  }
  if (!chunked && declared < 0) {
    r.failed = true;
    return r;
  }
  if (declared == 0)
    return r;
  if (!chunked && static_cast<Poco::UInt64>(declared) > max) {
    // Not read at all: the connection closes after the answer (http_listener drains it).
    r.too_large = true;
    return r;
  }
  std::istream& in = request.stream();
  char buf[16 * 1024];
  std::size_t total = 0;
  // Reading stops as soon as more than max bytes arrived.
  while (in) {
    in.read(buf, sizeof buf);
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0)
      break;
    total += n;
    if (total > max) {
      r.too_large = true;
      break;
    }
    r.data.append(buf, n);
  }
  if (in.bad() || (!chunked && !r.too_large && total < static_cast<std::size_t>(declared)))
    r.failed = true;
  if (r.too_large)
    r.data.clear();
  return r;
}

void write_response(Poco::Net::HTTPServerResponse& response, const http_response& out,
                    bool close) {
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(out.status));
  for (const auto& [name, value] : out.headers)
    response.set(name, value);
  response.set("Cache-Control", "no-store");
  if (close)
    response.setKeepAlive(false);
  if (out.status == 204 || out.status == 304) {
    // No body and no Content-Length (RFC 9110 §8.6); Poco keeps the connection open for these.
    response.setContentLength(Poco::Net::HTTPMessage::UNKNOWN_CONTENT_LENGTH);
    response.send();
    return;
  }
  if (!out.content_type.empty())
    response.setContentType(out.content_type);
  response.sendBuffer(out.body.data(), out.body.size());
}

} // namespace

request_dispatcher::request_dispatcher(std::shared_ptr<const router> routes,
                                       std::size_t max_body_bytes)
  : routes_(std::move(routes)), max_body_bytes_(max_body_bytes) {
}

void request_dispatcher::handleRequest(Poco::Net::HTTPServerRequest& request,
                                       Poco::Net::HTTPServerResponse& response) {
  const auto started = std::chrono::steady_clock::now();
  request_context ctx;
  http_response out;
  bool close = false;
  try {
    ctx.method = request.getMethod();
    ctx.target = request.getURI();
    std::tie(ctx.path, ctx.query) = split_target(ctx.target);
    ctx.headers = &request;
    ctx.peer = request.clientAddress().toString();
    auto body = read_body(request, max_body_bytes_);
    if (body.failed) {
      close = true;
      out = error_response(400, "could not read the request body");
    } else {
      close = body.too_large;
      ctx.body = std::move(body.data);
      ctx.body_too_large = body.too_large;
      auto m = routes_->find(ctx.method, ctx.path);
      if (m.handler) {
        ctx.params = std::move(m.params);
        out = (*m.handler)(ctx);
      } else {
        out = router::failure_response(m);
      }
    }
  } catch (const Poco::Exception& e) {
    spdlog::error("{} {}: {}", ctx.method, ctx.path, e.displayText());
    out = error_response(500, "internal error");
    close = true;
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", ctx.method, ctx.path, e.what());
    out = error_response(500, "internal error");
    close = true;
  }
  if (close)
    drain_before_close();
  try {
    write_response(response, out, close);
  } catch (const std::exception& e) {
    spdlog::debug("{} {}: response not delivered: {}", ctx.method, ctx.path, e.what());
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now()
                                                              - started).count();
    spdlog::debug("{} {} {} {:.1f}ms", ctx.method, ctx.path, out.status, ms);
  }
}

request_dispatcher_factory::request_dispatcher_factory(std::shared_ptr<const router> routes,
                                                       std::size_t max_body_bytes)
  : routes_(std::move(routes)), max_body_bytes_(max_body_bytes) {
}

Poco::Net::HTTPRequestHandler*
request_dispatcher_factory::createRequestHandler(const Poco::Net::HTTPServerRequest& request) {
  try {
    // Poco sends "100 Continue" only while the response status is still 200.
    if (request.getExpectContinue() && request.hasContentLength()
        && request.getContentLength64() > static_cast<Poco::Int64>(max_body_bytes_))
      request.response().setStatusAndReason(
        Poco::Net::HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE);
  } catch (const Poco::Exception&) {
    // a malformed Content-Length: read_body answers it
  }
  return new request_dispatcher(routes_, max_body_bytes_);
}

void request_dispatcher_factory::stop_connections(bool abort_current) {
  serverStopped(this, abort_current);
}

} // namespace smsd

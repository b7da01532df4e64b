#include "twilio_sim/sim_server.hpp"

#include <chrono>
#include <condition_variable>
#include <istream>
#include <mutex>
#include <optional>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"
#include "twilio_sim/resources.hpp"

namespace smsd::sim {

namespace {

using json = nlohmann::json;
using Poco::Net::HTTPRequestHandler;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

// What the handlers share with the server.
struct context {
  context(simulator& s, callback_poster& p, std::size_t max_body)
    : sim(s), poster(p), max_body_bytes(max_body) {
  }

  simulator& sim;
  callback_poster& poster;
  std::size_t max_body_bytes;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;

  // Waits up to `ms`; returns early (false) when the server stops.
  bool wait(int ms) {
    std::unique_lock<std::mutex> lock(mu);
    return !cv.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping; });
  }

  json stats() const {
    json s = sim.stats_json();
    s["callbacks_pending"] = poster.pending();
    s["callbacks_retried"] = poster.retried();
    return s;
  }
};

// Reads the body up to `cap` bytes; nullopt if it is longer (the rest is read and dropped, up to
// a bound, so that closing the connection does not reset it under the answer).
std::optional<std::string> read_body(HTTPServerRequest& request, std::size_t cap) {
  std::istream& in = request.stream();
  std::string body;
  char buf[8192];
  bool too_long = false;
  std::size_t discarded = 0;
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    const auto n = static_cast<std::size_t>(in.gcount());
    if (!too_long && body.size() + n <= cap) {
      body.append(buf, n);
    } else {
      too_long = true;
      discarded += n;
      if (discarded > 16 * cap)
        break;
    }
  }
  if (too_long)
    return std::nullopt;
  return body;
}

void send(HTTPServerResponse& response, int status, const json& body) {
  // A body may hold any bytes a client sent: invalid UTF-8 is written as U+FFFD, not thrown.
  const std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  response.setContentType("application/json");
  response.setContentLength64(static_cast<Poco::Int64>(text.size()));
  response.send().write(text.data(), static_cast<std::streamsize>(text.size()));
}

void send_too_large(HTTPServerResponse& response, std::size_t cap) {
  response.setKeepAlive(false);
  send(response, 413,
       api_error_body(413, 20001,
                      "The request body is larger than " + std::to_string(cap) + " bytes"));
}

// Closes the connection without a word: the client sees it drop after sending its request.
void drop_connection(HTTPServerRequest& request, HTTPServerResponse& response) {
  response.setKeepAlive(false);
  if (auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request)) {
    try {
      impl->socket().shutdown();
    } catch (const Poco::Exception&) {
    }
  }
}

std::string path_of(const std::string& uri) {
  return uri.substr(0, uri.find('?'));
}

std::string query_of(const std::string& uri) {
  const std::size_t q = uri.find('?');
  return q == std::string::npos ? std::string() : uri.substr(q + 1);
}

// A handler that never lets an exception reach Poco (which would close the connection without
// an answer): anything unexpected becomes a 500 in Twilio's error shape.
class guarded_handler : public HTTPRequestHandler {
public:
  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) final {
    try {
      serve(request, response);
    } catch (const std::exception& e) {
      spdlog::error("twilio_sim: {} {} failed: {}", request.getMethod(), path_of(request.getURI()),
                    e.what());
      if (!response.sent()) {
        try {
          response.setKeepAlive(false);
          send(response, 500, api_error_body(500, 20500, "Internal Server Error"));
        } catch (...) {
        }
      }
    }
  }

protected:
  virtual void serve(HTTPServerRequest& request, HTTPServerResponse& response) = 0;
};

// Twilio's Messages API.
class rest_handler : public guarded_handler {
public:
  explicit rest_handler(context& ctx) : ctx_(ctx) {
  }

  void serve(HTTPServerRequest& request, HTTPServerResponse& response) override {
    auto body = read_body(request, ctx_.max_body_bytes);
    if (!body) {
      send_too_large(response, ctx_.max_body_bytes);
      return;
    }
    rest_request r;
    r.method = request.getMethod();
    r.path = path_of(request.getURI());
    r.query = query_of(request.getURI());
    r.authorization = request.get("Authorization", "");
    r.body = std::move(*body);
    rest_answer answer = ctx_.sim.handle(r);
    for (auto& job : answer.callbacks)
      ctx_.poster.schedule(std::move(job));
    if (answer.drop_connection) {
      drop_connection(request, response);
      return;
    }
    if (answer.delay_ms > 0 && !ctx_.wait(answer.delay_ms)) {
      drop_connection(request, response); // stopping: no answer
      return;
    }
    if (answer.retry_after_s > 0)
      response.set("Retry-After", std::to_string(answer.retry_after_s));
    send(response, answer.status, answer.body);
  }

private:
  context& ctx_;
};

// The control endpoints under /_sim/ (no auth: loopback only).
class control_handler : public guarded_handler {
public:
  explicit control_handler(context& ctx) : ctx_(ctx) {
  }

  void serve(HTTPServerRequest& request, HTTPServerResponse& response) override {
    auto body = read_body(request, ctx_.max_body_bytes);
    if (!body) {
      send_too_large(response, ctx_.max_body_bytes);
      return;
    }
    const std::string path = path_of(request.getURI());
    const std::string& method = request.getMethod();
    const auto route = [&](const char* p, const char* m) { return path == p && method == m; };
    if (route("/_sim/stats", "GET")) {
      send(response, 200, ctx_.stats());
    } else if (route("/_sim/messages", "GET")) {
      send(response, 200, ctx_.sim.messages_json());
    } else if (route("/_sim/config", "GET")) {
      send(response, 200, to_json(ctx_.sim.current_behaviour()));
    } else if (route("/_sim/config", "PUT")) {
      auto b = parse_behaviour(*body);
      if (!b) {
        send(response, 400, {{"error", message_of(b.error())}});
        return;
      }
      ctx_.sim.set_behaviour(*b);
      spdlog::info("twilio_sim: behaviour replaced");
      send(response, 200, to_json(*b));
    } else if (route("/_sim/reset", "POST")) {
      ctx_.sim.reset();
      ctx_.poster.reset();
      spdlog::info("twilio_sim: reset");
      send(response, 200, ctx_.stats());
    } else if (path == "/_sim/stats" || path == "/_sim/messages" || path == "/_sim/config"
               || path == "/_sim/reset") {
      send(response, 405, {{"error", "method not allowed"}});
    } else {
      send(response, 404, {{"error", "not found"}});
    }
  }

private:
  context& ctx_;
};

class not_found_handler : public guarded_handler {
public:
  void serve(HTTPServerRequest& request, HTTPServerResponse& response) override {
    read_body(request, 64 * 1024);
    send(response, 404,
         api_error_body(404, 20404,
                        "The requested resource " + path_of(request.getURI()) + " was not found"));
  }
};

class handler_factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
  explicit handler_factory(context& ctx) : ctx_(ctx) {
  }

  HTTPRequestHandler* createRequestHandler(const HTTPServerRequest& request) override {
    const std::string& uri = request.getURI();
    if (uri.compare(0, 12, "/2010-04-01/") == 0)
      return new rest_handler(ctx_);
    if (uri.compare(0, 6, "/_sim/") == 0)
      return new control_handler(ctx_);
    return new not_found_handler;
  }

private:
  context& ctx_;
};

} // namespace

struct sim_server::impl {
  sim_options opts;
  simulator sim;
  callback_poster poster;
  context ctx;
  Poco::ThreadPool pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  std::uint16_t port = 0;
  bool stopped = false;

  explicit impl(sim_options o)
    : opts(std::move(o)), sim(opts.acct, opts.initial),
      poster(opts.callbacks,
             [this](const callback_job& job, const callback_result& r) {
               sim.record_callback(job, r);
             }),
      ctx(sim, poster, opts.max_body_bytes),
      pool("twilio_sim", 2, opts.http_threads + 1, 60) {
  }
};

sim_server::sim_server(sim_options opts) : impl_(std::make_unique<impl>(std::move(opts))) {
}

sim_server::~sim_server() {
  stop();
}

caf::error sim_server::start() {
  auto& d = *impl_;
  if (d.server)
    return make_error(errc::invalid_argument, "the simulator is already started");
  try {
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress(d.opts.host, d.opts.port), true);
    socket.listen(256);
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(d.opts.http_threads);
    params->setMaxQueued(d.opts.http_queue);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(30, 0));
    params->setTimeout(Poco::Timespan(30, 0));
    params->setSoftwareVersion("twilio_sim");
    // A connection thread that starts just as the server stops misses the wake-up and waits
    // out its idle time before the pool can be stopped: keep that short, so stop stays quick.
    params->setThreadIdleTime(Poco::Timespan(0, 250 * 1000));
    d.port = socket.address().port();
    d.server = std::make_unique<Poco::Net::HTTPServer>(new handler_factory(d.ctx), d.pool, socket,
                                                       params);
    d.poster.start();
    d.server->start();
  } catch (const Poco::Exception& e) {
    d.server.reset();
    return make_error(errc::unavailable, "cannot listen on " + d.opts.host + ":"
                                           + std::to_string(d.opts.port) + ": "
                                           + e.displayText());
  }
  return {};
}

std::uint16_t sim_server::port() const {
  return impl_->port;
}

void sim_server::stop() {
  auto& d = *impl_;
  if (d.stopped)
    return;
  d.stopped = true;
  {
    std::lock_guard<std::mutex> lock(d.ctx.mu);
    d.ctx.stopping = true;
  }
  d.ctx.cv.notify_all();
  if (d.server) {
    d.server->stopAll(true);
    d.pool.stopAll();
    d.server.reset();
  }
  d.poster.stop();
}

simulator& sim_server::state() {
  return impl_->sim;
}

json sim_server::stats_json() const {
  return impl_->ctx.stats();
}

} // namespace smsd::sim

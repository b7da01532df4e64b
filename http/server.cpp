#include "http/server.hpp"

#include <algorithm>
#include <atomic>
#include <string>

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>
#include <Poco/Timespan.h>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "config/config.hpp"
#include "http/admin_jobs_handlers.hpp"
#include "http/admin_message_handler.hpp"
#include "http/admin_sync_handlers.hpp"
#include "http/handler_env.hpp"
#include "http/health_handlers.hpp"
#include "http/http_listener.hpp"
#include "http/request_dispatcher.hpp"
#include "http/organizer_handlers.hpp"
#include "http/router.hpp"
#include "http/send_handlers.hpp"
#include "http/webhook_handler.hpp"

namespace smsd {

namespace {

// A request's headers and body must arrive, and its response leave, within this time.
constexpr int io_timeout_s = 15;
// An idle keep-alive connection holds a thread; give it back soon.
constexpr int keep_alive_timeout_s = 5;
// Idle pool threads above the minimum are stopped after this long.
constexpr int thread_idle_s = 60;
// How long a connection dispatcher waits for the next connection before giving its thread back.
// Short, because Poco 1.11's dispatcher can miss the wake-up of a stop that comes just as it
// starts waiting; it then sits out this wait, and stopping the pool gave up on it only after
// 10 s (seen in tests as 10 s stops).
constexpr int dispatcher_idle_ms = 250;
constexpr int min_threads = 4;

} // namespace

struct http_server::impl {
  http_dependencies deps;
  std::atomic<bool> stopping{false};
  std::shared_ptr<router> routes = std::make_shared<router>();
  // Declared before the server: destroyed after it.
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<http_listener> server;
  std::uint16_t port = 0;
};

http_server::http_server(http_dependencies deps) : impl_(std::make_unique<impl>()) {
  impl_->deps = deps;
  handler_env env{deps.cfg, deps.intake, deps.stores, deps.sms_sender, &impl_->stopping};
  env.jobs = deps.jobs;
  add_health_routes(*impl_->routes, env);
  add_webhook_routes(*impl_->routes, env);
  add_admin_sync_routes(*impl_->routes, env);
  add_admin_message_routes(*impl_->routes, env);
  add_admin_jobs_routes(*impl_->routes, env);
  add_send_routes(*impl_->routes, env);
  add_organizer_routes(*impl_->routes, env);
}

http_server::~http_server() {
  stop();
}

caf::error http_server::start() {
  if (impl_->server)
    return make_error(errc::internal, "http server already started");
  const config* cfg = impl_->deps.cfg;
  if (!cfg)
    return make_error(errc::invalid_argument, "http server has no configuration");
  if (cfg->http_threads < 1 || cfg->http_queue < 1)
    return make_error(errc::invalid_argument,
                      "SMSD_HTTP_THREADS and SMSD_HTTP_QUEUE must be positive");
  const std::string where = cfg->listen_host + ":" + std::to_string(cfg->listen_port);
  try {
    Poco::Net::SocketAddress address(cfg->listen_host, cfg->listen_port);
    Poco::Net::ServerSocket socket;
    // SO_REUSEADDR for quick restarts; never SO_REUSEPORT, which would let a second instance
    // share the port silently.
    socket.bind(address, true, false);
    socket.listen(std::max(64, cfg->http_queue));

    // Each keep-alive connection holds one thread: http_threads is how many connections are
    // served at once; up to http_queue more wait, and beyond that new ones are dropped.
    auto params = Poco::AutoPtr<Poco::Net::HTTPServerParams>(new Poco::Net::HTTPServerParams);
    params->setMaxThreads(cfg->http_threads);
    params->setMaxQueued(cfg->http_queue);
    params->setThreadIdleTime(Poco::Timespan(0, dispatcher_idle_ms * 1000));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(keep_alive_timeout_s, 0));
    params->setMaxKeepAliveRequests(0);
    params->setTimeout(Poco::Timespan(io_timeout_s, 0));
    params->setSoftwareVersion("");

    impl_->pool = std::make_unique<Poco::ThreadPool>(
      "http", std::min(min_threads, cfg->http_threads), cfg->http_threads, thread_idle_s);
    Poco::SharedPtr<request_dispatcher_factory> factory(
      new request_dispatcher_factory(impl_->routes, cfg->max_body_bytes));
    impl_->server = std::make_unique<http_listener>(factory, *impl_->pool, socket, params);
    impl_->port = socket.address().port();
    impl_->stopping = false;
    impl_->server->start();
  } catch (const Poco::Exception& e) {
    impl_->server.reset();
    impl_->pool.reset();
    return make_error(errc::unavailable, "cannot listen on " + where + ": " + e.displayText());
  }
  spdlog::info("http: listening on {}:{} ({} threads, queue {})", cfg->listen_host, impl_->port,
               cfg->http_threads, cfg->http_queue);
  if (cfg->public_app_url.empty())
    spdlog::warn("http: PUBLIC_APP_URL is not set; no Twilio callback signature can match");
  if (cfg->twilio_auth_token.empty())
    spdlog::warn("http: TWILIO_AUTH_TOKEN is not set; every Twilio callback will be refused");
  return caf::none;
}

std::uint16_t http_server::port() const {
  return impl_->port;
}

std::vector<std::pair<std::string, std::string>> http_server::routes() const {
  return impl_->routes->routes();
}

void http_server::stop() {
  if (!impl_ || !impl_->server)
    return;
  // Handlers waiting for the intake give up (503) instead of holding their threads.
  impl_->stopping = true;
  impl_->server->stopAll(true);
  impl_->pool->stopAll();
  impl_->server.reset();
  impl_->pool.reset();
  spdlog::info("http: stopped");
}

} // namespace smsd

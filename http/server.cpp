#include "http/server.hpp"

#include <atomic>
#include <chrono>
#include <string>


#include "common/errors.hpp"
#include "common/log.hpp"
#include "config/config.hpp"
#include "http/admin_jobs_handlers.hpp"
#include "http/admin_message_handler.hpp"
#include "http/admin_sync_handlers.hpp"
#include "http/handler_env.hpp"
#include "http/health_handlers.hpp"
#include "http/event_handlers.hpp"
#include "http/event_server.hpp"
#include "http/organizer_handlers.hpp"
#include "http/page_handlers.hpp"
#include "http/router.hpp"
#include "http/send_handlers.hpp"
#include "http/stream_handler.hpp"
#include "http/webhook_handler.hpp"

namespace smsd {

namespace {

// A request's head and body must arrive, and its response leave, within this time.
constexpr auto io_timeout = std::chrono::seconds(15);
// An idle keep-alive connection is closed after this.
constexpr auto keep_alive_timeout = std::chrono::seconds(5);

} // namespace

struct http_server::impl {
  http_dependencies deps;
  std::atomic<bool> stopping{false};
  std::shared_ptr<router> routes = std::make_shared<router>();
  std::unique_ptr<event_server> server;
  std::atomic<const event_server*> live{nullptr}; ///< for /metrics, while serving
};

http_server::http_server(http_dependencies deps) : impl_(std::make_unique<impl>()) {
  impl_->deps = deps;
  handler_env env;
  env.cfg = deps.cfg;
  env.intake = deps.intake;
  env.stores = deps.stores;
  env.sms_sender = deps.sms_sender;
  env.stopping = &impl_->stopping;
  env.jobs = deps.jobs;
  env.streams = deps.streams;
  env.extra_metrics = deps.extra_metrics;
  env.open_connections = [impl = impl_.get()] {
    const event_server* s = impl->live.load();
    return s ? s->connections() : 0;
  };
  add_health_routes(*impl_->routes, env);
  add_webhook_routes(*impl_->routes, env);
  add_admin_sync_routes(*impl_->routes, env);
  add_admin_message_routes(*impl_->routes, env);
  add_admin_jobs_routes(*impl_->routes, env);
  add_send_routes(*impl_->routes, env);
  add_organizer_routes(*impl_->routes, env);
  add_event_routes(*impl_->routes, env);
  add_page_routes(*impl_->routes, env);
  add_stream_routes(*impl_->routes, env);
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
  event_server_options opts;
  opts.host = cfg->listen_host;
  opts.port = cfg->listen_port;
  opts.io_threads = cfg->http_io_threads;
  opts.handler_threads = cfg->http_threads;
  opts.max_connections = cfg->http_max_connections;
  opts.max_connections_per_peer = cfg->http_max_connections_per_peer;
  opts.max_body_bytes = cfg->max_body_bytes;
  opts.idle_timeout = keep_alive_timeout;
  opts.io_timeout = io_timeout;
  impl_->stopping = false;
  auto server = std::make_unique<event_server>(impl_->routes, opts);
  if (auto err = server->start())
    return err;
  impl_->server = std::move(server);
  impl_->live = impl_->server.get();
  spdlog::info("http: listening on {}:{} ({} event loop(s), {} handler threads, at most {} "
               "connections)",
               cfg->listen_host, impl_->server->port(), cfg->http_io_threads, cfg->http_threads,
               cfg->http_max_connections);
  if (cfg->public_app_url.empty())
    spdlog::warn("http: PUBLIC_APP_URL is not set; no Twilio callback signature can match");
  if (cfg->twilio_auth_token.empty())
    spdlog::warn("http: TWILIO_AUTH_TOKEN is not set; every Twilio callback will be refused");
  return caf::none;
}

std::uint16_t http_server::port() const {
  return impl_->server ? impl_->server->port() : 0;
}

std::vector<std::pair<std::string, std::string>> http_server::routes() const {
  return impl_->routes->routes();
}

void http_server::stop() {
  if (!impl_ || !impl_->server)
    return;
  // Handlers waiting on something give up (503) instead of holding their threads.
  impl_->stopping = true;
  impl_->server->stop();
  impl_->live = nullptr;
  impl_->server.reset();
  spdlog::info("http: stopped");
}

} // namespace smsd

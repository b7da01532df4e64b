#include "http/health_handlers.hpp"

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "http/errors.hpp"
#include "persistence/store_pool.hpp"

namespace smsd {

namespace {

// Readiness is polled often; it must not queue behind busy connections for long.
constexpr int readiness_acquire_ms = 2000;

http_response not_ready(const std::string& reason, const nlohmann::json& migrations = nullptr) {
  nlohmann::json body{{"status", "not_ready"}, {"error", reason}};
  if (!migrations.is_null())
    body["migrations"] = migrations;
  return json_response(503, body);
}

std::string reason_of(const caf::error& e) {
  auto message = message_of(e);
  return "database not ready (" + std::string(to_string(code_of(e)))
         + (message.empty() ? "" : ": " + message) + ")";
}

http_response readiness(const handler_env& env) {
  if (!env.stores)
    return not_ready("no database configured");
  auto lease = env.stores->acquire(readiness_acquire_ms);
  if (!lease)
    return not_ready(reason_of(lease.error()));
  store& db = **lease;
  auto fail = [&](const caf::error& e) {
    if (code_of(e) == errc::unavailable)
      lease->discard();
    spdlog::warn("readiness check failed: {}", describe(e));
    return not_ready(reason_of(e));
  };
  if (auto err = db.ping())
    return fail(err);
  auto m = db.migrations();
  if (!m)
    return fail(m.error());
  nlohmann::json migrations{{"applied", m->applied}, {"latest", m->latest}};
  if (m->applied != m->latest)
    return not_ready("migrations not applied: database at " + std::to_string(m->applied)
                       + ", this build at " + std::to_string(m->latest),
                     migrations);
  return json_response(200, nlohmann::json{{"status", "ready"}, {"migrations", migrations}});
}

} // namespace

void add_health_routes(router& routes, const handler_env& env) {
  routes.add("GET", "/livez", [](const request_context&) {
    return json_response(200, nlohmann::json{{"status", "ok"}});
  });
  routes.add("GET", "/readyz", [env](const request_context&) { return readiness(env); });
}

} // namespace smsd

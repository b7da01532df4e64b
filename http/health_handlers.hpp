#pragma once

#include "http/handler_env.hpp"
#include "http/router.hpp"

namespace smsd {

/// GET /livez: 200 {"status":"ok"} while the process serves HTTP; never touches the database.
/// GET /readyz: 200 {"status":"ready","migrations":{"applied":N,"latest":N}} when the database
/// answers and every migration is applied; else 503 with the reason.
/// GET /metrics (admin token): counters and gauges in Prometheus text format (docs/operations.md,
/// Metrics).
void add_health_routes(router& routes, const handler_env& env);

} // namespace smsd

#pragma once

#include "http/handler_env.hpp"
#include "http/router.hpp"

namespace smsd {

/// Admin: jobs (admin token; docs/api.md "Admin: jobs").
/// POST /api/admin/jobs/{job}/run: runs reconcile or retention now and answers
///   {"job", "startedAt", "finishedAt", "outcome", "counts"}; 404 unknown job, 409 already
///   running (here or on another instance), 503 when it did not finish in time.
/// GET /api/admin/jobs: {"jobs": [{"job", "schedule", "lastRun": {...} | null, "nextRun"}]}.
/// Without env.jobs (no scheduler), every job is unknown.
void add_admin_jobs_routes(router& routes, const handler_env& env);

} // namespace smsd

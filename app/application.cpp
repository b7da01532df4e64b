#include "app/application.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>

#include "actors/db_workers.hpp"
#include "actors/message_router.hpp"
#include "actors/persistence_actor.hpp"
#include "actors/wal_checkpointer.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "http/server.hpp"
#include "http/sms_stream_hub.hpp"
#include "persistence/store.hpp"
#include "persistence/store_pool.hpp"
#include "scheduling/job_runner.hpp"
#include "scheduling/job_scheduler.hpp"
#include "scheduling/pending_sweep.hpp"
#include "scheduling/reconcile_job.hpp"
#include "scheduling/retention_job.hpp"
#include "sending/phone_number.hpp"
#include "sending/sender.hpp"
#include "twilio/rest_client.hpp"

namespace smsd {

struct application::impl {
  config cfg;
  caf::actor_system_config caf_cfg;
  std::unique_ptr<caf::actor_system> system;
  /// Database work off the CAF scheduler, each on a thread of its own.
  std::vector<std::shared_ptr<store_worker>> writers;
  std::vector<std::shared_ptr<store_worker>> loaders;
  std::shared_ptr<store_worker> sweeper;
  std::unique_ptr<wal_checkpointer> checkpointer; ///< SQLite only
  persistence_actor persistence;
  std::unique_ptr<message_router> router;
  pending_sweep_actor sweep;
  std::unique_ptr<store_pool> stores;
  /// The organizer page's live events: told every committed change by the persistence actor.
  std::unique_ptr<sms_stream_hub> streams;
  std::unique_ptr<twilio::rest_client> twilio;
  std::unique_ptr<sender> sms_sender; ///< null when sending is not configured
  /// The scheduled jobs: each on a worker thread and connection of its own; their timers.
  std::shared_ptr<job_stats> job_totals = std::make_shared<job_stats>();
  std::unique_ptr<job_runner> jobs;
  std::vector<job_timer_actor> job_timers;
  std::unique_ptr<http_server> http;
  bool stopped = false;
};

namespace {

caf::expected<migration_status> migrate(const config& cfg) {
  auto db = open_store(cfg.database_url);
  if (!db)
    return make_error(errc::unavailable, "cannot open the database: " + describe(db.error()));
  auto st = (*db)->migrate();
  if (!st)
    return make_error(errc::database, "migrations failed: " + describe(st.error()));
  return st;
}

} // namespace

caf::expected<int> run_migrations(const config& cfg) {
  auto st = migrate(cfg);
  if (!st)
    return st.error();
  return st->applied;
}

caf::expected<std::unique_ptr<application>> application::start(const config& cfg) {
  if (!known_region(cfg.default_country))
    return make_error(errc::invalid_argument,
                      "SMSD_DEFAULT_COUNTRY: '" + cfg.default_country + "' is not a known region");
  auto migrated = migrate(cfg);
  if (!migrated)
    return migrated.error();
  spdlog::info("database {} at migration {}", cfg.is_postgres() ? "postgresql" : "sqlite",
               migrated->applied);

  auto p = std::make_unique<impl>();
  p->cfg = cfg;
  // Actors only compute and hand work on; the HTTP and database threads need the other cores.
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const int threads = cfg.actor_threads > 0 ? cfg.actor_threads : std::max(1, cores - 1);
  p->caf_cfg.set("scheduler.max-threads", static_cast<size_t>(threads));
  p->system = std::make_unique<caf::actor_system>(p->caf_cfg);
  auto& sys = *p->system;

  const int writers = cfg.db_writers > 0 ? cfg.db_writers : 1;
  const int loaders = cfg.db_readers > 0 ? cfg.db_readers : (cfg.is_postgres() ? 4 : 1);
  auto worker = [&](const std::string& name, bool key_reads_only = false) {
    return std::make_shared<store_worker>(
      cfg.database_url, std::make_unique<thread_executor>(name), key_reads_only);
  };
  std::vector<std::shared_ptr<commit_worker>> commit_workers;
  for (int i = 0; i < writers; ++i) {
    p->writers.push_back(worker("smsd-writer-" + std::to_string(i)));
    commit_workers.push_back(p->writers.back());
  }
  std::vector<std::shared_ptr<load_worker>> load_workers;
  for (int i = 0; i < loaders; ++i) {
    p->loaders.push_back(worker("smsd-loader-" + std::to_string(i), true));
    load_workers.push_back(p->loaders.back());
  }
  p->sweeper = worker("smsd-sweep");
  // SQLite: the WAL is copied into the database file from a thread of its own, not by the commit
  // worker while the next batch waits (actors/wal_checkpointer.hpp).
  if (!cfg.is_postgres())
    p->checkpointer = std::make_unique<wal_checkpointer>(
      cfg.database_url, std::chrono::milliseconds(cfg.sqlite_checkpoint_ms));
  p->stores = std::make_unique<store_pool>(cfg.database_url, cfg.db_pool_size);
  p->streams = std::make_unique<sms_stream_hub>(
    [stores = p->stores.get()](const std::string& event_id,
                               const std::vector<std::string>& attendee_ids)
      -> caf::expected<std::vector<attendee_counts>> {
      auto lease = stores->acquire();
      if (!lease)
        return lease.error();
      auto counts = (*lease)->attendee_counts_for(event_id, attendee_ids);
      if (!counts && code_of(counts.error()) == errc::unavailable)
        lease->discard();
      return counts;
    });
  p->streams->start();
  p->persistence = sys.spawn(
    persistence_impl, std::move(commit_workers), static_cast<std::size_t>(cfg.max_batch_ops),
    change_listener{[hub = p->streams.get()](std::vector<message_change> changes) {
      hub->publish(std::move(changes));
    }});
  p->router = std::make_unique<message_router>(sys, p->persistence, std::move(load_workers),
                                               cfg.message_idle_ms);
  p->sweep = sys.spawn(pending_sweep_impl, p->sweeper, p->router.get(), cfg.pending_sweep_ms);
  caf::anon_send(p->sweep, sweep_atom::value);

  if (cfg.can_send()) {
    twilio::rest_client_config tc;
    tc.base_url = cfg.twilio_api_base_url;
    tc.account_sid = cfg.twilio_account_sid;
    tc.auth_token = cfg.twilio_auth_token;
    tc.connect_timeout_ms = cfg.twilio_connect_timeout_ms;
    tc.read_timeout_ms = cfg.twilio_read_timeout_ms;
    tc.max_concurrency = cfg.twilio_concurrency;
    tc.max_attempts = cfg.twilio_max_attempts;
    tc.backoff_initial_ms = cfg.twilio_backoff_ms;
    tc.backoff_max_ms = cfg.twilio_backoff_max_ms;
    if (!cfg.twilio_ca_file.empty())
      tc.ca_file = cfg.twilio_ca_file;
    p->twilio = std::make_unique<twilio::rest_client>(std::move(tc));
    sender_settings ss;
    ss.public_app_url = cfg.public_app_url;
    if (!cfg.twilio_messaging_service_sid.empty())
      ss.messaging_service_sid = cfg.twilio_messaging_service_sid;
    if (!cfg.twilio_from_number.empty())
      ss.from_number = cfg.twilio_from_number;
    ss.default_region = cfg.default_country;
    ss.ack_timeout_ms = cfg.callback_ack_timeout_ms;
    ss.max_parallel = cfg.send_concurrency;
    p->sms_sender = std::make_unique<sender>(std::move(ss), *p->stores, *p->twilio, *p->router);
  } else {
    spdlog::warn("sending is off: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                 "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER are needed to send");
  }

  // Jobs (DESIGN §1): started after the router, which reconciliation reports through.
  p->jobs = std::make_unique<job_runner>(system_clock_source(), p->job_totals);
  retention_settings rs;
  rs.days = cfg.retention_days;
  p->jobs->add(std::make_shared<retention_job>(rs), cfg.retention_schedule,
               worker("smsd-job-retention"));
  if (p->twilio) {
    reconcile_settings rc;
    rc.stale_after_ms = cfg.reconcile_stale_after_ms;
    rc.window_ms = cfg.reconcile_window_ms;
    p->jobs->add(std::make_shared<reconcile_job>(rc, *p->twilio, *p->router),
                 cfg.reconcile_schedule, worker("smsd-job-reconcile"));
  } else {
    spdlog::warn("reconciliation is off: it needs the Twilio credentials sending needs");
  }
  p->job_timers = start_job_timers(sys, *p->jobs);

  http_dependencies deps;
  deps.cfg = &p->cfg;
  deps.jobs = p->jobs.get();
  deps.intake = p->router.get();
  deps.stores = p->stores.get();
  deps.sms_sender = p->sms_sender.get();
  deps.streams = p->streams.get();
  deps.extra_metrics = [router = p->router.get(), totals = p->job_totals](std::string& out) {
    metric_single(out, "smsd_message_actors", "gauge",
                  "Message actors alive; each stops after SMSD_MESSAGE_IDLE_MS without work.",
                  static_cast<double>(router->size()));
    render_job_metrics(*totals, out);
  };
  p->http = std::make_unique<http_server>(deps);
  std::unique_ptr<application> app{new application(std::move(p))};
  if (auto err = app->impl_->http->start()) {
    app->stop();
    return make_error(errc::unavailable, "cannot listen on " + cfg.listen_host + ":"
                                           + std::to_string(cfg.listen_port) + ": "
                                           + describe(err));
  }
  if (cfg.twilio_auth_token.empty())
    spdlog::warn("TWILIO_AUTH_TOKEN is not set: every status callback will be refused (403)");
  return app;
}

application::application(std::unique_ptr<impl> p) : impl_(std::move(p)) {
}

application::~application() {
  stop();
}

std::uint16_t application::port() const {
  return impl_->http->port();
}

status_intake& application::intake() {
  return *impl_->router;
}

twilio::twilio_api* application::twilio() {
  return impl_->twilio.get();
}

void application::stop() {
  auto& p = *impl_;
  if (p.stopped)
    return;
  p.stopped = true;
  // Order matters (STYLE.md): no new requests, then the actors, then the actor system.
  // Event streams end first: they would otherwise hold their connections to the last moment.
  if (p.streams)
    p.streams->stop();
  if (p.http)
    p.http->stop();
  if (p.system) {
    // Jobs before the router: no timer hands out a tick any more, and a run in progress
    // finishes (its reports still reach the message actors) before the router shuts down.
    for (auto& t : p.job_timers)
      caf::anon_send_exit(t, caf::exit_reason::user_shutdown);
    p.job_timers.clear();
    if (p.jobs)
      p.jobs->stop();
    // No request thread sends and no job reconciles any more.
    p.sms_sender.reset();
    p.twilio.reset();
    caf::anon_send_exit(p.sweep, caf::exit_reason::user_shutdown);
    p.router->shutdown();
    caf::anon_send_exit(p.persistence, caf::exit_reason::user_shutdown);
    p.sweep = nullptr;
    p.persistence = nullptr;
    // The workers finish the task in progress (a commit is never cut in half) and drop the
    // rest; what they held for actors is released before the actor system goes.
    for (auto& w : p.writers)
      w->stop();
    for (auto& l : p.loaders)
      l->stop();
    if (p.sweeper)
      p.sweeper->stop();
    if (p.checkpointer)
      p.checkpointer->stop();
    p.system.reset(); // waits for every actor to finish
  }
  p.writers.clear();
  p.loaders.clear();
  p.sweeper.reset();
  p.checkpointer.reset();
  p.jobs.reset();
  p.router.reset();
  p.http.reset();
  p.streams.reset();
  p.stores.reset();
}

} // namespace smsd

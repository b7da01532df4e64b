#include "config/config.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/errors.hpp"

namespace smsd {

bool config::is_postgres() const {
  return database_url.rfind("postgresql://", 0) == 0 || database_url.rfind("postgres://", 0) == 0;
}

std::string config::sqlite_path() const {
  if (database_url.rfind("sqlite:", 0) == 0)
    return database_url.substr(7);
  return {};
}

env_lookup process_env() {
  return [](const char* name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name))
      return std::string(v);
    return std::nullopt;
  };
}

namespace {

caf::error bad(const std::string& name, const std::string& why) {
  return make_error(errc::invalid_argument, name + ": " + why);
}

caf::expected<long long> to_int(const std::string& name, const std::string& v, long long lo,
                                long long hi) {
  try {
    std::size_t used = 0;
    long long x = std::stoll(v, &used);
    if (used != v.size())
      return bad(name, "expected a whole number, got '" + v + "'");
    if (x < lo || x > hi)
      return bad(name, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return x;
  } catch (const std::exception&) {
    return bad(name, "expected a whole number, got '" + v + "'");
  }
}


// The value goes verbatim into the page's Content-Security-Policy header: one directive's source
// list, so nothing that ends the directive (';'), starts another policy (','), or breaks the
// header line (control characters).
caf::error check_frame_ancestors(const std::string& v) {
  const char* name = "SMSD_FRAME_ANCESTORS";
  if (v.find_first_not_of(" \t") == std::string::npos)
    return bad(name, "must not be empty (use 'none' in single quotes to forbid framing)");
  for (unsigned char c : v)
    if (c < 0x20 || c == 0x7f || c == ';' || c == ',')
      return bad(name, "must be CSP sources separated by spaces, without control characters, "
                       "';' or ','");
  return {};
}

} // namespace

bool config::can_send() const {
  return !twilio_account_sid.empty() && !twilio_auth_token.empty()
         && (!twilio_messaging_service_sid.empty() || !twilio_from_number.empty());
}

caf::expected<config> load_config(const env_lookup& env) {
  // Settings by their environment names; the file fills in, the environment wins.
  std::map<std::string, std::string> values;
  if (auto path = env("SMSD_CONFIG"); path && !path->empty()) {
    std::ifstream in(*path);
    if (!in)
      return bad("SMSD_CONFIG", "cannot read '" + *path + "'");
    nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
      return bad("SMSD_CONFIG", "'" + *path + "' is not a JSON object");
    for (auto& [k, v] : doc.items()) {
      if (v.is_string())
        values[k] = v.get<std::string>();
      else if (v.is_number_integer() || v.is_boolean())
        values[k] = v.dump();
      else if (!v.is_null())
        return bad(k, "in '" + *path + "' must be a string or a number");
    }
  }
  static const char* names[] = {
    "SMSD_LISTEN", "SMSD_DATABASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
    "TWILIO_AUTH_TOKEN_SECONDARY", "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_FROM_NUMBER",
    "TWILIO_API_BASE_URL", "PUBLIC_APP_URL", "NEXT_PUBLIC_APP_URL", "SMSD_JWT_SECRET",
    "SMSD_ADMIN_TOKEN", "SMSD_HTTP_THREADS", "SMSD_HTTP_IO_THREADS",
    "SMSD_HTTP_MAX_CONNECTIONS", "SMSD_HTTP_MAX_CONNECTIONS_PER_PEER", "SMSD_MAX_BODY_BYTES",
    "SMSD_MAX_JSON_DEPTH", "SMSD_CALLBACK_ACK_TIMEOUT_MS", "SMSD_DB_POOL_SIZE", "SMSD_DB_WRITERS",
    "SMSD_DB_READERS", "SMSD_ACTOR_THREADS",
    "SMSD_MAX_BATCH_OPS", "SMSD_MESSAGE_IDLE_MS", "SMSD_PENDING_SWEEP_MS", "SMSD_SQLITE_CHECKPOINT_MS", "SMSD_LOG_LEVEL",
    "SMSD_DEFAULT_COUNTRY", "SMSD_SEND_CONCURRENCY", "SMSD_TWILIO_CONCURRENCY",
    "SMSD_TWILIO_CONNECT_TIMEOUT_MS", "SMSD_TWILIO_READ_TIMEOUT_MS", "SMSD_TWILIO_MAX_ATTEMPTS",
    "SMSD_TWILIO_BACKOFF_MS", "SMSD_TWILIO_BACKOFF_MAX_MS", "SMSD_TWILIO_CA_FILE",
    "SMSD_RETENTION_DAYS", "SMSD_RECONCILE_STALE_AFTER", "SMSD_RECONCILE_WINDOW",
    "SMSD_RETENTION_SCHEDULE", "SMSD_RECONCILE_SCHEDULE", "SMSD_FRAME_ANCESTORS"};
  for (const char* n : names)
    if (auto v = env(n))
      values[n] = *v;
  for (auto& [k, v] : values) {
    bool known = false;
    for (const char* n : names)
      known = known || k == n;
    if (!known && k != "SMSD_CONFIG")
      return bad(k, "unknown setting in SMSD_CONFIG file");
  }

  config cfg;
  auto get = [&](const char* n) -> const std::string* {
    auto i = values.find(n);
    return i == values.end() ? nullptr : &i->second;
  };
  if (auto v = get("SMSD_LISTEN")) {
    auto colon = v->rfind(':');
    if (colon == std::string::npos || colon == 0)
      return bad("SMSD_LISTEN", "expected host:port, got '" + *v + "'");
    auto port = to_int("SMSD_LISTEN", v->substr(colon + 1), 0, 65535);
    if (!port)
      return port.error();
    cfg.listen_host = v->substr(0, colon);
    if (cfg.listen_host.size() > 2 && cfg.listen_host.front() == '[' && cfg.listen_host.back() == ']')
      cfg.listen_host = cfg.listen_host.substr(1, cfg.listen_host.size() - 2);
    cfg.listen_port = static_cast<std::uint16_t>(*port);
  }
  if (auto v = get("SMSD_DATABASE_URL")) {
    cfg.database_url = *v;
    if (!cfg.is_postgres() && (cfg.database_url.rfind("sqlite:", 0) != 0 || cfg.sqlite_path().empty()))
      return bad("SMSD_DATABASE_URL", "expected sqlite:PATH or postgresql://..., got '"
                                         + cfg.database_url.substr(0, 12) + "...'");
  }
  auto str = [&](const char* n, std::string& out) {
    if (auto v = get(n))
      out = *v;
  };
  str("TWILIO_ACCOUNT_SID", cfg.twilio_account_sid);
  str("TWILIO_AUTH_TOKEN", cfg.twilio_auth_token);
  str("TWILIO_AUTH_TOKEN_SECONDARY", cfg.twilio_auth_token_secondary);
  str("TWILIO_MESSAGING_SERVICE_SID", cfg.twilio_messaging_service_sid);
  str("TWILIO_FROM_NUMBER", cfg.twilio_from_number);
  str("TWILIO_API_BASE_URL", cfg.twilio_api_base_url);
  str("NEXT_PUBLIC_APP_URL", cfg.public_app_url);
  str("PUBLIC_APP_URL", cfg.public_app_url);
  str("SMSD_JWT_SECRET", cfg.jwt_secret);
  str("SMSD_ADMIN_TOKEN", cfg.admin_token);
  str("SMSD_LOG_LEVEL", cfg.log_level);
  str("SMSD_DEFAULT_COUNTRY", cfg.default_country);
  str("SMSD_TWILIO_CA_FILE", cfg.twilio_ca_file);
  str("SMSD_FRAME_ANCESTORS", cfg.frame_ancestors);
  if (auto err = check_frame_ancestors(cfg.frame_ancestors))
    return err;

  struct int_setting {
    const char* name;
    long long lo, hi;
    std::function<void(long long)> set;
  };
  const int_setting ints[] = {
    {"SMSD_HTTP_THREADS", 1, 4096, [&](long long x) { cfg.http_threads = int(x); }},
    {"SMSD_HTTP_IO_THREADS", 1, 64, [&](long long x) { cfg.http_io_threads = int(x); }},
    {"SMSD_HTTP_MAX_CONNECTIONS", 1, 1000000, [&](long long x) { cfg.http_max_connections = int(x); }},
    {"SMSD_HTTP_MAX_CONNECTIONS_PER_PEER", 0, 1000000,
     [&](long long x) { cfg.http_max_connections_per_peer = int(x); }},
    {"SMSD_MAX_BODY_BYTES", 1024, 16 << 20, [&](long long x) { cfg.max_body_bytes = std::size_t(x); }},
    {"SMSD_MAX_JSON_DEPTH", 2, 512, [&](long long x) { cfg.max_json_depth = int(x); }},
    {"SMSD_CALLBACK_ACK_TIMEOUT_MS", 100, 60000, [&](long long x) { cfg.callback_ack_timeout_ms = int(x); }},
    {"SMSD_DB_POOL_SIZE", 1, 256, [&](long long x) { cfg.db_pool_size = int(x); }},
    {"SMSD_DB_WRITERS", 0, 32, [&](long long x) { cfg.db_writers = int(x); }},
    {"SMSD_DB_READERS", 0, 32, [&](long long x) { cfg.db_readers = int(x); }},
    {"SMSD_ACTOR_THREADS", 0, 256, [&](long long x) { cfg.actor_threads = int(x); }},
    {"SMSD_MAX_BATCH_OPS", 1, 100000, [&](long long x) { cfg.max_batch_ops = int(x); }},
    {"SMSD_MESSAGE_IDLE_MS", 10, 3600000, [&](long long x) { cfg.message_idle_ms = int(x); }},
    {"SMSD_PENDING_SWEEP_MS", 10, 86400000, [&](long long x) { cfg.pending_sweep_ms = int(x); }},
    {"SMSD_SQLITE_CHECKPOINT_MS", 5, 60000, [&](long long x) { cfg.sqlite_checkpoint_ms = int(x); }},
    {"SMSD_SEND_CONCURRENCY", 1, 256, [&](long long x) { cfg.send_concurrency = int(x); }},
    {"SMSD_TWILIO_CONCURRENCY", 1, 1024, [&](long long x) { cfg.twilio_concurrency = int(x); }},
    {"SMSD_TWILIO_CONNECT_TIMEOUT_MS", 100, 60000, [&](long long x) { cfg.twilio_connect_timeout_ms = int(x); }},
    {"SMSD_TWILIO_READ_TIMEOUT_MS", 100, 120000, [&](long long x) { cfg.twilio_read_timeout_ms = int(x); }},
    {"SMSD_TWILIO_MAX_ATTEMPTS", 1, 20, [&](long long x) { cfg.twilio_max_attempts = int(x); }},
    {"SMSD_TWILIO_BACKOFF_MS", 1, 60000, [&](long long x) { cfg.twilio_backoff_ms = int(x); }},
    {"SMSD_TWILIO_BACKOFF_MAX_MS", 1, 600000, [&](long long x) { cfg.twilio_backoff_max_ms = int(x); }},
    {"SMSD_RETENTION_DAYS", 1, 36500, [&](long long x) { cfg.retention_days = int(x); }},
  };
  for (auto& s : ints)
    if (auto v = get(s.name)) {
      auto x = to_int(s.name, *v, s.lo, s.hi);
      if (!x)
        return x.error();
      s.set(*x);
    }

  struct duration_setting {
    const char* name;
    millis& out;
  };
  for (auto d : {duration_setting{"SMSD_RECONCILE_STALE_AFTER", cfg.reconcile_stale_after_ms},
                 duration_setting{"SMSD_RECONCILE_WINDOW", cfg.reconcile_window_ms}})
    if (auto v = get(d.name)) {
      auto x = parse_duration(*v);
      if (!x)
        return bad(d.name, describe(x.error()));
      d.out = *x;
    }
  if (cfg.reconcile_window_ms <= cfg.reconcile_stale_after_ms)
    return bad("SMSD_RECONCILE_WINDOW", "must be longer than SMSD_RECONCILE_STALE_AFTER");
  struct schedule_setting {
    const char* name;
    schedule& out;
  };
  for (auto d : {schedule_setting{"SMSD_RETENTION_SCHEDULE", cfg.retention_schedule},
                 schedule_setting{"SMSD_RECONCILE_SCHEDULE", cfg.reconcile_schedule}})
    if (auto v = get(d.name)) {
      auto x = parse_schedule(*v);
      if (!x)
        return bad(d.name, describe(x.error()));
      d.out = *x;
    }

  static const char* levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  bool level_ok = false;
  for (auto l : levels)
    level_ok = level_ok || cfg.log_level == l;
  if (!level_ok)
    return bad("SMSD_LOG_LEVEL", "expected one of trace, debug, info, warn, error, critical, off");

  if (cfg.default_country.size() != 2 || !std::isupper(static_cast<unsigned char>(cfg.default_country[0]))
      || !std::isupper(static_cast<unsigned char>(cfg.default_country[1])))
    return bad("SMSD_DEFAULT_COUNTRY", "expected a two-letter region code such as US or GB");
  if (cfg.twilio_backoff_max_ms < cfg.twilio_backoff_ms)
    return bad("SMSD_TWILIO_BACKOFF_MAX_MS", "must not be below SMSD_TWILIO_BACKOFF_MS");

  if (cfg.public_app_url.empty())
    cfg.public_app_url = "http://" + cfg.listen_host + ":" + std::to_string(cfg.listen_port);
  while (!cfg.public_app_url.empty() && cfg.public_app_url.back() == '/')
    cfg.public_app_url.pop_back();
  if (cfg.public_app_url.rfind("http://", 0) != 0 && cfg.public_app_url.rfind("https://", 0) != 0)
    return bad("PUBLIC_APP_URL", "must start with http:// or https://");
  if (cfg.twilio_api_base_url.rfind("http://", 0) != 0
      && cfg.twilio_api_base_url.rfind("https://", 0) != 0)
    return bad("TWILIO_API_BASE_URL", "must start with http:// or https://");
  return cfg;
}

} // namespace smsd

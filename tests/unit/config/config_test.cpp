#include "config/config.hpp"

#include <cstdio>
#include <fstream>
#include <map>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/errors.hpp"

using namespace smsd;

namespace {

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end())
      return std::nullopt;
    return it->second;
  };
}

} // namespace

TEST_CASE("defaults listen on loopback 8080 with the embedded SQLite file", "[config]") {
  auto cfg = load_config(env_of({}));
  REQUIRE(cfg);
  CHECK(cfg->listen_host == "127.0.0.1");
  CHECK(cfg->listen_port == 8080);
  CHECK(cfg->database_url == "sqlite:./data/smsd.db");
  CHECK(cfg->sqlite_path() == "./data/smsd.db");
  CHECK_FALSE(cfg->is_postgres());
  CHECK(cfg->public_app_url == "http://127.0.0.1:8080");
  CHECK(cfg->twilio_api_base_url == "https://api.twilio.com");
}

TEST_CASE("the environment wins over the JSON file", "[config]") {
  auto path = std::string("/tmp/smsd-config-test-") + std::to_string(::getpid()) + ".json";
  {
    std::ofstream out(path);
    out << R"({"SMSD_LISTEN": "0.0.0.0:9000", "SMSD_HTTP_THREADS": 64,
               "SMSD_DATABASE_URL": "postgresql://u@h/db"})";
  }
  auto cfg = load_config(env_of({{"SMSD_CONFIG", path}, {"SMSD_HTTP_THREADS", "128"}}));
  std::remove(path.c_str());
  REQUIRE(cfg);
  CHECK(cfg->listen_host == "0.0.0.0");
  CHECK(cfg->listen_port == 9000);
  CHECK(cfg->http_threads == 128);
  CHECK(cfg->is_postgres());
}

TEST_CASE("PUBLIC_APP_URL wins over NEXT_PUBLIC_APP_URL and loses its trailing slash", "[config]") {
  auto cfg = load_config(env_of({{"NEXT_PUBLIC_APP_URL", "https://old.example"},
                                 {"PUBLIC_APP_URL", "https://app.example/"}}));
  REQUIRE(cfg);
  CHECK(cfg->public_app_url == "https://app.example");
  auto next = load_config(env_of({{"NEXT_PUBLIC_APP_URL", "https://next.example"}}));
  REQUIRE(next);
  CHECK(next->public_app_url == "https://next.example");
}

TEST_CASE("a bad setting is an error that names it", "[config]") {
  struct bad_case {
    const char* name;
    const char* value;
  } cases[] = {
    {"SMSD_LISTEN", "8080"},          {"SMSD_LISTEN", "host:99999"},
    {"SMSD_LISTEN", "host:port"},     {"SMSD_DATABASE_URL", "mysql://x"},
    {"SMSD_DATABASE_URL", "sqlite:"}, {"SMSD_HTTP_THREADS", "0"},
    {"SMSD_HTTP_THREADS", "12abc"},   {"PUBLIC_APP_URL", "ftp://x"},
    {"SMSD_LOG_LEVEL", "loud"},       {"TWILIO_API_BASE_URL", "api.twilio.com"},
    {"SMSD_DB_READERS", "-1"},        {"SMSD_ACTOR_THREADS", "257"},
    {"SMSD_HTTP_IO_THREADS", "0"},    {"SMSD_HTTP_MAX_CONNECTIONS", "0"},
  };
  for (auto& c : cases) {
    auto cfg = load_config(env_of({{c.name, c.value}}));
    INFO(c.name << "=" << c.value);
    REQUIRE_FALSE(cfg);
    CHECK(code_of(cfg.error()) == errc::invalid_argument);
    CHECK(message_of(cfg.error()).rfind(c.name, 0) == 0);
  }
}

TEST_CASE("thread and connection counts default to auto and can be set", "[config]") {
  auto defaults = load_config(env_of({}));
  REQUIRE(defaults);
  CHECK(defaults->db_readers == 0);
  CHECK(defaults->actor_threads == 0);
  CHECK(defaults->http_io_threads == 1);
  CHECK(defaults->http_threads == 32);
  CHECK(defaults->http_max_connections == 10000);
  auto set = load_config(env_of({{"SMSD_DB_READERS", "3"}, {"SMSD_ACTOR_THREADS", "2"},
                                 {"SMSD_HTTP_IO_THREADS", "2"},
                                 {"SMSD_HTTP_MAX_CONNECTIONS", "500"}}));
  REQUIRE(set);
  CHECK(set->db_readers == 3);
  CHECK(set->actor_threads == 2);
  CHECK(set->http_io_threads == 2);
  CHECK(set->http_max_connections == 500);
}

TEST_CASE("a configuration file that is missing, not JSON or has unknown keys is refused",
          "[config]") {
  CHECK_FALSE(load_config(env_of({{"SMSD_CONFIG", "/nonexistent/smsd.json"}})));
  auto path = std::string("/tmp/smsd-config-bad-") + std::to_string(::getpid()) + ".json";
  for (auto text : {"[1,2]", "{not json", R"({"SMSD_LISTN": "x"})", R"({"SMSD_LISTEN": [1]})"}) {
    {
      std::ofstream out(path);
      out << text;
    }
    INFO(text);
    CHECK_FALSE(load_config(env_of({{"SMSD_CONFIG", path}})));
  }
  std::remove(path.c_str());
}

TEST_CASE("an error about a secret never contains its value", "[config]") {
  auto cfg = load_config(env_of({{"SMSD_CONFIG", "/nonexistent"},
                                 {"TWILIO_AUTH_TOKEN", "super-secret-token"}}));
  REQUIRE_FALSE(cfg);
  CHECK(describe(cfg.error()).find("super-secret-token") == std::string::npos);
}

TEST_CASE("job settings default to 90 days, 12h stale, 7d window, daily 03:00 and every 1h",
          "[config]") {
  auto cfg = load_config(env_of({}));
  REQUIRE(cfg);
  CHECK(cfg->retention_days == 90);
  CHECK(cfg->reconcile_stale_after_ms == 12LL * 3600 * 1000);
  CHECK(cfg->reconcile_window_ms == 7LL * 24 * 3600 * 1000);
  CHECK(cfg->retention_schedule.text() == "daily 03:00");
  CHECK(cfg->reconcile_schedule.text() == "every 1h");
}

TEST_CASE("job settings are read from the environment and the JSON file", "[config]") {
  auto path = std::string("/tmp/smsd-config-jobs-") + std::to_string(::getpid()) + ".json";
  {
    std::ofstream out(path);
    out << R"({"SMSD_RETENTION_SCHEDULE": "daily at 04:30", "SMSD_RECONCILE_SCHEDULE": "every 15m",
               "SMSD_RETENTION_DAYS": 30})";
  }
  auto cfg = load_config(env_of({{"SMSD_CONFIG", path},
                                 {"SMSD_RECONCILE_STALE_AFTER", "30s"},
                                 {"SMSD_RECONCILE_WINDOW", "2d"},
                                 {"SMSD_RECONCILE_SCHEDULE", "every 2s"}}));
  std::remove(path.c_str());
  REQUIRE(cfg);
  CHECK(cfg->retention_days == 30);
  CHECK(cfg->retention_schedule.text() == "daily 04:30");
  CHECK(cfg->reconcile_schedule.text() == "every 2s");
  CHECK(cfg->reconcile_stale_after_ms == 30000);
  CHECK(cfg->reconcile_window_ms == 2LL * 24 * 3600 * 1000);
}

TEST_CASE("bad job settings are refused with the setting's name", "[config]") {
  auto message = [](std::map<std::string, std::string> vars) {
    auto cfg = load_config(env_of(std::move(vars)));
    REQUIRE_FALSE(cfg);
    return describe(cfg.error());
  };
  CHECK_THAT(message({{"SMSD_RECONCILE_STALE_AFTER", "12"}}),
             Catch::Contains("SMSD_RECONCILE_STALE_AFTER") && Catch::Contains("unit"));
  CHECK_THAT(message({{"SMSD_RECONCILE_STALE_AFTER", "-5m"}}),
             Catch::Contains("SMSD_RECONCILE_STALE_AFTER"));
  CHECK_THAT(message({{"SMSD_RETENTION_SCHEDULE", "daily 25:00"}}),
             Catch::Contains("SMSD_RETENTION_SCHEDULE") && Catch::Contains("hour"));
  CHECK_THAT(message({{"SMSD_RECONCILE_SCHEDULE", "hourly"}}),
             Catch::Contains("SMSD_RECONCILE_SCHEDULE"));
  CHECK_THAT(message({{"SMSD_RETENTION_DAYS", "0"}}), Catch::Contains("SMSD_RETENTION_DAYS"));
  CHECK_THAT(message({{"SMSD_RECONCILE_WINDOW", "1h"}}),
             Catch::Contains("SMSD_RECONCILE_WINDOW"));
}

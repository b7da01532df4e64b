#include "tests/support/test_databases.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <system_error>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "persistence/postgres_admin.hpp"

namespace smsd::test {

namespace {

/// What this process created, cleaned up at exit (static destruction).
class cleanup_registry {
public:
  ~cleanup_registry() {
    for (const auto& [server, name] : databases_)
      drop_postgres_database(server, name);
    for (const auto& dir : folders_) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }

  void add_folder(std::filesystem::path dir) {
    std::lock_guard<std::mutex> guard{mtx_};
    folders_.push_back(std::move(dir));
  }

  void add_database(std::string server, std::string name) {
    std::lock_guard<std::mutex> guard{mtx_};
    databases_.emplace_back(std::move(server), std::move(name));
  }

private:
  std::mutex mtx_;
  std::vector<std::filesystem::path> folders_;
  std::vector<std::pair<std::string, std::string>> databases_;
};

cleanup_registry& registry() {
  static cleanup_registry instance;
  return instance;
}

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  static const auto salt = std::random_device{}() % 100000;
  return std::to_string(::getpid()) + "_" + std::to_string(salt) + "_"
         + std::to_string(++counter);
}

} // namespace

std::string temp_sqlite_url() {
  auto base = std::filesystem::temp_directory_path() / ("smsd-test-XXXXXX");
  std::string templ = base.string();
  if (::mkdtemp(templ.data()) == nullptr)
    FAIL("cannot create a temporary folder under " << base.parent_path());
  registry().add_folder(templ);
  return "sqlite:" + templ + "/smsd.db";
}

std::string fresh_postgres_url() {
  const char* server = std::getenv("SMSD_TEST_PG_URL");
  if (server == nullptr || *server == '\0')
    FAIL("SMSD_TEST_PG_URL is not set: run the tests with scripts/test.sh, which starts a "
         "throw-away PostgreSQL server and sets it (or set it to postgresql://USER@HOST:PORT/postgres)");
  auto name = "smsd_test_" + unique_suffix();
  if (auto err = create_postgres_database(server, name))
    FAIL("cannot create test database " << name << ": " << describe(err));
  registry().add_database(server, name);
  return postgres_url_with_database(server, name);
}

} // namespace smsd::test

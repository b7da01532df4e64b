#include "persistence/store.hpp"

#include "common/errors.hpp"
#include "persistence/postgres_store.hpp"
#include "persistence/sqlite_store.hpp"

namespace smsd {

namespace {

bool starts_with(const std::string& text, const char* prefix) {
  return text.rfind(prefix, 0) == 0;
}

} // namespace

caf::expected<std::unique_ptr<store>> open_store(const std::string& database_url) {
  if (starts_with(database_url, "sqlite:")) {
    auto path = database_url.substr(7);
    // sqlite:///abs/path and sqlite://rel/path, as some tools write them.
    if (starts_with(path, "//"))
      path = path.substr(2);
    return open_sqlite_store(path);
  }
  if (starts_with(database_url, "postgresql://") || starts_with(database_url, "postgres://"))
    return open_postgres_store(database_url);
  // The URL itself may hold a password: do not repeat it.
  return make_error(errc::invalid_argument,
                    "unsupported database URL: expected sqlite:PATH or postgresql://...");
}

} // namespace smsd

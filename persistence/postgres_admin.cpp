#include "persistence/postgres_admin.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

#include "common/errors.hpp"
#include "persistence/poco_statement.hpp"
#include "persistence/postgres_store.hpp"
#include "persistence/postgres_url.hpp"

namespace smsd {

namespace {

bool plain_identifier(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_';
  });
}

caf::error run_on_server(const std::string& server_url, const std::string& sql) {
  auto connection = postgres_connection_of(server_url);
  if (!connection)
    return connection.error();
  std::unique_ptr<Poco::Data::Session> session;
  try {
    session = open_postgres_session(*connection);
  } catch (const std::exception& e) {
    return make_error(errc::unavailable, "postgresql: cannot connect: " + error_text(e));
  }
  try {
    // Outside any transaction, as CREATE and DROP DATABASE must run.
    run_postgres_once(*session, sql);
  } catch (const std::exception& e) {
    return make_error(errc::database, "postgresql: " + error_text(e));
  }
  return {};
}

} // namespace

std::string postgres_url_with_database(const std::string& url, const std::string& database) {
  auto scheme_end = url.find("://");
  auto authority = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  auto query = url.find('?', authority);
  auto path = url.find('/', authority);
  if (path == std::string::npos || (query != std::string::npos && path > query))
    path = query == std::string::npos ? url.size() : query;
  auto rest = query == std::string::npos ? std::string{} : url.substr(query);
  return url.substr(0, path) + "/" + database + rest;
}

caf::error create_postgres_database(const std::string& server_url, const std::string& name) {
  if (!plain_identifier(name))
    return make_error(errc::invalid_argument, "postgresql: bad database name " + name);
  return run_on_server(server_url, "CREATE DATABASE " + name);
}

caf::error drop_postgres_database(const std::string& server_url, const std::string& name) {
  if (!plain_identifier(name))
    return make_error(errc::invalid_argument, "postgresql: bad database name " + name);
  return run_on_server(server_url, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
}

} // namespace smsd

#include "persistence/postgres_admin.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

#include <libpq-fe.h>

#include "common/errors.hpp"

namespace smsd {

namespace {

bool plain_identifier(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_';
  });
}

caf::error run_on_server(const std::string& server_url, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn{PQconnectdb(server_url.c_str()), &PQfinish};
  if (PQstatus(conn.get()) != CONNECTION_OK)
    return make_error(errc::unavailable,
                      std::string{"postgresql: cannot connect: "} + PQerrorMessage(conn.get()));
  std::unique_ptr<PGresult, decltype(&PQclear)> res{PQexec(conn.get(), sql.c_str()), &PQclear};
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK)
    return make_error(errc::database, std::string{"postgresql: "} + PQerrorMessage(conn.get()));
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

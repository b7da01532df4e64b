#pragma once

#include <string>

#include <caf/error.hpp>

namespace smsd {

/// The same server URL naming another database.
std::string postgres_url_with_database(const std::string& url, const std::string& database);

/// CREATE DATABASE / DROP DATABASE (forcing out its connections) on the server of `server_url`.
/// For tests and tools; `name` must be a plain identifier (letters, digits, _).
caf::error create_postgres_database(const std::string& server_url, const std::string& name);
caf::error drop_postgres_database(const std::string& server_url, const std::string& name);

} // namespace smsd

#pragma once

#include <optional>
#include <string>

#include <caf/expected.hpp>

namespace smsd {

/// What Poco's PostgreSQL connector needs to connect to a postgresql:// URL.
struct postgres_connection {
  /// `key='value'` pairs separated by single spaces: values in single quotes, `\` and `'`
  /// escaped with a backslash. Defaults connect_timeout=10 and application_name=smsd unless
  /// the URL names them.
  std::string conninfo;
  /// A password holding a space. Poco (1.11) splits the connection string at every space,
  /// quotes or not, so such a password cannot travel in it: it goes through a password file
  /// named by `passfile` at connect time (postgres_store.cpp).
  std::optional<std::string> password_for_file;
};

/// Converts `postgresql://[user[:password]@][host[:port][,host[:port]...]][/dbname][?key=value&...]`
/// (also `postgres://`) as libpq reads it: every part percent-decoded, IPv6 hosts in brackets,
/// query parameters as connection parameters (`ssl=true` is `sslmode=require`), later ones
/// winning. errc::invalid_argument for anything malformed (bad percent-encoding, %00, an unclosed
/// bracket, a port that is not a number, an unknown or empty parameter name, a value other than
/// the password holding a space). The error text never repeats the password.
caf::expected<postgres_connection> postgres_connection_of(const std::string& url);

/// One conninfo value in single quotes, `\` and `'` escaped (libpq's rules).
std::string quote_conninfo_value(const std::string& value);

/// One line of a libpq password file matching every host, port, database and user.
std::string passfile_line(const std::string& password);

} // namespace smsd

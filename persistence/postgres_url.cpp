#include "persistence/postgres_url.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <utility>
#include <vector>

#include "common/errors.hpp"
#include "common/percent.hpp"

namespace smsd {

namespace {

/// The connection parameters libpq 15 knows (PQconndefaults), so that a misspelt one is a clear
/// configuration error here rather than a failed connect later.
constexpr std::array<const char*, 36> known_keys = {
  "service", "user", "password", "passfile", "channel_binding", "connect_timeout", "dbname",
  "host", "hostaddr", "port", "client_encoding", "options", "application_name",
  "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval",
  "keepalives_count", "tcp_user_timeout", "sslmode", "sslcompression", "sslcert", "sslkey",
  "sslpassword", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer",
  "ssl_min_protocol_version", "ssl_max_protocol_version", "gssencmode", "krbsrvname", "gsslib",
  "replication", "target_session_attrs"};

bool known_key(const std::string& key) {
  return std::any_of(known_keys.begin(), known_keys.end(),
                     [&](const char* k) { return key == k; });
}

caf::error bad_url(const std::string& why) {
  return make_error(errc::invalid_argument, "postgresql: bad database URL: " + why);
}

/// Percent-decodes `text`; `what` names the part for the error (never its value: it may be the
/// password).
caf::expected<std::string> decode(const std::string& text, const char* what) {
  auto out = percent_decode(text, false);
  if (!out)
    return bad_url(std::string{"invalid percent-encoding in the "} + what);
  if (out->find('\0') != std::string::npos)
    return bad_url(std::string{"%00 in the "} + what);
  return std::move(*out);
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

} // namespace

std::string quote_conninfo_value(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'')
      out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

std::string passfile_line(const std::string& password) {
  // hostname:port:database:username:password; `\` and `:` are escaped in each field.
  std::string out = "*:*:*:*:";
  for (char c : password) {
    if (c == '\\' || c == ':')
      out += '\\';
    out += c;
  }
  out += '\n';
  return out;
}

caf::expected<postgres_connection> postgres_connection_of(const std::string& url) {
  std::size_t start;
  if (url.rfind("postgresql://", 0) == 0)
    start = 13;
  else if (url.rfind("postgres://", 0) == 0)
    start = 11;
  else
    return bad_url("expected postgresql:// or postgres://");

  // The authority ends at the path or the query; the last '@' in it ends the user part, so an
  // '@' left unencoded in a password still works.
  auto authority_end = url.find_first_of("/?", start);
  if (authority_end == std::string::npos)
    authority_end = url.size();
  const auto authority = url.substr(start, authority_end - start);
  std::map<std::string, std::string> params;

  auto at = authority.rfind('@');
  std::string hostspec = at == std::string::npos ? authority : authority.substr(at + 1);
  if (at != std::string::npos) {
    const auto userinfo = authority.substr(0, at);
    auto colon = userinfo.find(':');
    auto user = decode(userinfo.substr(0, colon), "user name");
    if (!user)
      return user.error();
    if (!user->empty())
      params["user"] = *user;
    if (colon != std::string::npos) {
      auto password = decode(userinfo.substr(colon + 1), "password");
      if (!password)
        return password.error();
      if (!password->empty())
        params["password"] = *password;
    }
  }

  // host[:port] entries separated by commas; an IPv6 address is written in brackets.
  std::vector<std::string> hosts;
  std::vector<std::string> ports;
  if (!hostspec.empty()) {
    std::size_t pos = 0;
    while (true) {
      auto comma = hostspec.find(',', pos);
      // A comma inside brackets cannot occur in an IPv6 address, so a plain split is enough.
      auto entry = hostspec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      std::string host;
      std::string port;
      if (!entry.empty() && entry.front() == '[') {
        auto close = entry.find(']');
        if (close == std::string::npos)
          return bad_url("unclosed '[' in the host");
        host = entry.substr(1, close - 1);
        if (host.empty())
          return bad_url("empty IPv6 address in the host");
        auto rest = entry.substr(close + 1);
        if (!rest.empty()) {
          if (rest.front() != ':')
            return bad_url("unexpected text after ']' in the host");
          port = rest.substr(1);
        }
      } else {
        auto colon = entry.rfind(':');
        host = entry.substr(0, colon);
        if (colon != std::string::npos)
          port = entry.substr(colon + 1);
        if (host.find(':') != std::string::npos)
          return bad_url("an IPv6 host must be written in brackets");
      }
      auto decoded_host = decode(host, "host");
      if (!decoded_host)
        return decoded_host.error();
      auto decoded_port = decode(port, "port");
      if (!decoded_port)
        return decoded_port.error();
      if (!decoded_port->empty() && !all_digits(*decoded_port))
        return bad_url("the port is not a number");
      hosts.push_back(*decoded_host);
      ports.push_back(*decoded_port);
      if (comma == std::string::npos)
        break;
      pos = comma + 1;
    }
  }
  auto join = [](const std::vector<std::string>& parts) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i)
      out += (i ? "," : "") + parts[i];
    return out;
  };
  if (std::any_of(hosts.begin(), hosts.end(), [](const std::string& h) { return !h.empty(); }))
    params["host"] = join(hosts);
  if (std::any_of(ports.begin(), ports.end(), [](const std::string& p) { return !p.empty(); }))
    params["port"] = join(ports);

  auto query_start = url.find('?', authority_end);
  if (authority_end < url.size() && url[authority_end] == '/') {
    auto path = url.substr(authority_end + 1, query_start == std::string::npos
                                                 ? std::string::npos
                                                 : query_start - authority_end - 1);
    auto dbname = decode(path, "database name");
    if (!dbname)
      return dbname.error();
    if (!dbname->empty())
      params["dbname"] = *dbname;
  }

  if (query_start != std::string::npos) {
    auto query = url.substr(query_start + 1);
    std::size_t pos = 0;
    while (pos <= query.size()) {
      auto amp = query.find('&', pos);
      auto pair = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
      pos = amp == std::string::npos ? query.size() + 1 : amp + 1;
      if (pair.empty())
        continue;
      auto eq = pair.find('=');
      if (eq == std::string::npos)
        return bad_url("a query parameter without '='");
      auto key = decode(pair.substr(0, eq), "name of a query parameter");
      if (!key)
        return key.error();
      auto value = decode(pair.substr(eq + 1), "value of a query parameter");
      if (!value)
        return value.error();
      if (key->empty())
        return bad_url("a query parameter without a name");
      // As libpq does: ssl=true stands for sslmode=require.
      if (*key == "ssl" && *value == "true") {
        params["sslmode"] = "require";
        continue;
      }
      if (!known_key(*key))
        return bad_url("unknown connection parameter '" + *key + "'");
      params[*key] = *value;
    }
  }

  // Defaults; what the URL says wins.
  params.emplace("connect_timeout", "10");
  params.emplace("application_name", "smsd");

  postgres_connection out;
  for (const auto& [key, value] : params) {
    if (value.find(' ') != std::string::npos) {
      if (key == "password") {
        out.password_for_file = value;
        continue;
      }
      return bad_url("the " + key
                     + " holds a space, which Poco's PostgreSQL connector cannot pass "
                       "(only the password may)");
    }
    if (!out.conninfo.empty())
      out.conninfo += ' ';
    out.conninfo += key + "=" + quote_conninfo_value(value);
  }
  return out;
}

} // namespace smsd

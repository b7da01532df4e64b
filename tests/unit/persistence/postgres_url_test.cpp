// postgresql:// URLs to the key='value' connection strings Poco's PostgreSQL connector takes.
#include <string>

#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "persistence/postgres_url.hpp"

using namespace smsd;

namespace {

std::string conninfo_of(const std::string& url) {
  auto c = postgres_connection_of(url);
  if (!c)
    FAIL("conversion failed: " << describe(c.error()));
  CHECK_FALSE(c->password_for_file.has_value());
  return c->conninfo;
}

void check_invalid(const std::string& url) {
  INFO(url);
  auto c = postgres_connection_of(url);
  REQUIRE_FALSE(c);
  CHECK(code_of(c.error()) == errc::invalid_argument);
}

} // namespace

TEST_CASE("a plain URL becomes quoted key=value pairs with smsd's defaults", "[persistence][url]") {
  CHECK(conninfo_of("postgresql://smsd@db:5433/smsd")
        == "application_name='smsd' connect_timeout='10' dbname='smsd' host='db' port='5433' "
           "user='smsd'");
  CHECK(conninfo_of("postgres://db/smsd")
        == "application_name='smsd' connect_timeout='10' dbname='smsd' host='db'");
}

TEST_CASE("parts left out of a URL are left out of the connection string", "[persistence][url]") {
  CHECK(conninfo_of("postgresql://") == "application_name='smsd' connect_timeout='10'");
  CHECK(conninfo_of("postgresql:///smsd") == "application_name='smsd' connect_timeout='10' dbname='smsd'");
  CHECK(conninfo_of("postgresql://u@") == "application_name='smsd' connect_timeout='10' user='u'");
  CHECK(conninfo_of("postgresql://u:@h") == "application_name='smsd' connect_timeout='10' host='h' user='u'");
  CHECK(conninfo_of("postgresql://h:5432") == "application_name='smsd' connect_timeout='10' host='h' port='5432'");
  CHECK(conninfo_of("postgresql://h/") == "application_name='smsd' connect_timeout='10' host='h'");
  CHECK(conninfo_of("postgresql://h?") == "application_name='smsd' connect_timeout='10' host='h'");
}

TEST_CASE("a password's quotes, backslashes and @ are decoded and escaped", "[persistence][url]") {
  // p@ss'w\"rd\ with the @ percent-encoded, as URLs must.
  CHECK(conninfo_of("postgresql://u:p%40ss'w%22rd%5C@h/db")
        == R"(application_name='smsd' connect_timeout='10' dbname='db' host='h' password='p@ss\'w"rd\\' user='u')");
  // An @ left unencoded still works: the last one ends the user part.
  CHECK(conninfo_of("postgresql://u:p@ss@h/db")
        == "application_name='smsd' connect_timeout='10' dbname='db' host='h' password='p@ss' user='u'");
  // = and : in a password.
  CHECK(conninfo_of("postgresql://u:a=b:c@h")
        == "application_name='smsd' connect_timeout='10' host='h' password='a=b:c' user='u'");
}

TEST_CASE("a password with a space goes to a password file, not into the string",
          "[persistence][url]") {
  auto c = postgres_connection_of("postgresql://u:two%20words%27%5C%40@h/db");
  REQUIRE(c);
  CHECK(c->conninfo == "application_name='smsd' connect_timeout='10' dbname='db' host='h' user='u'");
  REQUIRE(c->password_for_file);
  CHECK(*c->password_for_file == R"(two words'\@)");
  // The file escapes \ and : (libpq's password file format).
  CHECK(passfile_line("a b:c\\d") == "*:*:*:*:a b\\:c\\\\d\n");
}

TEST_CASE("IPv6 hosts are written in brackets", "[persistence][url]") {
  CHECK(conninfo_of("postgresql://u@[::1]:5432/db")
        == "application_name='smsd' connect_timeout='10' dbname='db' host='::1' port='5432' user='u'");
  CHECK(conninfo_of("postgresql://[fe80::1%25eth0]/db")
        == "application_name='smsd' connect_timeout='10' dbname='db' host='fe80::1%eth0'");
  CHECK(conninfo_of("postgresql://[2001:db8::2]")
        == "application_name='smsd' connect_timeout='10' host='2001:db8::2'");
}

TEST_CASE("several hosts keep their ports in order", "[persistence][url]") {
  CHECK(conninfo_of("postgresql://a:1,[::1]:2,c/db")
        == "application_name='smsd' connect_timeout='10' dbname='db' host='a,::1,c' port='1,2,'");
}

TEST_CASE("a percent-encoded socket folder is a host", "[persistence][url]") {
  CHECK(conninfo_of("postgresql://%2Fvar%2Frun%2Fpostgresql/db")
        == "application_name='smsd' connect_timeout='10' dbname='db' host='/var/run/postgresql'");
}

TEST_CASE("query parameters become connection parameters and win over the defaults",
          "[persistence][url]") {
  CHECK(conninfo_of("postgresql://h/db?sslmode=require&application_name=my%2Bapp&connect_timeout=3")
        == "application_name='my+app' connect_timeout='3' dbname='db' host='h' sslmode='require'");
  // The last of two wins; a query parameter wins over the URL's own part; ssl=true is libpq's alias.
  CHECK(conninfo_of("postgresql://h/db?sslmode=disable&sslmode=verify-full&host=other&ssl=true")
        == "application_name='smsd' connect_timeout='10' dbname='db' host='other' sslmode='require'");
  CHECK(conninfo_of("postgresql://h/db?&&user=x&")
        == "application_name='smsd' connect_timeout='10' dbname='db' host='h' user='x'");
  // A value with quotes is escaped like any other.
  CHECK(conninfo_of("postgresql://h?application_name=it%27s")
        == R"(application_name='it\'s' connect_timeout='10' host='h')");
}

TEST_CASE("malformed URLs are invalid arguments, never a crash", "[persistence][url]") {
  check_invalid("mysql://h/db");
  check_invalid("postgresql:/h/db");
  check_invalid("postgresql://[::1/db");         // unclosed bracket
  check_invalid("postgresql://[]/db");           // empty address
  check_invalid("postgresql://[::1]x/db");       // text after the bracket
  check_invalid("postgresql://::1/db");          // IPv6 without brackets
  check_invalid("postgresql://h:port/db");       // port not a number
  check_invalid("postgresql://h:-1/db");
  check_invalid("postgresql://u:p%zz@h/db");     // bad percent-encoding
  check_invalid("postgresql://u:p%4@h/db");      // cut short
  check_invalid("postgresql://u:p%@h/db");
  check_invalid("postgresql://u%00@h/db");       // %00
  check_invalid("postgresql://h/db%");
  check_invalid("postgresql://h/db?sslmode");    // no '='
  check_invalid("postgresql://h/db?=x");         // no name
  check_invalid("postgresql://h/db?bogus=1");    // unknown parameter
  check_invalid("postgresql://h/db?ssl%=1");
  // Poco splits its connection string at spaces: only the password can hold one.
  check_invalid("postgresql://two%20words@h/db");
  check_invalid("postgresql://h/two%20words");
  check_invalid("postgresql://h/db?options=-c%20x%3Dy");
}

TEST_CASE("the error for a bad URL does not repeat the password", "[persistence][url]") {
  auto c = postgres_connection_of("postgresql://u:s3cr%ZZet@h/db");
  REQUIRE_FALSE(c);
  CHECK(message_of(c.error()).find("s3cr") == std::string::npos);
  CHECK(message_of(c.error()).find("password") != std::string::npos);
}

TEST_CASE("conninfo values are quoted with backslash escapes", "[persistence][url]") {
  CHECK(quote_conninfo_value("") == "''");
  CHECK(quote_conninfo_value(R"(a'b\c)") == R"('a\'b\\c')");
}

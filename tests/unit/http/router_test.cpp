#include "http/router.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "http/admin_auth.hpp"
#include "http/errors.hpp"
#include "http/json_body.hpp"

using namespace smsd;

namespace {

route_handler answer(int status) {
  return [status](const request_context&) { return empty_response(status); };
}

router sample_router() {
  router r;
  r.add("GET", "/livez", answer(200));
  r.add("PUT", "/api/admin/events/{eventId}", answer(201));
  r.add("DELETE", "/api/admin/events/{eventId}", answer(204));
  r.add("PUT", "/api/admin/events/{eventId}/attendees/{attendeeId}", answer(202));
  return r;
}

} // namespace

TEST_CASE("the router finds a route by method and path and decodes its parameters",
          "[router]") {
  auto r = sample_router();
  auto m = r.find("PUT", "/api/admin/events/ev%201/attendees/a+b");
  REQUIRE(m.status == 200);
  REQUIRE(m.handler);
  CHECK((*m.handler)(request_context{}).status == 202);
  request_context ctx;
  ctx.params = m.params;
  CHECK(ctx.param("eventId") == "ev 1");
  CHECK(ctx.param("attendeeId") == "a+b");
  CHECK(ctx.param("nothing").empty());
  CHECK(r.find("GET", "/livez").status == 200);
}

TEST_CASE("an unknown path is a 404 with a JSON error", "[router]") {
  auto r = sample_router();
  for (const char* path : {"/", "/nope", "/livez/", "/LIVEZ", "/api/admin/events",
                           "/api/admin/events/", "/api/admin/events/e1/x", "//livez", ""}) {
    INFO(path);
    auto m = r.find("GET", path);
    CHECK(m.status == 404);
    CHECK_FALSE(m.handler);
  }
  auto resp = router::failure_response(r.find("GET", "/nope"));
  CHECK(resp.status == 404);
  CHECK(nlohmann::json::parse(resp.body).at("error").is_string());
}

TEST_CASE("a known path with the wrong method is a 405 naming the allowed methods",
          "[router]") {
  auto r = sample_router();
  auto m = r.find("POST", "/api/admin/events/e1");
  CHECK(m.status == 405);
  CHECK_FALSE(m.handler);
  CHECK(m.allow == "DELETE, PUT");
  auto resp = router::failure_response(m);
  CHECK(resp.status == 405);
  REQUIRE(resp.headers.size() == 1);
  CHECK(resp.headers[0] == std::pair<std::string, std::string>{"Allow", "DELETE, PUT"});
  CHECK(nlohmann::json::parse(resp.body).contains("error"));
  CHECK(r.find("DELETE", "/livez").status == 405);
}

TEST_CASE("a malformed escape in a path parameter is a 400", "[router]") {
  auto r = sample_router();
  auto m = r.find("PUT", "/api/admin/events/e%zz");
  CHECK(m.status == 400);
  CHECK(router::failure_response(m).status == 400);
}

TEST_CASE("targets split into path and query", "[router]") {
  CHECK(split_target("/a/b?mid=1&x=2") == std::pair<std::string, std::string>{"/a/b", "mid=1&x=2"});
  CHECK(split_target("/a") == std::pair<std::string, std::string>{"/a", ""});
  CHECK(split_target("/a?") == std::pair<std::string, std::string>{"/a", ""});
  CHECK(split_target("http://h:1/a?q") == std::pair<std::string, std::string>{"/a", "q"});
}

TEST_CASE("our errors map onto HTTP statuses in one place", "[errors]") {
  CHECK(http_status_of(errc::invalid_argument) == 400);
  CHECK(http_status_of(errc::not_found) == 404);
  CHECK(http_status_of(errc::conflict) == 409);
  CHECK(http_status_of(errc::unavailable) == 503);
  CHECK(http_status_of(errc::timeout) == 503);
  CHECK(http_status_of(errc::database) == 500);
  CHECK(http_status_of(errc::internal) == 500);
  auto r = error_response(make_error(errc::not_found, "event e1 not found"));
  CHECK(r.status == 404);
  CHECK(nlohmann::json::parse(r.body) == nlohmann::json{{"error", "event e1 not found"}});
  // Server-side details stay in the log.
  r = error_response(make_error(errc::database, "syntax error near SELECT"));
  CHECK(r.status == 500);
  CHECK(r.body.find("SELECT") == std::string::npos);
}

TEST_CASE("JSON bodies are parsed with a depth cap", "[json]") {
  CHECK(parse_json_body(R"({"a": [1, {"b": 2}]})", 32));
  std::string deep(33, '[');
  deep += std::string(33, ']');
  CHECK_FALSE(parse_json_body(deep, 32));
  std::string ok(32, '[');
  ok += std::string(32, ']');
  CHECK(parse_json_body(ok, 32));
  std::string very_deep(100000, '[');
  very_deep += std::string(100000, ']');
  auto r = parse_json_body(very_deep, 32);
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == errc::invalid_argument);
  CHECK_FALSE(parse_json_body("{\"a\":", 32));
  CHECK_FALSE(parse_json_body("", 32));
  CHECK_FALSE(parse_json_body("\"\xff\"", 32));
}

TEST_CASE("the admin token is read from a Bearer header and compared exactly", "[auth]") {
  CHECK(bearer_token("Bearer abc") == std::string_view("abc"));
  CHECK(bearer_token("bearer  abc ") == std::string_view("abc"));
  CHECK_FALSE(bearer_token("Basic abc"));
  CHECK_FALSE(bearer_token("Bearer"));
  CHECK_FALSE(bearer_token("Bearer "));
  CHECK_FALSE(bearer_token("Bearerabc"));
  CHECK(token_matches("s3cret", "s3cret"));
  CHECK_FALSE(token_matches("s3cre", "s3cret"));
  CHECK_FALSE(token_matches("s3cret!", "s3cret"));
  CHECK_FALSE(token_matches("", ""));
}

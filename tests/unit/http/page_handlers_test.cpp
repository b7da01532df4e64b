// The organizer page as smsd serves it: the page at / and /events/{eventId}, its assets, their
// types, ETags and 304s, and the security headers of every answer.
#include "http/page_handlers.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "http/web_assets.hpp"
#include "server_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

void check_security_headers(const http_reply& r, const std::string& frame_ancestors = "'none'") {
  const auto csp = r.header("Content-Security-Policy");
  CHECK(csp.rfind("default-src 'self';", 0) == 0);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(csp.find("unsafe-eval") == std::string::npos);
  CHECK(csp.find("script-src 'self';") != std::string::npos);
  CHECK(csp.find("style-src 'self';") != std::string::npos);
  const std::string directive = "frame-ancestors " + frame_ancestors;
  CHECK(csp.size() >= directive.size());
  CHECK(csp.compare(csp.size() - directive.size(), directive.size(), directive) == 0);
  CHECK(r.header("X-Content-Type-Options") == "nosniff");
  CHECK(r.header("Referrer-Policy") == "no-referrer");
}

} // namespace

TEST_CASE("the page is served at / and at /events/{eventId}, query string or not", "[page]") {
  server_fixture f;
  auto home = f.client().get("/");
  REQUIRE(home.status == 200);
  CHECK(home.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(home.body.find("<!doctype html>") == 0);
  CHECK(home.body.find("/assets/app.js") != std::string::npos);
  check_security_headers(home);

  for (std::string target : {"/events/evt-1", "/events/evt-1?attendee=att-2", "/events/a%20b"}) {
    INFO(target);
    auto r = f.client().get(target);
    CHECK(r.status == 200);
    CHECK(r.body == home.body);
    CHECK(r.header("ETag") == home.header("ETag"));
    check_security_headers(r);
  }
}

TEST_CASE("every asset is served with its content type, a strong ETag and no-cache", "[page]") {
  server_fixture f;
  REQUIRE(web_asset_count > 0);
  int assets = 0;
  for (std::size_t i = 0; i < web_asset_count; ++i) {
    const web_asset& a = web_assets[i];
    const std::string path(a.path);
    if (path.rfind("assets/", 0) != 0)
      continue;
    ++assets;
    INFO(path);
    auto r = f.client().get("/" + path);
    REQUIRE(r.status == 200);
    CHECK(r.body == std::string(a.body));
    CHECK(r.header("Content-Type") == content_type_of(path));
    CHECK(r.header("ETag") == std::string(a.etag));
    CHECK(r.header("ETag").front() == '"'); // strong: no W/
    CHECK(r.header("Cache-Control") == "no-cache");
    check_security_headers(r);
  }
  CHECK(assets >= 5);
  CHECK(f.client().get("/assets/app.js").header("Content-Type") == "text/javascript; charset=utf-8");
  CHECK(f.client().get("/assets/app.css").header("Content-Type") == "text/css; charset=utf-8");
  CHECK(f.client().get("/assets/icon.svg").header("Content-Type") == "image/svg+xml");
}

TEST_CASE("If-None-Match with the current ETag answers 304 without a body", "[page]") {
  server_fixture f;
  auto first = f.client().get("/assets/app.js");
  REQUIRE(first.status == 200);
  const auto etag = first.header("ETag");
  REQUIRE_FALSE(etag.empty());

  for (std::string match : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    INFO(match);
    auto again = f.client().get("/assets/app.js", {{"If-None-Match", match}});
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    CHECK(again.header("ETag") == etag);
    CHECK(again.header("Cache-Control") == "no-cache");
    check_security_headers(again);
  }
  auto page = f.client().get("/", {{"If-None-Match", f.client().get("/").header("ETag")}});
  CHECK(page.status == 304);

  auto stale = f.client().get("/assets/app.js", {{"If-None-Match", "\"0123456789abcdef\""}});
  CHECK(stale.status == 200);
  CHECK(stale.body == first.body);
}

TEST_CASE("an unknown asset is a 404, and nothing outside assets/ is reachable", "[page]") {
  server_fixture f;
  for (std::string target : {"/assets/nope.js", "/assets/index.html", "/assets/..%2Findex.html",
                             "/assets/%2e%2e%2fapp.js"}) {
    INFO(target);
    auto r = f.client().get(target);
    CHECK(r.status == 404);
    CHECK(r.header("Content-Type") == "application/json");
    check_security_headers(r);
  }
  CHECK(f.client().get("/assets/a/b.js").status == 404);
  CHECK(f.client().get("/index.html").status == 404);
  CHECK(f.client().get("/events").status == 404);
}

TEST_CASE("the page's frame-ancestors come from SMSD_FRAME_ANCESTORS", "[page]") {
  auto cfg = http_test_config();
  cfg.frame_ancestors = "'self' https://platform.example";
  server_fixture f(cfg);
  check_security_headers(f.client().get("/"), "'self' https://platform.example");
  check_security_headers(f.client().get("/assets/app.css"), "'self' https://platform.example");
}

TEST_CASE("etag_matches follows If-None-Match's weak comparison", "[page]") {
  CHECK(etag_matches("\"abc\"", "\"abc\""));
  CHECK(etag_matches("W/\"abc\"", "\"abc\""));
  CHECK(etag_matches(" \"x\" ,\t\"abc\" ", "\"abc\""));
  CHECK(etag_matches("*", "\"abc\""));
  CHECK_FALSE(etag_matches("", "\"abc\""));
  CHECK_FALSE(etag_matches("\"abcd\"", "\"abc\""));
  CHECK_FALSE(etag_matches("abc", "\"abc\""));
}

TEST_CASE("content types follow the file's extension", "[page]") {
  CHECK(content_type_of("index.html") == "text/html; charset=utf-8");
  CHECK(content_type_of("assets/app.js") == "text/javascript; charset=utf-8");
  CHECK(content_type_of("assets/app.css") == "text/css; charset=utf-8");
  CHECK(content_type_of("assets/icon.svg") == "image/svg+xml");
  CHECK(content_type_of("assets/blob") == "application/octet-stream");
}

TEST_CASE("the page preloads every module of web/assets", "[page]") {
  // index.html lists each module (modulepreload) so that the browser fetches them all at once;
  // a module added to web/assets and not listed there would load one import level later.
  const web_asset* page = find_web_asset("index.html");
  REQUIRE(page);
  const std::string html(page->body);
  for (std::size_t i = 0; i < web_asset_count; ++i) {
    const std::string path(web_assets[i].path);
    if (path.rfind("assets/", 0) != 0 || path.size() < 3 || path.compare(path.size() - 3, 3, ".js") != 0)
      continue;
    INFO(path);
    CHECK(html.find("\"/" + path + "\"") != std::string::npos);
  }
}

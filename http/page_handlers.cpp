#include "http/page_handlers.hpp"

#include <string_view>
#include <utility>

#include "config/config.hpp"
#include "http/errors.hpp"
#include "http/web_assets.hpp"

namespace smsd {

namespace {

constexpr std::string_view page_path = "index.html";
constexpr std::string_view assets_folder = "assets/";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

void add_security_headers(http_response& r, const config& cfg) {
  r.headers.emplace_back("Content-Security-Policy",
                         page_content_security_policy(cfg.frame_ancestors));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

// The asset itself, or 304 when the browser's copy is current. Browsers revalidate every time
// (no-cache): a new smsd serves its new page at once, and an unchanged one costs a 304.
http_response serve(const handler_env& env, const request_context& req, const web_asset& asset) {
  http_response r;
  const std::string etag(asset.etag);
  if (etag_matches(req.header("If-None-Match"), etag)) {
    r.status = 304;
    r.content_type.clear();
  } else {
    r.content_type = content_type_of(std::string(asset.path));
    r.body.assign(asset.body);
  }
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", "no-cache");
  add_security_headers(r, *env.cfg);
  return r;
}

http_response not_found(const handler_env& env, const std::string& what) {
  auto r = error_response(404, what);
  add_security_headers(r, *env.cfg);
  return r;
}

http_response page(const handler_env& env, const request_context& req) {
  const web_asset* asset = find_web_asset(page_path);
  return asset ? serve(env, req, *asset) : not_found(env, "the page is not built in");
}

http_response asset(const handler_env& env, const request_context& req) {
  const std::string& name = req.param("name");
  // A name is one file of assets/: a '/' (a decoded %2F) is refused, so that nothing outside
  // assets/ is reachable (the page itself is served at its own paths).
  const web_asset* a = name.find('/') == std::string::npos
                         ? find_web_asset(std::string(assets_folder) + name)
                         : nullptr;
  return a ? serve(env, req, *a) : not_found(env, "no such asset");
}

} // namespace

std::string page_content_security_policy(const std::string& frame_ancestors) {
  return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
         "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
         "form-action 'self'; frame-ancestors "
         + frame_ancestors;
}

std::string content_type_of(const std::string& path) {
  static const std::pair<std::string_view, std::string_view> types[] = {
    {".html", "text/html; charset=utf-8"},      {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},                  {".png", "image/png"},
    {".ico", "image/x-icon"},                   {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},      {".woff2", "font/woff2"},
  };
  for (const auto& [ext, type] : types)
    if (ends_with(path, ext))
      return std::string(type);
  return "application/octet-stream";
}

bool etag_matches(const std::string& if_none_match, const std::string& etag) {
  std::string_view rest = if_none_match;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view tag = trim(rest.substr(0, comma));
    if (tag == "*")
      return true;
    if (tag.substr(0, 2) == "W/")
      tag.remove_prefix(2);
    if (!tag.empty() && tag == etag)
      return true;
    if (comma == std::string_view::npos)
      break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

void add_page_routes(router& routes, const handler_env& env) {
  auto page_route = [env](const request_context& req) { return page(env, req); };
  routes.add("GET", "/", page_route);
  routes.add("GET", "/events/{eventId}", page_route);
  routes.add("GET", "/assets/{name}", [env](const request_context& req) { return asset(env, req); });
}

} // namespace smsd

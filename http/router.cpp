#include "http/router.hpp"

#include <algorithm>
#include <set>

#include "http/errors.hpp"
#include "http/form.hpp"

namespace smsd {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/')
    path.remove_prefix(1);
  std::size_t pos = 0;
  while (true) {
    const std::size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(pos));
      return out;
    }
    out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
}

bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

const std::string empty_string;

} // namespace

const std::string& request_context::param(std::string_view name) const {
  for (const auto& [n, v] : params)
    if (n == name)
      return v;
  return empty_string;
}

const std::string& request_context::header(const std::string& name) const {
  const std::string* value = headers.find(name);
  return value ? *value : empty_string;
}

bool request_context::has_header(const std::string& name) const {
  return headers.has(name);
}

router::route& router::add_route(std::string method, std::string_view pattern) {
  route& r = routes_.emplace_back();
  r.method = std::move(method);
  for (auto s : split_path(pattern))
    r.segments.emplace_back(s);
  return r;
}

void router::add(std::string method, std::string_view pattern, route_handler handler) {
  add_route(std::move(method), pattern).handler = std::move(handler);
}

void router::add_async(std::string method, std::string_view pattern, async_route handler) {
  add_route(std::move(method), pattern).async_handler = std::move(handler);
}

router::match router::find(std::string_view method, std::string_view path) const {
  const auto segments = split_path(path);
  std::set<std::string> allowed;
  match found;
  if (path.empty() || path.front() != '/')
    return found;
  for (const auto& r : routes_) {
    if (r.segments.size() != segments.size())
      continue;
    bool same = true;
    for (std::size_t i = 0; i < segments.size() && same; ++i) {
      if (is_param(r.segments[i]))
        same = !segments[i].empty();
      else
        same = r.segments[i] == segments[i];
    }
    if (!same)
      continue;
    if (r.method != method) {
      allowed.insert(r.method);
      continue;
    }
    if (r.async_handler.handler)
      found.async_handler = &r.async_handler;
    else
      found.handler = &r.handler;
    found.status = 200;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      if (!is_param(r.segments[i]))
        continue;
      auto value = percent_decode(segments[i], false);
      if (!value) {
        found.status = 400;
        found.handler = nullptr;
        found.async_handler = nullptr;
        found.params.clear();
        return found;
      }
      found.params.emplace_back(r.segments[i].substr(1, r.segments[i].size() - 2),
                                std::move(*value));
    }
    return found;
  }
  if (!allowed.empty()) {
    found.status = 405;
    for (const auto& m : allowed)
      found.allow += (found.allow.empty() ? "" : ", ") + m;
  }
  return found;
}

std::vector<std::pair<std::string, std::string>> router::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) {
    std::string pattern;
    for (const auto& s : r.segments)
      pattern += "/" + s;
    out.emplace_back(r.method, pattern.empty() ? "/" : pattern);
  }
  return out;
}

http_response router::failure_response(const match& m) {
  switch (m.status) {
    case 400: return error_response(400, "malformed percent-escape in the path");
    case 405: {
      auto r = error_response(405, "method not allowed; this path accepts " + m.allow);
      r.headers.emplace_back("Allow", m.allow);
      return r;
    }
    default: return error_response(404, "no such endpoint");
  }
}

std::pair<std::string, std::string> split_target(std::string_view target) {
  if (!target.empty() && target.front() != '/') {
    // absolute-form ("http://host/path?q"): drop scheme and authority
    const std::size_t scheme = target.find("://");
    if (scheme != std::string_view::npos) {
      const std::size_t path_begin = target.find_first_of("/?", scheme + 3);
      target = path_begin == std::string_view::npos ? std::string_view{}
                                                    : target.substr(path_begin);
    }
  }
  const std::size_t hash = target.find('#');
  if (hash != std::string_view::npos)
    target = target.substr(0, hash);
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos)
    return {std::string(target), std::string()};
  return {std::string(target.substr(0, q)), std::string(target.substr(q + 1))};
}

} // namespace smsd

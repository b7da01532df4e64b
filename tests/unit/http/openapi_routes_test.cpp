// docs/openapi.yaml and the server describe the same API: every route http_server registers is an
// operation of the description (same method, same path with the same parameter names), and every
// operation of the description is a route. The YAML is read by the js-yaml that ships in
// tests/node/node_modules (node prints it as JSON), so the description may use all of YAML.
#include <sys/wait.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include "tests/support/child_process.hpp"
#include <nlohmann/json.hpp>

#include "http/router.hpp"
#include "server_fixture.hpp"

using namespace smsd;
using namespace smsd::test;

namespace {

const std::string source_dir = SMSD_SOURCE_DIR;
const std::string description_path = source_dir + "/docs/openapi.yaml";
const std::string js_yaml_dir = source_dir + "/tests/node/node_modules/js-yaml";

using route_set = std::set<std::pair<std::string, std::string>>;


/// docs/openapi.yaml as JSON, converted by js-yaml under node (at most 60 s).
nlohmann::json load_description() {
  if (!std::filesystem::exists(js_yaml_dir))
    FAIL("tests/node/node_modules/js-yaml is missing: run `npm ci` in tests/node "
         "(install-deps.sh does)");
  // js-yaml 3 has safeLoad; 4 made load safe and dropped safeLoad.
  const std::string script =
    "const y = require(process.argv[1]);"
    "const text = require(\"fs\").readFileSync(process.argv[2], \"utf8\");"
    "process.stdout.write(JSON.stringify((y.safeLoad || y.load)(text)));";
  auto [status, out] = run_shell("timeout 60 node -e '" + script + "' '" + js_yaml_dir + "' '"
                           + description_path + "' 2>&1");
  INFO(out);
  REQUIRE(status == 0);
  auto doc = nlohmann::json::parse(out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  REQUIRE(doc.is_object());
  return doc;
}

/// Every operation under `paths:` as (METHOD, path).
route_set described_operations(const nlohmann::json& doc) {
  static const std::set<std::string> methods = {"get",     "put",  "post",  "delete",
                                                "options", "head", "patch", "trace"};
  route_set out;
  REQUIRE(doc.contains("paths"));
  for (const auto& [path, item] : doc.at("paths").items()) {
    REQUIRE(item.is_object());
    for (const auto& [key, operation] : item.items()) {
      if (!methods.count(key))
        continue; // parameters, summary, description, servers
      std::string upper = key;
      for (char& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.emplace(upper, path);
    }
  }
  return out;
}

route_set served_routes() {
  server_fixture f;
  route_set out;
  for (auto& r : f.server->routes())
    out.insert(std::move(r));
  return out;
}

std::string list(const route_set& routes) {
  std::ostringstream s;
  for (const auto& [method, path] : routes)
    s << "  " << method << " " << path << "\n";
  return s.str();
}

route_set minus(const route_set& a, const route_set& b) {
  route_set out;
  for (const auto& r : a)
    if (!b.count(r))
      out.insert(r);
  return out;
}

} // namespace

TEST_CASE("the router lists its routes as they were added", "[router][openapi]") {
  router r;
  auto ok = [](const request_context&) { return empty_response(204); };
  r.add("GET", "/livez", ok);
  r.add("PUT", "/api/admin/events/{eventId}", ok);
  r.add("DELETE", "/api/admin/events/{eventId}/attendees/{attendeeId}", ok);
  using routes = std::vector<std::pair<std::string, std::string>>;
  CHECK(r.routes() == routes{{"GET", "/livez"},
                             {"PUT", "/api/admin/events/{eventId}"},
                             {"DELETE", "/api/admin/events/{eventId}/attendees/{attendeeId}"}});
  CHECK(router{}.routes().empty());
}

TEST_CASE("docs/openapi.yaml is read as YAML and has the operations smsd has always had",
          "[openapi]") {
  auto ops = described_operations(load_description());
  // A few that have been there since the start: if these are missing, the reading is broken,
  // not the description.
  CHECK(ops.count({"GET", "/livez"}));
  CHECK(ops.count({"POST", "/api/webhooks/twilio/status"}));
  CHECK(ops.count({"GET", "/api/admin/messages/{idOrSid}"}));
  CHECK(ops.size() >= 15);
}

TEST_CASE("every route the server serves is described in docs/openapi.yaml", "[openapi]") {
  const auto described = described_operations(load_description());
  const auto served = served_routes();
  REQUIRE_FALSE(served.empty());
  const auto undocumented = minus(served, described);
  INFO("served but not in docs/openapi.yaml (method and path, parameter names included):\n"
       << list(undocumented));
  CHECK(undocumented.empty());
}

TEST_CASE("every operation of docs/openapi.yaml is served", "[openapi]") {
  const auto described = described_operations(load_description());
  const auto served = served_routes();
  const auto missing = minus(described, served);
  INFO("in docs/openapi.yaml but not served (method and path, parameter names included):\n"
       << list(missing));
  CHECK(missing.empty());
}

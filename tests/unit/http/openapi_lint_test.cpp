// docs/openapi.yaml passes `redocly lint` (Redocly's recommended rules) without errors. Warnings
// are printed, not failed: the two health probes answer no 4XX at all, which the recommended
// rule `operation-4xx-response` warns about.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include "tests/support/child_process.hpp"

using smsd::test::run_shell;

namespace {

const std::string source_dir = SMSD_SOURCE_DIR;
const std::string redocly = source_dir + "/tests/node/node_modules/.bin/redocly";


/// `redocly lint FILE` from the source directory (so a redocly.yaml there applies), offline, at
/// most 90 s; its exit status (0: no errors) and output.
std::pair<int, std::string> lint(const std::string& file) {
  if (!std::filesystem::exists(redocly))
    FAIL("tests/node/node_modules is missing: run `npm ci` in tests/node (install-deps.sh does)");
  return run_shell("cd '" + source_dir + "' && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true "
             "timeout 90 '" + redocly + "' lint --format=stylish '" + file + "' 2>&1");
}

} // namespace

TEST_CASE("docs/openapi.yaml passes redocly lint without errors", "[openapi]") {
  auto [status, out] = lint(source_dir + "/docs/openapi.yaml");
  INFO(out);
  CHECK(status == 0);
  CHECK(out.find("  error  ") == std::string::npos); // stylish: "LINE:COL  error  RULE  ..."
}

TEST_CASE("redocly lint fails a description with an error, so the check above can fail",
          "[openapi]") {
  const auto path = std::filesystem::temp_directory_path() / "smsd-openapi-broken.yaml";
  {
    std::ofstream f(path);
    f << "openapi: 3.1.0\n"
         "info: {title: broken, version: '1'}\n"
         "paths:\n"
         "  /x/{id}:\n"
         "    get:\n"
         "      summary: no such schema, and an undeclared path parameter\n"
         "      responses:\n"
         "        '200':\n"
         "          description: ok\n"
         "          content:\n"
         "            application/json:\n"
         "              schema: {$ref: '#/components/schemas/Missing'}\n";
  }
  auto [status, out] = lint(path.string());
  std::filesystem::remove(path);
  INFO(out);
  CHECK(status != 0);
}

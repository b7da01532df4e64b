// SMSD_FRAME_ANCESTORS: who may frame the organizer page (its CSP frame-ancestors).
#include <map>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "config/config.hpp"

using namespace smsd;

namespace {

caf::expected<config> with_frame_ancestors(std::optional<std::string> value) {
  return load_config([value](const char* name) -> std::optional<std::string> {
    if (value && std::string(name) == "SMSD_FRAME_ANCESTORS")
      return value;
    return std::nullopt;
  });
}

} // namespace

TEST_CASE("the page may be framed by nobody unless SMSD_FRAME_ANCESTORS says who", "[config]") {
  auto cfg = with_frame_ancestors(std::nullopt);
  REQUIRE(cfg);
  CHECK(cfg->frame_ancestors == "'none'");

  auto set = with_frame_ancestors("'self' https://platform.example https://*.platform.example");
  REQUIRE(set);
  CHECK(set->frame_ancestors == "'self' https://platform.example https://*.platform.example");
}

TEST_CASE("SMSD_FRAME_ANCESTORS refuses what would break out of its CSP directive", "[config]") {
  const std::string values[] = {"https://a.example; script-src *", "https://a.example, https://b",
                                "https://a.example\r\nX-Injected: 1", "a\tb", "a\x7f", "", "   "};
  for (const auto& bad : values) {
    INFO(bad);
    auto cfg = with_frame_ancestors(bad);
    REQUIRE_FALSE(cfg);
    CHECK(message_of(cfg.error()).rfind("SMSD_FRAME_ANCESTORS: ", 0) == 0);
  }
}

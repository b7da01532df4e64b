#include "actors/status_machine.hpp"

#include <catch2/catch.hpp>

using namespace smsd;

TEST_CASE("a delivered callback moves a queued message to delivered", "[status_machine]") {
  status_fields s;
  auto r = apply_status(s, {"delivered", std::nullopt, std::nullopt, "{}", 1000});
  CHECK(r.outcome == change_outcome::applied);
  CHECK(r.next.status == "delivered");
}

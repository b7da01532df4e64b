#include "http/json_body.hpp"

#include <string>

#include "common/errors.hpp"

namespace smsd {

namespace {

struct too_deep {};

} // namespace

caf::expected<nlohmann::json> parse_json_body(std::string_view body, int max_depth) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return make_error(errc::invalid_argument, "request body must be JSON");
  using event = nlohmann::json::parse_event_t;
  // `depth` is the number of containers already open around the one that starts.
  auto guard = [max_depth](int depth, event e, nlohmann::json&) {
    if ((e == event::object_start || e == event::array_start) && depth >= max_depth)
      throw too_deep{};
    return true;
  };
  try {
    return nlohmann::json::parse(body.begin(), body.end(), guard, true);
  } catch (const too_deep&) {
    return make_error(errc::invalid_argument,
                      "JSON is nested deeper than " + std::to_string(max_depth) + " levels");
  } catch (const nlohmann::json::exception& e) {
    // e.what() names the position and the last token read; keep it short.
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos)
      what = what.substr(p + 2);
    if (what.size() > 160)
      what = what.substr(0, 160) + "...";
    return make_error(errc::invalid_argument, "malformed JSON: " + what);
  }
}

} // namespace smsd

#pragma once

#include <string_view>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace smsd {

/// Parses a request body as JSON, refusing nesting deeper than max_depth containers
/// (nlohmann parses any depth but crashes printing or copying very deep values).
/// invalid_argument for malformed JSON, for a body nested too deep, and for an empty body.
caf::expected<nlohmann::json> parse_json_body(std::string_view body, int max_depth);

} // namespace smsd

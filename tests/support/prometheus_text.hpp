#pragma once
// Reading GET /metrics in tests: Prometheus text format 0.0.4, checked line by line.

#include <map>
#include <string>

namespace smsd::test {

/// Samples by "name{labels}" (as written) after checking every line with Catch2 against the
/// text format: `# HELP name text`, `# TYPE name counter|gauge` (once per family, before its
/// samples) or `name{label="value",...} number`.
std::map<std::string, double> parse_exposition(const std::string& text);

/// The sample `key` ("name" or "name{labels}"), 0 when absent.
double sample_value(const std::map<std::string, double>& samples, const std::string& key);

} // namespace smsd::test

#include "tests/support/prometheus_text.hpp"

#include <regex>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

namespace smsd::test {

std::map<std::string, double> parse_exposition(const std::string& text) {
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge))");
  static const std::regex sample(
    R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")"
    R"((?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (-?[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?))");
  std::map<std::string, double> samples;
  std::set<std::string> typed;
  std::istringstream in(text);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    INFO(line);
    if (std::regex_match(line, m, help))
      continue;
    if (std::regex_match(line, m, type)) {
      CHECK(typed.insert(m[1]).second);
      continue;
    }
    REQUIRE(std::regex_match(line, m, sample));
    CHECK(typed.count(m[1]) == 1);
    CHECK(samples.emplace(std::string(m[1]) + std::string(m[2]), std::stod(m[3])).second);
  }
  CHECK((text.empty() || text.back() == '\n'));
  return samples;
}

double sample_value(const std::map<std::string, double>& samples, const std::string& key) {
  auto i = samples.find(key);
  return i == samples.end() ? 0.0 : i->second;
}

} // namespace smsd::test

// The Prometheus text that GET /metrics is built from: families, samples, numbers, label escapes.
#include <string>

#include <catch2/catch.hpp>

#include "common/metrics.hpp"

using namespace smsd;

TEST_CASE("metric families and samples are written in Prometheus text format", "[metrics]") {
  std::string out;
  metric_family(out, "smsd_things_total", "counter", "Things done.");
  metric_sample(out, "smsd_things_total", "", 3);
  metric_sample(out, "smsd_things_total", "kind=\"big\"", 12345678901234.0);
  CHECK(out == "# HELP smsd_things_total Things done.\n"
               "# TYPE smsd_things_total counter\n"
               "smsd_things_total 3\n"
               "smsd_things_total{kind=\"big\"} 12345678901234\n");
}

TEST_CASE("fractional samples keep their precision", "[metrics]") {
  std::string out;
  metric_sample(out, "t", "", 1795000000.123); // a Unix time in seconds, with milliseconds
  metric_sample(out, "s", "", 0.25);
  CHECK(out == "t 1795000000.123\ns 0.25\n");
}

TEST_CASE("label values escape backslashes, quotes and newlines", "[metrics]") {
  CHECK(label_value("plain") == "plain");
  CHECK(label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
}

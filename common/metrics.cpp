#include "common/metrics.hpp"

#include <cmath>
#include <cstdio>

namespace smsd {

process_counters& counters() {
  static process_counters c;
  return c;
}

const char* stage_name(report_stage s) {
  switch (s) {
    case report_stage::to_actor:
      return "to_actor";
    case report_stage::state_load:
      return "state_load";
    case report_stage::to_writer:
      return "to_writer";
    case report_stage::commit:
      return "commit";
    case report_stage::total:
      return "total";
  }
  return "unknown";
}

void metric_family(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void metric_sample(std::string& out, std::string_view name, std::string_view labels,
                   double value) {
  out.append(name);
  if (!labels.empty())
    out.append("{").append(labels).append("}");
  char buf[64];
  if (std::floor(value) == value && std::fabs(value) < 1e15)
    std::snprintf(buf, sizeof buf, " %.0f\n", value);
  else
    std::snprintf(buf, sizeof buf, " %.15g\n", value); // Unix times keep their milliseconds
  out.append(buf);
}

void metric_single(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help, double value) {
  metric_family(out, name, type, help);
  metric_sample(out, name, "", value);
}

std::string label_value(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

} // namespace smsd

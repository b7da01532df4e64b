#include "common/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace smsd {

void init_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("smsd");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

std::string mask_phone(std::string_view phone) {
  const std::size_t n = phone.size();
  if (n <= 6)
    return std::string(n, '*');
  const std::size_t head = n >= 10 ? 5 : 2, tail = n >= 10 ? 4 : 2;
  std::string out(phone.substr(0, head));
  out.append(n - head - tail, '*');
  out.append(phone.substr(n - tail));
  return out;
}

} // namespace smsd

#pragma once

#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace smsd {

/// smsd logs through spdlog's default logger (CAF's logger is compiled out in Debian's build).
/// Secrets are never passed to it; phone numbers go through mask_phone first.
void init_logging(const std::string& level);

/// "+15551234567" -> "+1555***4567": enough to tell numbers apart, not enough to dial one.
std::string mask_phone(std::string_view phone);

} // namespace smsd

#pragma once

#include <string>
#include <string_view>

namespace smsd {

/// What an organizer is told about a Twilio error code (seed spec, "Error Code Handling").
struct error_info {
  std::string title;
  std::string description;
  bool retryable;
};

/// The catalog entry for a code; unknown codes get the seed's fallback
/// ("Error <code>", "An unexpected error occurred.", retryable).
error_info error_info_for(std::string_view code);

/// Whether the catalog has an entry of its own for the code.
bool error_code_known(std::string_view code);

} // namespace smsd

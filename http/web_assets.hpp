#pragma once

#include <cstddef>
#include <string_view>

namespace smsd {

/// One file of web/ (the organizer page), compiled into the binary.
struct web_asset {
  std::string_view path; ///< relative to web/: "index.html", "assets/app.js"
  std::string_view body;
  std::string_view etag; ///< strong, from the content: "\"<hex>\""
};

/// Every file of web/, sorted by path. Defined in a source that cmake/embed_web.cmake generates
/// at build time from web/ (cmake/web_assets.cmake wires it into smsd_http).
extern const web_asset web_assets[];
extern const std::size_t web_asset_count;

/// The asset at `path` (relative to web/), or nullptr.
const web_asset* find_web_asset(std::string_view path);

} // namespace smsd

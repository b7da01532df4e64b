#include "http/web_assets.hpp"

#include <algorithm>

namespace smsd {

const web_asset* find_web_asset(std::string_view path) {
  const web_asset* end = web_assets + web_asset_count;
  const web_asset* it = std::lower_bound(
    web_assets, end, path, [](const web_asset& a, std::string_view p) { return a.path < p; });
  return it != end && it->path == path ? it : nullptr;
}

} // namespace smsd

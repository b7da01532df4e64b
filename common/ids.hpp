#pragma once

#include <string>

namespace smsd {

/// A new unique id for rows smsd creates: a prefix, the creation time and random bits
/// ("msg_" + 26 lowercase base-32 characters), sortable by creation time.
std::string new_id(const char* prefix);

} // namespace smsd

#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace smsd {

/// smsd's own error codes, carried in caf::error with the category atom "smsd".
enum class errc : std::uint8_t {
  none = 0,
  invalid_argument, ///< bad input from a caller (HTTP 400)
  not_found,        ///< the thing named does not exist (404)
  conflict,         ///< the request contradicts stored data (409)
  unavailable,      ///< the database or a dependency cannot be reached now (503)
  timeout,          ///< no answer in time (503)
  database,         ///< a database statement failed for a reason that is not transient
  internal,         ///< our own invariant broke
};

using error_category = caf::atom_constant<caf::atom("smsd")>;

const char* to_string(errc x);

caf::error make_error(errc x);
caf::error make_error(errc x, std::string message);

/// The errc of an error in our category, or errc::internal for any other.
errc code_of(const caf::error& e);

/// The message text carried by an error made with make_error(errc, std::string), or "".
std::string message_of(const caf::error& e);

/// Renders any error for logs; our own category as "name: message".
std::string describe(const caf::error& e);

} // namespace smsd

#pragma once

#include <utility>

#include <caf/expected.hpp>

#include "common/errors.hpp"
#include "http/errors.hpp"
#include "http/response.hpp"
#include "persistence/store_pool.hpp"

namespace smsd {

/// Runs `f(store&)` on a borrowed connection and turns its result into a response: a value is
/// answered as is, an error goes through error_response (the one status mapping). A connection
/// that reported errc::unavailable is dropped rather than returned to the pool.
/// `f` returns caf::expected<http_response>.
template <class F>
http_response with_store(store_pool* pool, int acquire_timeout_ms, F&& f) {
  if (!pool)
    return error_response(make_error(errc::unavailable, "no database configured"));
  auto lease = pool->acquire(acquire_timeout_ms);
  if (!lease)
    return error_response(lease.error());
  caf::expected<http_response> result = std::forward<F>(f)(**lease);
  if (result)
    return std::move(*result);
  if (code_of(result.error()) == errc::unavailable)
    lease->discard();
  return error_response(result.error());
}

} // namespace smsd

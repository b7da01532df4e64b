#include "http/response.hpp"

#include <nlohmann/json.hpp>

namespace smsd {

std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

http_response json_response(int status, const nlohmann::json& body) {
  http_response r;
  r.status = status;
  r.body = dump_json(body);
  return r;
}

http_response empty_response(int status) {
  http_response r;
  r.status = status;
  r.content_type.clear();
  return r;
}

} // namespace smsd

#include "tests/support/http_test_client.hpp"

#include <istream>
#include <ostream>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <Poco/Timespan.h>

namespace smsd::test {

std::string http_reply::header(const std::string& name) const {
  for (const auto& [n, v] : headers)
    if (Poco::icompare(n, name) == 0)
      return v;
  return {};
}

bool http_reply::has_header(const std::string& name) const {
  for (const auto& [n, v] : headers)
    if (Poco::icompare(n, name) == 0)
      return true;
  return false;
}

nlohmann::json http_reply::json() const {
  return nlohmann::json::parse(body);
}

http_test_client::http_test_client(std::uint16_t port, bool keep_alive, std::string host,
                                   int timeout_ms)
  : port_(port), keep_alive_(keep_alive), host_(std::move(host)), timeout_ms_(timeout_ms) {
}

http_test_client::~http_test_client() = default;

void http_test_client::reset() {
  session_.reset();
}

http_reply http_test_client::send(const http_request_spec& spec) {
  if (!session_) {
    session_ = std::make_unique<Poco::Net::HTTPClientSession>(host_, port_);
    session_->setTimeout(Poco::Timespan(static_cast<long>(timeout_ms_) * 1000));
    session_->setKeepAlive(keep_alive_);
  }
  Poco::Net::HTTPRequest request(spec.method, spec.target, Poco::Net::HTTPMessage::HTTP_1_1);
  request.setKeepAlive(keep_alive_);
  for (const auto& [name, value] : spec.headers)
    request.add(name, value);
  if (!spec.content_type.empty())
    request.setContentType(spec.content_type);
  if (spec.chunked)
    request.setChunkedTransferEncoding(true);
  else if (!spec.body.empty() || spec.method == "POST" || spec.method == "PUT"
           || spec.method == "PATCH")
    request.setContentLength64(static_cast<Poco::Int64>(spec.body.size()));
  http_reply reply;
  try {
    std::ostream& out = session_->sendRequest(request);
    out.write(spec.body.data(), static_cast<std::streamsize>(spec.body.size()));
    Poco::Net::HTTPResponse response;
    std::istream& in = session_->receiveResponse(response);
    Poco::StreamCopier::copyToString(in, reply.body);
    reply.status = static_cast<int>(response.getStatus());
    for (const auto& [name, value] : response)
      reply.headers.emplace_back(name, value);
  } catch (...) {
    session_.reset();
    throw;
  }
  if (!keep_alive_)
    session_.reset();
  return reply;
}

http_reply http_test_client::request(const std::string& method, const std::string& target,
                                     const header_list& headers, const std::string& body,
                                     const std::string& content_type) {
  http_request_spec spec;
  spec.method = method;
  spec.target = target;
  spec.headers = headers;
  spec.body = body;
  spec.content_type = content_type;
  return send(spec);
}

http_reply http_test_client::get(const std::string& target, const header_list& headers) {
  return request("GET", target, headers);
}

http_reply http_test_client::del(const std::string& target, const header_list& headers) {
  return request("DELETE", target, headers);
}

http_reply http_test_client::put_json(const std::string& target, const std::string& json,
                                      const header_list& headers) {
  return request("PUT", target, headers, json, "application/json");
}

http_reply http_test_client::post_json(const std::string& target, const std::string& json,
                                       const header_list& headers) {
  return request("POST", target, headers, json, "application/json");
}

http_reply http_test_client::post_form(const std::string& target, const std::string& body,
                                       const header_list& headers) {
  return request("POST", target, headers, body, "application/x-www-form-urlencoded");
}

http_reply http_send(std::uint16_t port, const http_request_spec& spec) {
  http_test_client client(port);
  return client.send(spec);
}

std::pair<std::string, std::string> bearer(const std::string& token) {
  return {"Authorization", "Bearer " + token};
}

} // namespace smsd::test

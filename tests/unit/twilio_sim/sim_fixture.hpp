#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Base64Encoder.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <catch2/catch.hpp>
#include <spdlog/spdlog.h>

#include "common/errors.hpp"
#include "http/form.hpp"
#include "tests/support/http_test_client.hpp"
#include "twilio_sim/resources.hpp"
#include "twilio_sim/sim_server.hpp"

namespace smsd::test {

constexpr const char* sim_account = "AC0123456789abcdef0123456789abcdef";
constexpr const char* sim_token = "sim-auth-token-0123456789abcdef";
constexpr const char* sim_messages_path =
  "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

/// The path of one message: `.../Messages/{sid}.json`.
inline std::string sim_message_path(const std::string& sid) {
  const std::string list = sim_messages_path;
  return list.substr(0, list.size() - 5) + "/" + sid + ".json";
}

inline std::string basic_auth(const std::string& user, const std::string& password) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder << user << ":" << password;
  encoder.close();
  return "Basic " + out.str();
}

inline header_list sim_auth() {
  return {{"Authorization", basic_auth(sim_account, sim_token)}};
}

/// Polls `pred` until it holds or `timeout` passes; returns whether it holds.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

/// One request a callback_receiver got.
struct received_request {
  std::string method;
  std::string target; ///< path and query as received
  header_list headers;
  std::string body;
  form_params params; ///< the body, decoded

  std::string header(const std::string& name) const {
    for (const auto& [n, v] : headers)
      if (Poco::icompare(n, name) == 0)
        return v;
    return {};
  }
  std::string param(const std::string& name) const {
    return first_value(params, name).value_or("");
  }
  bool has_param(const std::string& name) const {
    return first_value(params, name).has_value();
  }
};

/// A tiny HTTP server standing in for smsd's webhook: records every request and answers
/// `answer_status` (200 unless told otherwise).
class callback_receiver {
public:
  explicit callback_receiver(std::uint16_t port = 0) : state_(std::make_shared<state>()) {
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress("127.0.0.1", port), true);
    socket.listen(64);
    port_ = socket.address().port();
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(16);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new factory(state_), socket, params);
    server_->start();
  }

  ~callback_receiver() {
    server_->stopAll(true);
  }

  std::uint16_t port() const { return port_; }

  /// "http://127.0.0.1:PORT" + path.
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  void answer_with(int status) {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->answer_status = status;
  }

  std::vector<received_request> received() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->requests;
  }

  /// Waits until at least n requests arrived (or the timeout passed); returns whether they did.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const {
    std::unique_lock<std::mutex> lock(state_->mu);
    return state_->cv.wait_for(lock, timeout, [&] { return state_->requests.size() >= n; });
  }

private:
  struct state {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<received_request> requests;
    int answer_status = 200;
  };

  class handler : public Poco::Net::HTTPRequestHandler {
  public:
    explicit handler(std::shared_ptr<state> s) : state_(std::move(s)) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
      received_request r;
      r.method = request.getMethod();
      r.target = request.getURI();
      for (const auto& [name, value] : request)
        r.headers.emplace_back(name, value);
      Poco::StreamCopier::copyToString(request.stream(), r.body);
      if (auto p = parse_form(r.body))
        r.params = std::move(*p);
      int status = 200;
      {
        std::lock_guard<std::mutex> lock(state_->mu);
        state_->requests.push_back(std::move(r));
        status = state_->answer_status;
      }
      state_->cv.notify_all();
      response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
      response.setContentLength(0);
      response.send();
    }

  private:
    std::shared_ptr<state> state_;
  };

  class factory : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    explicit factory(std::shared_ptr<state> s) : state_(std::move(s)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
      return new handler(state_);
    }

  private:
    std::shared_ptr<state> state_;
  };

  std::shared_ptr<state> state_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

/// The fields of a create.
struct create_fields {
  std::string to = "+15551230100";
  std::string body = "Your table is ready";
  std::string from;                             ///< From, if not empty
  std::string service;                          ///< MessagingServiceSid, if not empty
  std::string status_callback;                  ///< StatusCallback, if not empty
};

inline std::string create_body(const create_fields& f) {
  form_params p;
  if (!f.to.empty())
    p.emplace_back("To", f.to);
  if (!f.body.empty())
    p.emplace_back("Body", f.body);
  if (!f.from.empty())
    p.emplace_back("From", f.from);
  if (!f.service.empty())
    p.emplace_back("MessagingServiceSid", f.service);
  if (!f.status_callback.empty())
    p.emplace_back("StatusCallback", f.status_callback);
  return sim::form_encode(p);
}

/// A simulator started in process on 127.0.0.1:0, stopped at the end.
class sim_fixture {
public:
  explicit sim_fixture(sim::behaviour b = {}, std::optional<std::string> callback_base = {}) {
    spdlog::set_level(spdlog::level::warn);
    sim::sim_options opts;
    opts.acct = {sim_account, sim_token, std::move(callback_base)};
    opts.initial = std::move(b);
    server = std::make_unique<sim::sim_server>(std::move(opts));
    if (auto err = server->start())
      throw std::runtime_error("start: " + describe(err));
  }

  ~sim_fixture() {
    server->stop();
  }

  std::uint16_t port() const { return server->port(); }

  http_test_client client(bool keep_alive = false) const {
    return http_test_client(port(), keep_alive, "127.0.0.1", 10000);
  }

  http_reply create(const create_fields& f) const {
    return client().post_form(sim_messages_path, create_body(f), sim_auth());
  }

  http_reply fetch(const std::string& sid) const {
    return client().get(sim_message_path(sid), sim_auth());
  }

  http_reply list(const std::string& query) const {
    return client().get(std::string(sim_messages_path) + (query.empty() ? "" : "?" + query),
                        sim_auth());
  }

  nlohmann::json stats() const { return client().get("/_sim/stats").json(); }

  nlohmann::json messages() const { return client().get("/_sim/messages").json(); }

  http_reply configure(const nlohmann::json& behaviour) const {
    return client().put_json("/_sim/config", behaviour.dump());
  }

  /// Waits until no callback is pending any more.
  bool callbacks_settled(std::chrono::milliseconds timeout = std::chrono::seconds(5)) const {
    return eventually([&] { return stats().at("callbacks_pending") == 0; }, timeout);
  }

  std::unique_ptr<sim::sim_server> server;
};

} // namespace smsd::test

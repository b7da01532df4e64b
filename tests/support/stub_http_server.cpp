#include "tests/support/stub_http_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/SocketStream.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>

namespace smsd::test {

std::string stub_request::header(const std::string& name) const {
  for (const auto& [n, v] : headers)
    if (Poco::icompare(n, name) == 0)
      return v;
  return {};
}

stub_reply stub_reply::json(int status, std::string body,
                            std::vector<std::pair<std::string, std::string>> headers) {
  stub_reply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

stub_reply stub_reply::text(int status, std::string content_type, std::string body) {
  stub_reply r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

stub_reply stub_reply::drop() {
  stub_reply r;
  r.what = action::drop;
  return r;
}

stub_reply stub_reply::hang() {
  stub_reply r;
  r.what = action::hang;
  return r;
}

struct stub_http_server::state {
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::deque<stub_reply> script;
  stub_reply fallback = stub_reply::json(404, "{}");
  std::function<stub_reply(const stub_request&)> decide;
  std::vector<stub_request> requests;
  int accepted = 0, closed = 0, in_flight = 0, max_in_flight = 0;
  std::map<int, Poco::Net::StreamSocket> open; ///< kept so that stopping can shut them down

  std::atomic<bool> stopping{false};
  bool tls = false;
  std::unique_ptr<Poco::Net::ServerSocket> listener;
  std::uint16_t port = 0;
  std::thread acceptor;
  std::vector<std::thread> workers; ///< touched by the acceptor only, then by the destructor

  void accept_loop() {
    while (!stopping) {
      // Wakes up now and then to notice `stopping`.
      if (!listener->poll(Poco::Timespan(0, 50000), Poco::Net::Socket::SELECT_READ))
        continue;
      Poco::Net::StreamSocket socket;
      try {
        socket = listener->acceptConnection();
      } catch (const Poco::Exception&) {
        continue;
      }
      int id;
      {
        std::lock_guard<std::mutex> lock(mutex);
        id = ++accepted;
        open.emplace(id, socket);
      }
      changed.notify_all();
      workers.emplace_back([this, socket, id] { serve(socket, id); });
    }
  }

  stub_reply next_reply(const stub_request& r) {
    std::function<stub_reply(const stub_request&)> f;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!decide) {
        if (script.empty())
          return fallback;
        auto reply = std::move(script.front());
        script.pop_front();
        return reply;
      }
      f = decide;
    }
    return f(r);
  }

  // Waits until the client closes its end (or sends more, or the stub stops).
  void wait_for_client_to_leave(Poco::Net::StreamSocket& socket) {
    pollfd p{};
    p.fd = socket.impl()->sockfd();
    p.events = POLLIN | POLLRDHUP;
    while (!stopping && ::poll(&p, 1, 20) == 0) {
    }
  }

  void send_all(Poco::Net::StreamSocket& socket, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      int n = socket.sendBytes(data.data() + sent, static_cast<int>(data.size() - sent));
      if (n <= 0)
        throw Poco::IOException("send failed");
      sent += static_cast<std::size_t>(n);
    }
  }

  void serve(Poco::Net::StreamSocket socket, int id) {
    try {
      Poco::Net::SocketStream io(socket);
      while (!stopping) {
        Poco::Net::HTTPRequest request;
        try {
          request.read(io);
        } catch (const Poco::Net::NoMessageException&) {
          break; // the client closed a kept-alive connection
        }
        stub_request r;
        r.method = request.getMethod();
        r.target = request.getURI();
        auto q = r.target.find('?');
        r.path = r.target.substr(0, q);
        r.query = q == std::string::npos ? std::string() : r.target.substr(q + 1);
        for (const auto& [name, value] : request)
          r.headers.emplace_back(name, value);
        if (request.hasContentLength()) {
          r.body.resize(static_cast<std::size_t>(request.getContentLength64()));
          io.read(r.body.data(), static_cast<std::streamsize>(r.body.size()));
          if (io.gcount() != static_cast<std::streamsize>(r.body.size()))
            break;
        }
        r.connection = id;
        const bool client_closes = !request.getKeepAlive();
        auto reply = next_reply(r);
        {
          std::lock_guard<std::mutex> lock(mutex);
          requests.push_back(r);
          max_in_flight = std::max(max_in_flight, ++in_flight);
        }
        changed.notify_all();
        struct done_guard {
          state& s;
          ~done_guard() {
            {
              std::lock_guard<std::mutex> lock(s.mutex);
              --s.in_flight;
            }
            s.changed.notify_all();
          }
        } done{*this};

        if (reply.what == stub_reply::action::drop)
          break;
        if (reply.what == stub_reply::action::hang) {
          wait_for_client_to_leave(socket);
          break;
        }
        if (reply.delay_ms > 0) {
          std::unique_lock<std::mutex> lock(mutex);
          changed.wait_for(lock, std::chrono::milliseconds(reply.delay_ms),
                           [&] { return stopping.load(); });
        }
        std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " "
                          + Poco::Net::HTTPResponse::getReasonForStatus(
                              static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status))
                          + "\r\n";
        if (!reply.content_type.empty())
          out += "Content-Type: " + reply.content_type + "\r\n";
        out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
        for (const auto& [name, value] : reply.headers)
          out += name + ": " + value + "\r\n";
        if (client_closes)
          out += "Connection: close\r\n";
        out += "\r\n" + reply.body;
        send_all(socket, out);
        if (reply.close_after || client_closes)
          break;
      }
    } catch (const std::exception&) {
      // A client that went away, a TLS handshake the client refused: the connection just ends.
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      open.erase(id);
    }
    try {
      socket.close();
    } catch (const std::exception&) {
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      ++closed;
    }
    changed.notify_all();
  }
};

namespace {

void initialize_ssl_once() {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Net::initializeSSL(); });
}

} // namespace

stub_http_server::stub_http_server() : stub_http_server(tls_files{}) {
}

stub_http_server::stub_http_server(tls_files tls) : state_(std::make_shared<state>()) {
  Poco::Net::SocketAddress address("127.0.0.1", 0);
  if (!tls.cert_file.empty()) {
    initialize_ssl_once();
    Poco::Net::Context::Ptr context = new Poco::Net::Context(
      Poco::Net::Context::TLS_SERVER_USE, tls.key_file, tls.cert_file, "",
      Poco::Net::Context::VERIFY_NONE);
    state_->listener = std::make_unique<Poco::Net::SecureServerSocket>(address, 64, context);
    state_->tls = true;
  } else {
    state_->listener = std::make_unique<Poco::Net::ServerSocket>(address, 64);
  }
  state_->port = state_->listener->address().port();
  state_->acceptor = std::thread([s = state_.get()] { s->accept_loop(); });
}

stub_http_server::~stub_http_server() {
  auto& s = *state_;
  s.stopping = true;
  s.changed.notify_all();
  s.acceptor.join();
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    for (auto& [id, socket] : s.open)
      ::shutdown(socket.impl()->sockfd(), SHUT_RDWR);
  }
  for (auto& t : s.workers)
    t.join();
  s.listener->close();
}

std::uint16_t stub_http_server::port() const {
  return state_->port;
}

std::string stub_http_server::base_url() const {
  return std::string(state_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
}

void stub_http_server::script(std::vector<stub_reply> replies) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  for (auto& r : replies)
    state_->script.push_back(std::move(r));
}

void stub_http_server::fallback(stub_reply reply) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->fallback = std::move(reply);
}

void stub_http_server::handler(std::function<stub_reply(const stub_request&)> decide) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->decide = std::move(decide);
}

std::vector<stub_request> stub_http_server::requests() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->requests;
}

std::size_t stub_http_server::request_count() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->requests.size();
}

int stub_http_server::connections_accepted() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->accepted;
}

int stub_http_server::connections_closed() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->closed;
}

int stub_http_server::max_in_flight() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->max_in_flight;
}

bool stub_http_server::wait_until(const std::function<bool()>& done,
                                  std::chrono::milliseconds timeout) const {
  // `done` usually calls the accessors above, which lock: it runs outside the lock, which only
  // serves to sleep until the next change (or 20 ms, for a change between the check and the wait).
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done())
      return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      return false;
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->changed.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(20)));
  }
}

// -----------------------------------------------------------------------------------------------

self_signed_cert::self_signed_cert(const std::string& subject_alt_name) {
  char tmpl[] = "/tmp/smsd-tls-XXXXXX";
  if (!mkdtemp(tmpl))
    throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  cert_file_ = dir_ + "/cert.pem";
  key_file_ = dir_ + "/key.pem";

  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (!key || !cert)
    throw std::runtime_error("cannot make a test key");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("smsd test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name,
                                            subject_alt_name.c_str());
  if (!san)
    throw std::runtime_error("bad subjectAltName: " + subject_alt_name);
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(cert, key, EVP_sha256());

  FILE* f = std::fopen(cert_file_.c_str(), "w");
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(key_file_.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
}

self_signed_cert::~self_signed_cert() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

} // namespace smsd::test

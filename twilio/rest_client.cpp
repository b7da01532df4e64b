#include "twilio/rest_client.hpp"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <istream>
#include <mutex>
#include <ostream>
#include <random>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPBasicCredentials.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketImpl.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "twilio/rest_client_detail.hpp"

namespace smsd::twilio {

namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;

constexpr std::size_t max_body_bytes = 16 * 1024 * 1024;
constexpr int max_json_depth = 64;
// A kept-alive connection idle longer than this is closed rather than reused (Poco's own default
// keep-alive timeout): servers drop idle connections, and a request sent just as they do is lost.
constexpr auto max_idle = std::chrono::seconds(8);
constexpr std::size_t max_error_text = 2000;

// Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

std::optional<json> parse_json(const std::string& text) {
  if (text.size() > max_body_bytes || !detail::json_depth_within(text, max_json_depth))
    return std::nullopt;
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded())
    return std::nullopt;
  return j;
}

std::string string_or_empty(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::string> optional_string(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    return std::nullopt;
  return it->get<std::string>();
}

// An integer sent as a JSON number or, as Twilio does for some fields, as a string of digits.
std::optional<int> optional_int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end())
    return std::nullopt;
  if (it->is_number_integer()) {
    auto v = it->get<std::int64_t>();
    if (v < INT32_MIN || v > INT32_MAX)
      return std::nullopt;
    return static_cast<int>(v);
  }
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty() || s.size() > 9
        || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    return std::stoi(s);
  }
  return std::nullopt;
}

std::optional<millis> optional_date(const json& j, const char* key) {
  auto s = optional_string(j, key);
  return s ? parse_rfc2822(*s) : std::nullopt;
}

std::optional<message_resource> message_from_json(const json& j, std::string raw,
                                                  std::string* why) {
  auto fail = [&](const char* reason) -> std::optional<message_resource> {
    if (why)
      *why = reason;
    return std::nullopt;
  };
  if (!j.is_object())
    return fail("not a JSON object");
  message_resource m;
  m.sid = string_or_empty(j, "sid");
  if (m.sid.empty())
    return fail("no sid");
  auto status = optional_string(j, "status");
  if (!status || status->empty())
    return fail("no status");
  m.status = *status;
  std::transform(m.status.begin(), m.status.end(), m.status.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  m.account_sid = string_or_empty(j, "account_sid");
  m.messaging_service_sid = optional_string(j, "messaging_service_sid");
  if (m.messaging_service_sid && m.messaging_service_sid->empty())
    m.messaging_service_sid.reset();
  m.to = string_or_empty(j, "to");
  m.from = string_or_empty(j, "from");
  m.body = string_or_empty(j, "body");
  m.error_code = optional_int(j, "error_code");
  m.error_message = optional_string(j, "error_message");
  if (auto n = optional_int(j, "num_segments"))
    m.num_segments = *n;
  if (auto it = j.find("price"); it != j.end()) {
    if (it->is_string())
      m.price = it->get<std::string>();
    else if (it->is_number())
      m.price = it->dump();
  }
  m.date_created = optional_date(j, "date_created");
  m.date_sent = optional_date(j, "date_sent");
  m.date_updated = optional_date(j, "date_updated");
  m.raw_json = std::move(raw);
  return m;
}

// An error body that is not Twilio's JSON (an HTML page from a proxy, plain text): its text, with
// markup dropped and white space collapsed, cut to a length fit for logs.
std::string readable_text(const std::string& body) {
  std::string out;
  bool in_tag = false, space = false;
  const bool html = body.find('<') != std::string::npos
                    && body.find_first_not_of(" \t\r\n") == body.find('<');
  for (char c : body) {
    if (html && c == '<') {
      in_tag = true;
      space = true;
      continue;
    }
    if (html && in_tag) {
      in_tag = c != '>';
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = true;
      continue;
    }
    if (space && !out.empty())
      out += ' ';
    space = false;
    out += c;
    if (out.size() >= max_error_text)
      break;
  }
  return out;
}

// Reads `n` digits at s[i...] into `out`.
bool read_digits(std::string_view s, std::size_t& i, std::size_t n, int& out) {
  if (i + n > s.size())
    return false;
  int v = 0;
  for (std::size_t k = i; k < i + n; ++k) {
    if (s[k] < '0' || s[k] > '9')
      return false;
    v = v * 10 + (s[k] - '0');
  }
  out = v;
  i += n;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Connections

void initialize_ssl_once() {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Net::initializeSSL(); });
}

/// One kept-alive connection: a Poco session that we open ourselves (so that a failure to connect
/// is told apart from a failure after the request went out) and that never reconnects by itself.
class connection {
public:
  virtual ~connection() = default;
  virtual Poco::Net::HTTPClientSession& session() = 0;
  /// TCP connect (and TLS handshake with verification) within the connect timeout.
  virtual void open() = 0;

  steady::time_point idle_since{};
};

template <class Base>
class connection_over final : public connection {
public:
  template <class... Args>
  explicit connection_over(Args&&... args) : session_(std::forward<Args>(args)...) {}

  Poco::Net::HTTPClientSession& session() override { return session_; }

  void open() override {
    session_.open();
    if constexpr (std::is_base_of_v<Poco::Net::HTTPSClientSession, Base>) {
      // When the server does not answer the handshake in time, Poco's connect returns without an
      // error and leaves the handshake to the first write, which would make a connect timeout
      // look like a request that went out. No peer certificate yet means no handshake yet.
      // (A handshake that got further is finished, and the certificate verified, by Poco.)
      if (!Poco::Net::SecureStreamSocket(session_.socket()).havePeerCertificate())
        throw Poco::TimeoutException("TLS handshake did not finish within the connect timeout");
    }
  }

private:
  class owned_session final : public Base {
  public:
    using Base::Base;
    void open() { this->reconnect(); }

  protected:
    // HTTPClientSession reconnects and resends on its own when the first write of a request
    // fails. A request must go out on the connection we opened or checked, or fail.
    int write(const char* buffer, std::streamsize length) override {
      return Poco::Net::HTTPSession::write(buffer, length);
    }
  };

  owned_session session_;
};

// An idle kept-alive connection must have nothing to read: readable means the server closed it
// (EOF), reset it, or sent something unasked; none of these can carry a request.
bool idle_and_open(Poco::Net::HTTPClientSession& s) {
  if (!s.connected())
    return false;
  pollfd p{};
  p.fd = s.socket().impl()->sockfd();
  p.events = POLLIN | POLLRDHUP;
  return p.fd >= 0 && ::poll(&p, 1, 0) == 0;
}

/// How one HTTP exchange ended.
enum class exchange_kind {
  answered,       ///< a status line came back
  not_sent,       ///< connecting failed: nothing of the request went out
  not_sent_final, ///< connecting failed in a way retrying does not mend (a TLS failure)
  lost,           ///< the request went out (in part or whole) and no complete answer came
};

struct exchange {
  exchange_kind kind = exchange_kind::not_sent;
  int status = 0;
  std::string body;
  std::string retry_after;
  std::string detail;
};

struct http_call {
  std::string method;
  std::string target;
  std::string body; ///< form-urlencoded, for POST
  bool idempotent = true;
  std::string what; ///< for logs: no secrets, phone numbers masked
};

struct message_page {
  std::vector<message_resource> messages;
  std::optional<std::string> next_page_uri;
};

std::optional<message_page> parse_page(const std::string& body, std::string* why) {
  auto j = parse_json(body);
  if (!j || !j->is_object()) {
    if (why)
      *why = "not a JSON object";
    return std::nullopt;
  }
  auto it = j->find("messages");
  if (it == j->end() || !it->is_array()) {
    if (why)
      *why = "no messages array";
    return std::nullopt;
  }
  message_page page;
  for (const auto& m : *it) {
    std::string reason;
    auto parsed = message_from_json(m, m.dump(), &reason);
    if (!parsed) {
      if (why)
        *why = "a message in the page: " + reason;
      return std::nullopt;
    }
    page.messages.push_back(std::move(*parsed));
  }
  page.next_page_uri = optional_string(*j, "next_page_uri");
  if (page.next_page_uri && page.next_page_uri->empty())
    page.next_page_uri.reset();
  return page;
}

double unit_random() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

} // namespace

// -----------------------------------------------------------------------------------------------
// Pure helpers

namespace detail {

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty())
      out += '&';
    out += percent_encode(name);
    out += '=';
    out += percent_encode(value);
  }
  return out;
}

std::string utc_date(millis t) {
  std::int64_t days = (t >= 0 ? t : t - 86399999) / 86400000;
  // civil_from_days (H. Hinnant)
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

int backoff_delay_ms(int retry, int initial_ms, int max_ms, double unit) {
  if (max_ms <= 0 || initial_ms <= 0)
    return 0;
  double ceiling = initial_ms;
  for (int i = 1; i < retry && ceiling < max_ms; ++i)
    ceiling *= 2;
  ceiling = std::min<double>(ceiling, max_ms);
  unit = std::clamp(unit, 0.0, 1.0);
  return static_cast<int>(ceiling * unit);
}

std::optional<long long> retry_after_ms(const std::string& header) {
  auto first = header.find_first_not_of(" \t");
  auto last = header.find_last_not_of(" \t");
  if (first == std::string::npos)
    return std::nullopt;
  auto s = header.substr(first, last - first + 1);
  if (s.empty() || s.size() > 9
      || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return std::stoll(s) * 1000;
}

bool json_depth_within(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

} // namespace detail

// -----------------------------------------------------------------------------------------------
// Parsers

std::optional<message_resource> parse_message_resource(const std::string& text, std::string* why) {
  auto j = parse_json(text);
  if (!j) {
    if (why)
      *why = "not JSON (or too large or too deep)";
    return std::nullopt;
  }
  return message_from_json(*j, text, why);
}

api_error parse_api_error(int http_status, const std::string& body) {
  api_error e;
  e.http_status = http_status;
  if (auto j = parse_json(body);
      j && j->is_object() && (j->contains("code") || j->contains("message"))) {
    e.code = optional_int(*j, "code");
    e.message = string_or_empty(*j, "message");
    e.more_info = string_or_empty(*j, "more_info");
    if (e.http_status == 0)
      e.http_status = optional_int(*j, "status").value_or(0);
    return e;
  }
  e.message = readable_text(body);
  return e;
}

std::optional<millis> parse_rfc2822(const std::string& text) {
  static constexpr std::string_view day_names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::string_view s(text);
  std::size_t i = 0;
  auto skip_space = [&] {
    std::size_t start = i;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
      ++i;
    return i > start;
  };
  auto is_alpha = [&](std::size_t k) {
    return k < s.size() && std::isalpha(static_cast<unsigned char>(s[k]));
  };

  skip_space();
  if (is_alpha(i)) { // optional day of the week: "Thu,"
    if (i + 3 > s.size()
        || std::none_of(std::begin(day_names), std::end(day_names),
                        [&](std::string_view d) { return iequals(d, s.substr(i, 3)); }))
      return std::nullopt;
    i += 3;
    skip_space();
    if (i >= s.size() || s[i] != ',')
      return std::nullopt;
    ++i;
    skip_space();
  }
  int day = 0;
  if (!(read_digits(s, i, 2, day) || read_digits(s, i, 1, day)) || !skip_space())
    return std::nullopt;
  if (i + 3 > s.size())
    return std::nullopt;
  int month = 0;
  for (int k = 0; k < 12; ++k)
    if (iequals(month_names[k], s.substr(i, 3)))
      month = k + 1;
  if (month == 0 || is_alpha(i + 3))
    return std::nullopt;
  i += 3;
  int year = 0, hour = 0, minute = 0, second = 0;
  if (!skip_space() || !read_digits(s, i, 4, year) || !skip_space())
    return std::nullopt;
  if (!read_digits(s, i, 2, hour) || i >= s.size() || s[i++] != ':'
      || !read_digits(s, i, 2, minute))
    return std::nullopt;
  if (i < s.size() && s[i] == ':') {
    ++i;
    if (!read_digits(s, i, 2, second))
      return std::nullopt;
  }
  if (!skip_space() || i >= s.size())
    return std::nullopt;
  int offset_minutes = 0;
  if (s[i] == '+' || s[i] == '-') {
    const int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int hh = 0, mm = 0;
    if (!read_digits(s, i, 2, hh) || !read_digits(s, i, 2, mm) || hh > 23 || mm > 59)
      return std::nullopt;
    offset_minutes = sign * (hh * 60 + mm);
  } else {
    std::size_t start = i;
    while (is_alpha(i))
      ++i;
    auto zone = s.substr(start, i - start);
    if (!iequals(zone, "GMT") && !iequals(zone, "UT") && !iequals(zone, "UTC")
        && !iequals(zone, "Z"))
      return std::nullopt;
  }
  skip_space();
  if (i != s.size())
    return std::nullopt;
  if (month < 1 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59
      || second > 60)
    return std::nullopt;
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month),
                                            static_cast<unsigned>(day));
  const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second
                               - static_cast<std::int64_t>(offset_minutes) * 60;
  return seconds * 1000;
}

// -----------------------------------------------------------------------------------------------
// The client

struct rest_client::impl {
  rest_client_config cfg;
  bool tls = false;
  std::string host;
  std::uint16_t port = 0;
  std::string host_header;
  std::string prefix; ///< base_url's path, without a trailing '/'
  Poco::Net::Context::Ptr context;

  std::mutex mutex;
  std::condition_variable slot_freed;
  int in_flight = 0;
  std::vector<std::unique_ptr<connection>> idle; ///< most recently used last

  explicit impl(rest_client_config c) : cfg(std::move(c)) {
    Poco::URI uri(cfg.base_url);
    const auto scheme = uri.getScheme();
    if (scheme != "http" && scheme != "https")
      throw std::invalid_argument("twilio base_url must be http:// or https://: " + cfg.base_url);
    if (uri.getHost().empty())
      throw std::invalid_argument("twilio base_url has no host: " + cfg.base_url);
    tls = scheme == "https";
    host = uri.getHost();
    port = uri.getPort();
    const bool ipv6 = host.find(':') != std::string::npos;
    host_header = ipv6 ? "[" + host + "]" : host;
    if (port != (tls ? 443 : 80))
      host_header += ":" + std::to_string(port);
    prefix = uri.getPath();
    while (!prefix.empty() && prefix.back() == '/')
      prefix.pop_back();
    cfg.max_concurrency = std::max(1, cfg.max_concurrency);
    cfg.max_attempts = std::max(1, cfg.max_attempts);
    if (tls) {
      initialize_ssl_once();
      // VERIFY_STRICT: the chain must verify against the system's CAs (and ca_file), and the
      // host name is checked even for loopback addresses, which VERIFY_RELAXED would skip.
      context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "",
                                       cfg.ca_file.value_or(""),
                                       Poco::Net::Context::VERIFY_STRICT, 9, true);
      context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    }
  }

  ~impl() {
    std::lock_guard<std::mutex> lock(mutex);
    idle.clear();
  }

  std::string messages_path() const {
    return prefix + "/2010-04-01/Accounts/" + detail::percent_encode(cfg.account_sid) + "/Messages";
  }

  // Twilio's page URIs are relative to the API's root: they go to the same host, under base_url's
  // path prefix (unless they already carry it). Credentials never go to another host.
  std::string resolve_page_uri(const std::string& uri) const {
    std::string rel = uri;
    if (auto scheme_end = uri.find("://"); scheme_end != std::string::npos) {
      auto path_start = uri.find('/', scheme_end + 3);
      rel = path_start == std::string::npos ? "/" : uri.substr(path_start);
    }
    if (rel.empty() || rel.front() != '/')
      rel.insert(rel.begin(), '/');
    if (!prefix.empty() && rel.compare(0, prefix.size() + 1, prefix + "/") == 0)
      return rel;
    return prefix + rel;
  }

  std::unique_ptr<connection> make_connection() const {
    std::unique_ptr<connection> c;
    if (tls)
      c = std::make_unique<connection_over<Poco::Net::HTTPSClientSession>>(host, port, context);
    else
      c = std::make_unique<connection_over<Poco::Net::HTTPClientSession>>(host, port);
    auto& s = c->session();
    const Poco::Timespan read_timeout(static_cast<long>(cfg.read_timeout_ms) * 1000);
    s.setTimeout(Poco::Timespan(static_cast<long>(cfg.connect_timeout_ms) * 1000), read_timeout,
                 read_timeout);
    s.setKeepAlive(true);
    // We decide when to drop an idle connection (take_idle); Poco must not reconnect on its own.
    s.setKeepAliveTimeout(Poco::Timespan(365L * 24 * 3600, 0));
    return c;
  }

  std::unique_ptr<connection> take_idle() {
    std::vector<std::unique_ptr<connection>> stale;
    std::unique_ptr<connection> found;
    {
      std::lock_guard<std::mutex> lock(mutex);
      const auto now = steady::now();
      while (!idle.empty() && !found) {
        auto c = std::move(idle.back());
        idle.pop_back();
        if (now - c->idle_since < max_idle && idle_and_open(c->session()))
          found = std::move(c);
        else
          stale.push_back(std::move(c));
      }
    }
    return found; // `stale` closes outside the lock
  }

  void give_back(std::unique_ptr<connection> c) {
    c->idle_since = steady::now();
    std::lock_guard<std::mutex> lock(mutex);
    if (idle.size() < static_cast<std::size_t>(cfg.max_concurrency))
      idle.push_back(std::move(c));
  }

  /// One HTTP request and its answer, holding one of the max_concurrency slots meanwhile.
  exchange perform(const http_call& call) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      slot_freed.wait(lock, [&] { return in_flight < cfg.max_concurrency; });
      ++in_flight;
    }
    struct slot_release {
      impl& self;
      ~slot_release() {
        {
          std::lock_guard<std::mutex> lock(self.mutex);
          --self.in_flight;
        }
        self.slot_freed.notify_one();
      }
    } release{*this};

    exchange ex;
    auto conn = take_idle();
    if (!conn) {
      try {
        conn = make_connection();
        conn->open();
      } catch (const Poco::Net::SSLConnectionUnexpectedlyClosedException& e) {
        ex.detail = "TLS handshake: " + e.displayText();
        return ex;
      } catch (const Poco::Net::SSLException& e) {
        ex.kind = exchange_kind::not_sent_final;
        ex.detail = "TLS: " + e.displayText();
        return ex;
      } catch (const Poco::Exception& e) {
        ex.detail = "connect: " + e.displayText();
        return ex;
      } catch (const std::exception& e) {
        ex.detail = std::string("connect: ") + e.what();
        return ex;
      }
    }

    auto& s = conn->session();
    Poco::Net::HTTPRequest request(call.method, call.target, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setHost(host_header);
    request.setKeepAlive(true);
    request.set("User-Agent", "smsd/" SMSD_VERSION);
    request.set("Accept", "application/json");
    Poco::Net::HTTPBasicCredentials(cfg.account_sid, cfg.auth_token).authenticate(request);
    if (call.method == Poco::Net::HTTPRequest::HTTP_POST) {
      request.setContentType("application/x-www-form-urlencoded");
      request.setContentLength64(static_cast<Poco::Int64>(call.body.size()));
    }

    // From here on the request may have reached the server.
    ex.kind = exchange_kind::lost;
    try {
      std::ostream& out = s.sendRequest(request);
      out << call.body;
      Poco::Net::HTTPResponse response;
      std::istream& in = s.receiveResponse(response);
      ex.status = static_cast<int>(response.getStatus());
      ex.retry_after = response.get("Retry-After", "");
      bool complete = read_body(in, response, ex.body);
      if (!complete || s.networkException()) {
        // Twilio answered, but the body did not all arrive. A 2xx means it was carried out, yet
        // without the body we cannot tell what it made.
        if (ex.status >= 200 && ex.status < 300) {
          ex.detail = "answer " + std::to_string(ex.status) + " cut short";
          return ex;
        }
        ex.kind = exchange_kind::answered;
        return ex;
      }
      ex.kind = exchange_kind::answered;
      if (response.getKeepAlive())
        give_back(std::move(conn));
      return ex;
    } catch (const Poco::Exception& e) {
      // Poco's streams turn a socket error into a generic one and keep the cause aside.
      const Poco::Exception* cause = s.networkException() ? s.networkException() : &e;
      if (dynamic_cast<const Poco::TimeoutException*>(cause))
        ex.detail = "no answer within " + std::to_string(cfg.read_timeout_ms) + " ms";
      else if (dynamic_cast<const Poco::Net::NoMessageException*>(cause))
        ex.detail = "connection closed before an answer";
      else
        ex.detail = "after sending: " + cause->displayText();
    } catch (const std::exception& e) {
      ex.detail = std::string("after sending: ") + e.what();
    }
    return ex;
  }

  static bool read_body(std::istream& in, const Poco::Net::HTTPResponse& response,
                        std::string& body) {
    char buf[8192];
    while (in) {
      in.read(buf, sizeof buf);
      body.append(buf, static_cast<std::size_t>(in.gcount()));
      if (body.size() > max_body_bytes)
        return false;
    }
    if (in.bad())
      return false;
    return !response.hasContentLength()
           || static_cast<Poco::Int64>(body.size()) == response.getContentLength64();
  }

  /// Sends `call` until it succeeds, fails for good, or max_attempts requests were made.
  template <class T, class Parse>
  call_result<T> run(const http_call& call, Parse parse) {
    call_result<T> result;
    for (int attempt = 1;; ++attempt) {
      auto ex = perform(call);
      result.attempts = attempt;
      const bool more = attempt < cfg.max_attempts;
      std::optional<long long> hint; // Retry-After, in ms
      switch (ex.kind) {
      case exchange_kind::answered: {
        if (ex.status >= 200 && ex.status < 300) {
          std::string why;
          if (auto value = parse(ex.body, &why)) {
            result.outcome = call_outcome::ok;
            result.value = std::move(*value);
            result.error.reset();
            result.detail.clear();
            return result;
          }
          // Twilio carried it out (2xx) but the answer is unreadable: retrying a create could
          // send it twice, and a GET would most likely get the same answer.
          result.outcome = call_outcome::unknown;
          result.error.reset();
          result.detail = "answered " + std::to_string(ex.status) + " with an unreadable body: " + why;
          spdlog::warn("twilio {}: {}", call.what, result.detail);
          return result;
        }
        result.error = parse_api_error(ex.status, ex.body);
        result.detail = "HTTP " + std::to_string(ex.status)
                        + (result.error->code ? " (code " + std::to_string(*result.error->code) + ")"
                                              : std::string());
        if (ex.status == 429 || ex.status >= 500) {
          if (!more) {
            result.outcome = call_outcome::rejected;
            spdlog::warn("twilio {}: {} after {} attempts; giving up", call.what, result.detail,
                         attempt);
            return result;
          }
          hint = detail::retry_after_ms(ex.retry_after);
          break;
        }
        result.outcome = call_outcome::rejected;
        spdlog::info("twilio {}: rejected, {}", call.what, result.detail);
        return result;
      }
      case exchange_kind::not_sent:
        result.error.reset();
        result.detail = ex.detail;
        if (!more) {
          result.outcome = call_outcome::unavailable;
          spdlog::warn("twilio {}: {} after {} attempts; giving up", call.what, ex.detail, attempt);
          return result;
        }
        break;
      case exchange_kind::not_sent_final:
        result.error.reset();
        result.detail = ex.detail;
        result.outcome = call_outcome::unavailable;
        spdlog::error("twilio {}: {}", call.what, ex.detail);
        return result;
      case exchange_kind::lost:
        result.error.reset();
        result.detail = ex.detail;
        if (!call.idempotent || !more) {
          result.outcome = call_outcome::unknown;
          spdlog::warn("twilio {}: outcome unknown ({}){}", call.what, ex.detail,
                       call.idempotent ? "" : "; not sent again");
          return result;
        }
        break;
      }
      long long delay = hint ? std::min<long long>(*hint, std::max(0, cfg.backoff_max_ms))
                             : detail::backoff_delay_ms(attempt, cfg.backoff_initial_ms,
                                                        cfg.backoff_max_ms, unit_random());
      spdlog::info("twilio {}: attempt {} of {} failed ({}); retrying in {} ms", call.what, attempt,
                   cfg.max_attempts, result.detail, delay);
      if (delay > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
  }
};

rest_client::rest_client(rest_client_config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {
}

rest_client::~rest_client() = default;

call_result<message_resource> rest_client::create_message(const create_message_request& r) {
  std::vector<std::pair<std::string, std::string>> fields{{"To", r.to}, {"Body", r.body}};
  if (r.messaging_service_sid)
    fields.emplace_back("MessagingServiceSid", *r.messaging_service_sid);
  else if (r.from)
    fields.emplace_back("From", *r.from);
  if (r.status_callback)
    fields.emplace_back("StatusCallback", *r.status_callback);
  http_call call{Poco::Net::HTTPRequest::HTTP_POST, impl_->messages_path() + ".json",
                 detail::form_encode(fields), false, "create to " + mask_phone(r.to)};
  return impl_->run<message_resource>(call, [](const std::string& body, std::string* why) {
    return parse_message_resource(body, why);
  });
}

call_result<message_resource> rest_client::fetch_message(const std::string& sid) {
  http_call call{Poco::Net::HTTPRequest::HTTP_GET,
                 impl_->messages_path() + "/" + detail::percent_encode(sid) + ".json", {}, true,
                 "fetch " + sid};
  return impl_->run<message_resource>(call, [](const std::string& body, std::string* why) {
    return parse_message_resource(body, why);
  });
}

call_result<std::vector<message_resource>> rest_client::list_messages(const list_messages_query& q) {
  std::vector<std::pair<std::string, std::string>> params;
  if (q.to)
    params.emplace_back("To", *q.to);
  // The parameter names are "DateSent>" and "DateSent<": on the wire DateSent%3E=YYYY-MM-DD.
  if (q.date_sent_after)
    params.emplace_back("DateSent>", detail::utc_date(*q.date_sent_after));
  if (q.date_sent_before)
    params.emplace_back("DateSent<", detail::utc_date(*q.date_sent_before));
  params.emplace_back("PageSize", std::to_string(std::clamp(q.page_size, 1, 1000)));
  std::string target = impl_->messages_path() + ".json?" + detail::form_encode(params);
  const std::string who = q.to ? " to " + mask_phone(*q.to) : std::string();

  call_result<std::vector<message_resource>> result;
  result.value.emplace();
  const int max_pages = std::max(1, q.max_pages);
  for (int page = 1; page <= max_pages; ++page) {
    http_call call{Poco::Net::HTTPRequest::HTTP_GET, target, {}, true,
                   "list" + who + " page " + std::to_string(page)};
    auto r = impl_->run<message_page>(call, parse_page);
    result.attempts += r.attempts;
    if (r.outcome != call_outcome::ok) {
      result.outcome = r.outcome;
      result.error = std::move(r.error);
      result.detail = "page " + std::to_string(page) + ": " + r.detail;
      result.value.reset();
      return result;
    }
    for (auto& m : r.value->messages)
      result.value->push_back(std::move(m));
    if (!r.value->next_page_uri)
      break;
    target = impl_->resolve_page_uri(*r.value->next_page_uri);
  }
  result.outcome = call_outcome::ok;
  return result;
}

} // namespace smsd::twilio

// callback_load: a load generator for smsd's Twilio status webhook.
//
// N keep-alive connections (epoll, one or more threads) send pre-built, signed,
// form-urlencoded POSTs to /api/webhooks/twilio/status: for each of M message SIDs a `sent`
// and then a `delivered`. With --seed-db it first creates the M message rows through smsd's
// own store API, so every callback has its message. It reports requests/s, latency
// percentiles, status counts and how many connections got at least one answer: a server whose
// thread pool is smaller than N leaves the extra keep-alive connections unanswered, and only
// counting per connection shows it.
//
// Loopback only; bounded by the request count and by --duration; stops by itself.
//
//   callback_load --target 127.0.0.1:8080 --auth-token TOKEN --connections 64 --messages 5000
//                 [--seed-db URL] [--seed-only] [--run-id TAG] [--duration 60] [--threads 1]
//
// The last line of the report starts with "RESULT " and holds key=value pairs for scripts.

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <string>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/errors.hpp"
#include "common/ids.hpp"
#include "common/time.hpp"
#include "persistence/poco_statement.hpp"
#include "persistence/postgres_store.hpp"
#include "persistence/postgres_url.hpp"
#include "persistence/records.hpp"
#include "persistence/store.hpp"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

namespace {

using clock_type = std::chrono::steady_clock;

// -- options --------------------------------------------------------------------------------

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string public_url; // default: http://host:port
  std::string path = "/api/webhooks/twilio/status";
  std::string auth_token;
  std::string account_sid;
  int connections = 64;
  long messages = 5000;
  double duration_s = 60;
  int threads = 1;
  std::string run_id;
  std::string seed_db;
  bool seed_only = false;
  int seed_threads = 0; // 0: 1 for SQLite, 4 for PostgreSQL
  bool seed_set = false; // the message rows in one INSERT ... SELECT
  int seed_events = 1;
  int seed_attendees = 1; // per event
  double drain_s = 5;   // once every request is out, how long to wait for the last answers
};

[[noreturn]] void usage(const char* why) {
  if (why)
    std::fprintf(stderr, "callback_load: %s\n\n", why);
  std::fprintf(stderr, R"(usage: callback_load [options]
  --target HOST:PORT     smsd to load, loopback only (127.0.0.1:8080)
  --public-url URL       base URL smsd signs with, its PUBLIC_APP_URL (http://HOST:PORT)
  --path PATH            webhook path (/api/webhooks/twilio/status)
  --auth-token TOKEN     Twilio auth token smsd validates with (env TWILIO_AUTH_TOKEN)
  --account-sid SID      AccountSid sent (env TWILIO_ACCOUNT_SID, else AC + 32 zeros)
  --connections N        keep-alive connections (64)
  --messages M           distinct message SIDs; 2*M requests: sent, then delivered (5000)
  --duration SECONDS     time limit of the load phase (60)
  --threads T            epoll threads sharing the connections (1)
  --drain SECONDS        once every request is handed out, how long to wait for the answers
                         still missing, e.g. on connections the server never serves (5)
  --run-id TAG           names this run's SIDs and rows; seed and load must use the same one
                         (default: the current time)
  --seed-db URL          first create the event, attendee and M message rows in this database
                         (sqlite:PATH or postgresql://...) through smsd's store API
  --seed-threads K       store connections used to seed (1 for SQLite, 4 for PostgreSQL)
  --seed-only            seed, print the run id and exit
  --seed-set             write the message rows with one INSERT ... SELECT through Poco Data
                         instead of one insert_message each (1,000,000 rows in seconds rather
                         than many minutes); the same columns and values either way
  --seed-events E        spread the messages over E events (1) ...
  --seed-attendees A     ... and A attendees per event (1): message i belongs to event i % E
                         and to that event's attendee (i / E) % A
)");
  std::exit(2);
}

long to_long(const std::string& flag, const std::string& v, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  long x = std::strtol(v.c_str(), &end, 10);
  if (errno || end == v.c_str() || *end || x < lo || x > hi) {
    std::string why = flag + " expects a whole number between " + std::to_string(lo) + " and "
                      + std::to_string(hi);
    usage(why.c_str());
  }
  return x;
}

bool is_loopback(const std::string& host) {
  in_addr a{};
  if (inet_pton(AF_INET, host.c_str(), &a) != 1)
    return false;
  return (ntohl(a.s_addr) >> 24) == 127;
}

options parse_options(int argc, char** argv) {
  options o;
  if (const char* t = std::getenv("TWILIO_AUTH_TOKEN"))
    o.auth_token = t;
  if (const char* s = std::getenv("TWILIO_ACCOUNT_SID"))
    o.account_sid = s;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage((a + " needs a value").c_str());
      return argv[++i];
    };
    if (a == "--target") {
      std::string v = value();
      auto colon = v.rfind(':');
      if (colon == std::string::npos)
        usage("--target expects HOST:PORT");
      o.host = v.substr(0, colon);
      if (o.host == "localhost")
        o.host = "127.0.0.1";
      o.port = static_cast<std::uint16_t>(to_long(a, v.substr(colon + 1), 1, 65535));
    } else if (a == "--public-url") {
      o.public_url = value();
    } else if (a == "--path") {
      o.path = value();
    } else if (a == "--auth-token") {
      o.auth_token = value();
    } else if (a == "--account-sid") {
      o.account_sid = value();
    } else if (a == "--connections") {
      o.connections = static_cast<int>(to_long(a, value(), 1, 10000));
    } else if (a == "--messages") {
      o.messages = to_long(a, value(), 1, 10'000'000);
    } else if (a == "--duration") {
      o.duration_s = static_cast<double>(to_long(a, value(), 1, 3600));
    } else if (a == "--drain") {
      o.drain_s = static_cast<double>(to_long(a, value(), 0, 600));
    } else if (a == "--threads") {
      o.threads = static_cast<int>(to_long(a, value(), 1, 64));
    } else if (a == "--run-id") {
      o.run_id = value();
    } else if (a == "--seed-db") {
      o.seed_db = value();
    } else if (a == "--seed-threads") {
      o.seed_threads = static_cast<int>(to_long(a, value(), 1, 64));
    } else if (a == "--seed-set") {
      o.seed_set = true;
    } else if (a == "--seed-events") {
      o.seed_events = static_cast<int>(to_long(a, value(), 1, 100000));
    } else if (a == "--seed-attendees") {
      o.seed_attendees = static_cast<int>(to_long(a, value(), 1, 1000000));
    } else if (a == "--seed-only") {
      o.seed_only = true;
    } else if (a == "-h" || a == "--help") {
      usage(nullptr);
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (!is_loopback(o.host))
    usage("--target must be a loopback address (127.0.0.0/8 or localhost)");
  if (o.public_url.empty())
    o.public_url = "http://" + o.host + ":" + std::to_string(o.port);
  while (!o.public_url.empty() && o.public_url.back() == '/')
    o.public_url.pop_back();
  if (o.account_sid.empty())
    o.account_sid = "AC" + std::string(32, '0');
  if (o.run_id.empty())
    o.run_id = std::to_string(smsd::now_millis());
  if (o.seed_only && o.seed_db.empty())
    usage("--seed-only needs --seed-db");
  if (!o.seed_only && o.auth_token.empty())
    usage("--auth-token (or TWILIO_AUTH_TOKEN) is required");
  if (o.threads > o.connections)
    o.threads = o.connections;
  return o;
}

// -- the workload -----------------------------------------------------------------------------

// 32-bit FNV-1a: turns the run id into the 8 hex digits that make this run's SIDs distinct.
std::uint32_t fnv1a(const std::string& s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

std::string message_sid(const options& o, long i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "SM%08" PRIx32 "%024lx", fnv1a(o.run_id), i);
  return buf;
}

// Event k and its attendee j; the first of each keeps the name it had before events were spread.
std::string event_id(const options& o, int k = 0) {
  return "bench-evt-" + o.run_id + (k == 0 ? "" : "-" + std::to_string(k));
}
std::string attendee_id(const options& o, int k = 0, int j = 0) {
  return "bench-att-" + o.run_id + (k == 0 && j == 0 ? "" : "-" + std::to_string(k) + "-" + std::to_string(j));
}
std::string to_phone(long i) { return "+1555" + std::to_string(1000000 + i % 9000000); }
const char* const from_phone = "+15005550006";

/// base64(HMAC-SHA1(token, url + name1 + value1 + ...)) over parameters sorted by name (and
/// value) byte-wise: Twilio's X-Twilio-Signature.
std::string twilio_signature(const std::string& token, const std::string& url,
                             std::vector<std::pair<std::string, std::string>> params) {
  std::sort(params.begin(), params.end());
  std::string data = url;
  for (auto& [k, v] : params)
    data += k + v;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), token.data(), static_cast<int>(token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &mac_len);
  unsigned char out[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  int n = EVP_EncodeBlock(out, mac, static_cast<int>(mac_len));
  return std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
}

std::string form_encode(const std::string& s) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string build_request(const options& o, long i, const char* status) {
  std::vector<std::pair<std::string, std::string>> params = {
    {"MessageSid", message_sid(o, i)}, {"MessageStatus", status},
    {"AccountSid", o.account_sid},     {"From", from_phone},
    {"To", to_phone(i)},               {"ApiVersion", "2010-04-01"},
  };
  std::string body;
  for (auto& [k, v] : params) {
    if (!body.empty())
      body += '&';
    body += form_encode(k) + '=' + form_encode(v);
  }
  std::string sig = twilio_signature(o.auth_token, o.public_url + o.path, params);
  std::string req;
  req.reserve(512 + body.size());
  req += "POST " + o.path + " HTTP/1.1\r\n";
  req += "Host: " + o.host + ":" + std::to_string(o.port) + "\r\n";
  req += "User-Agent: TwilioProxy/1.1\r\n";
  req += "Content-Type: application/x-www-form-urlencoded\r\n";
  req += "X-Twilio-Signature: " + sig + "\r\n";
  req += "I-Twilio-Idempotency-Token: bench-" + message_sid(o, i) + "-" + status + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  req += body;
  return req;
}

/// Requests in the order they are handed out: in chunks, every `sent` of a chunk before its
/// `delivered`s. A chunk holds 32 messages per connection, so a message's `delivered` leaves
/// well after its `sent` was answered (unless the server holds a request for long), while other
/// messages' callbacks come in between, as they do from Twilio.
std::vector<std::string> build_requests(const options& o) {
  std::vector<std::string> reqs;
  reqs.reserve(static_cast<std::size_t>(o.messages) * 2);
  const long chunk = std::max<long>(32L * o.connections, 2048);
  for (long first = 0; first < o.messages; first += chunk) {
    long last = std::min(o.messages, first + chunk);
    for (long i = first; i < last; ++i)
      reqs.push_back(build_request(o, i, "sent"));
    for (long i = first; i < last; ++i)
      reqs.push_back(build_request(o, i, "delivered"));
  }
  return reqs;
}

bool self_test() {
  // TWILIO.md's vector: token 12345 over the documented URL and parameters.
  std::string sig = twilio_signature(
    "12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
    {{"CallSid", "CA1234567890ABCDE"}, {"Caller", "+14158675309"}, {"Digits", "1234"},
     {"From", "+14158675309"}, {"To", "+18005551212"}});
  return sig == "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
}

// -- seeding ----------------------------------------------------------------------------------

/// The M message rows in one statement, as the loop of insert_message below writes them
/// (same columns and values; ids msg_RUN_i instead of random ones), through a Poco Data session.
int seed_set(const options& o, smsd::millis now) {
  const bool pg = o.seed_db.rfind("postgres", 0) == 0;
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%08" PRIx32, fnv1a(o.run_id));
  // i runs over 0..M-1; the event is i % E and its attendee (i / E) % A, named as event_id()
  // and attendee_id() name them.
  // Every parameter cast where it is used: PostgreSQL infers no type from "$1 - 1".
  const std::string run = "CAST(:run AS TEXT)", e = "CAST(:e AS BIGINT)", a = "CAST(:a AS BIGINT)";
  const std::string ev = "'bench-evt-' || " + run + " || CASE WHEN i % " + e + " = 0 THEN '' ELSE '-' || (i % " +
                         e + ") END";
  const std::string att = "'bench-att-' || " + run + " || CASE WHEN i % " + e + " = 0 AND (i / " + e + ") % " +
                          a + " = 0 THEN '' ELSE '-' || (i % " + e + ") || '-' || ((i / " + e + ") % " + a +
                          ") END";
  const std::string columns =
    "INSERT INTO sms_messages (id, message_sid, account_sid, to_phone, from_phone, body, num_segments, "
    "status, provider_status, status_rank, created_at, status_updated_at, event_id, attendee_id, "
    "notification_type) ";
  const std::string select =
    "SELECT 'msg_' || " + run + " || '_' || i, " +
    std::string(pg ? "'SM' || CAST(:prefix AS TEXT) || lpad(to_hex(i), 24, '0')"
                   : "printf('SM%s%024x', CAST(:prefix AS TEXT), i)") +
    ", CAST(:acct AS TEXT), '+1555' || (1000000 + i % 9000000), CAST(:from AS TEXT), "
    "'callback_load message ' || i, 1, 'queued', 'queued', 1, CAST(:now AS BIGINT), "
    "CAST(:now AS BIGINT), " + ev + ", " + att + ", 'event_reminder' ";
  std::string sql =
    pg ? columns + select + "FROM generate_series(CAST(0 AS BIGINT), CAST(:n AS BIGINT) - 1) AS g(i)"
       : "WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < CAST(:n AS BIGINT)) " +
           columns + select + "FROM g";
  // Each distinct :name is one parameter, numbered in the order of its first appearance (SQLite
  // numbers them so; for PostgreSQL they become $1, $2, ...), bound positionally in that order.
  std::vector<std::string> names;
  std::string numbered;
  for (std::size_t p = 0; p < sql.size();) {
    if (sql[p] == ':' && p + 1 < sql.size() && std::isalpha(static_cast<unsigned char>(sql[p + 1]))) {
      std::size_t q = p + 1;
      while (q < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[q])) || sql[q] == '_'))
        ++q;
      auto name = sql.substr(p + 1, q - p - 1);
      auto it = std::find(names.begin(), names.end(), name);
      const auto number = it == names.end() ? names.size() + 1 : static_cast<std::size_t>(it - names.begin()) + 1;
      if (it == names.end())
        names.push_back(name);
      numbered += pg ? "$" + std::to_string(number) : sql.substr(p, q - p);
      p = q;
    } else {
      numbered += sql[p++];
    }
  }
  sql = numbered;
  try {
    smsd::init_poco_data();
    std::unique_ptr<Poco::Data::Session> session;
    if (pg) {
      auto c = smsd::postgres_connection_of(o.seed_db);
      if (!c) {
        std::fprintf(stderr, "callback_load: %s\n", smsd::describe(c.error()).c_str());
        return 1;
      }
      session = smsd::open_postgres_session(*c);
    } else {
      session = std::make_unique<Poco::Data::Session>(Poco::Data::SQLite::Connector::KEY,
                                                      o.seed_db.substr(std::string("sqlite:").size()));
    }
    Poco::Data::Statement st(*session);
    st << sql;
    Poco::Int64 n = o.messages;
    Poco::Int64 e = o.seed_events;
    Poco::Int64 a = o.seed_attendees;
    Poco::Int64 at = now;
    std::string run_id = o.run_id;
    std::string pre = prefix;
    std::string acct = o.account_sid;
    std::string from = from_phone;
    auto bind = [&](const std::string& name) {
      using Poco::Data::Keywords::use;
      if (name == "n") st, use(n);
      else if (name == "e") st, use(e);
      else if (name == "a") st, use(a);
      else if (name == "now") st, use(at);
      else if (name == "run") st, use(run_id);
      else if (name == "prefix") st, use(pre);
      else if (name == "acct") st, use(acct);
      else if (name == "from") st, use(from);
      else throw std::runtime_error("unknown parameter " + name);
    };
    for (const auto& name : names)
      bind(name);
    session->begin();
    st.execute();
    session->commit();
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "callback_load: the set-based seed failed: %s\n", smsd::error_text(ex).c_str());
    return 1;
  }
  return 0;
}

int seed(const options& o) {
  const bool pg = o.seed_db.rfind("postgres", 0) == 0;
  const int threads = o.seed_threads > 0 ? o.seed_threads : (pg ? 4 : 1);
  auto t0 = clock_type::now();
  auto first = smsd::open_store(o.seed_db);
  if (!first) {
    std::fprintf(stderr, "callback_load: cannot open %s: %s\n", o.seed_db.c_str(),
                 smsd::describe(first.error()).c_str());
    return 1;
  }
  auto& st = **first;
  if (auto m = st.migrate(); !m) {
    std::fprintf(stderr, "callback_load: migrating failed: %s\n",
                 smsd::describe(m.error()).c_str());
    return 1;
  }
  const smsd::millis now = smsd::now_millis();
  for (int k = 0; k < o.seed_events; ++k) {
    smsd::event_record ev;
    ev.id = event_id(o, k);
    ev.name = "callback_load " + o.run_id + (k == 0 ? "" : " " + std::to_string(k));
    ev.date = now + 30LL * 24 * 3600 * 1000; // a month ahead: retention leaves it alone
    ev.owner_id = "bench-owner";
    ev.created_at = ev.updated_at = now;
    if (auto r = st.upsert_event(ev); !r) {
      std::fprintf(stderr, "callback_load: upsert_event: %s\n", smsd::describe(r.error()).c_str());
      return 1;
    }
    for (int j = 0; j < o.seed_attendees; ++j) {
      smsd::attendee_record at;
      at.id = attendee_id(o, k, j);
      at.event_id = ev.id;
      at.first_name = "Bench";
      at.last_name = "Attendee " + std::to_string(j);
      at.phone = to_phone(j);
      at.created_at = at.updated_at = now;
      if (auto r = st.upsert_attendee(at); !r) {
        std::fprintf(stderr, "callback_load: upsert_attendee: %s\n",
                     smsd::describe(r.error()).c_str());
        return 1;
      }
    }
  }
  if (o.seed_set) {
    first->reset(); // the set-based insert opens a session of its own
    if (int rc = seed_set(o, now))
      return rc;
    double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    std::fprintf(stderr, "callback_load: seeded %ld messages (run %s, one INSERT ... SELECT) in "
                         "%.1f s (%.0f rows/s)\n",
                 o.messages, o.run_id.c_str(), secs, double(o.messages) / secs);
    return 0;
  }

  std::atomic<long> next{0};
  std::atomic<long> failed{0};
  std::mutex err_mutex;
  std::string first_error;
  auto work = [&](smsd::store& s) {
    for (long i = next++; i < o.messages; i = next++) {
      smsd::message_record m;
      m.id = smsd::new_id("msg_");
      m.message_sid = message_sid(o, i);
      m.account_sid = o.account_sid;
      m.to_phone = to_phone(i);
      m.from_phone = from_phone;
      m.body = "callback_load message " + std::to_string(i);
      m.num_segments = 1;
      m.state.status = "queued";
      m.state.provider_status = "queued"; // what Twilio's create answer says without a service
      m.state.status_rank = 1;
      m.state.status_updated_at = now;
      m.created_at = now;
      const int k = static_cast<int>(i % o.seed_events);
      m.event_id = event_id(o, k);
      m.attendee_id = attendee_id(o, k, static_cast<int>((i / o.seed_events) % o.seed_attendees));
      m.notification_type = "event_reminder";
      if (auto e = s.insert_message(m)) {
        ++failed;
        std::lock_guard<std::mutex> g(err_mutex);
        if (first_error.empty())
          first_error = smsd::describe(e);
      }
    }
  };
  std::vector<std::unique_ptr<smsd::store>> extra;
  for (int t = 1; t < threads; ++t) {
    auto s = smsd::open_store(o.seed_db);
    if (!s) {
      std::fprintf(stderr, "callback_load: cannot open %s: %s\n", o.seed_db.c_str(),
                   smsd::describe(s.error()).c_str());
      return 1;
    }
    extra.push_back(std::move(*s));
  }
  std::vector<std::thread> pool;
  for (auto& s : extra)
    pool.emplace_back([&work, p = s.get()] { work(*p); });
  work(st);
  for (auto& t : pool)
    t.join();
  double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  if (failed > 0) {
    std::fprintf(stderr, "callback_load: %ld of %ld message rows failed; first: %s\n",
                 failed.load(), o.messages, first_error.c_str());
    return 1;
  }
  std::fprintf(stderr, "callback_load: seeded %ld messages (run %s) in %.1f s (%.0f rows/s)\n",
               o.messages, o.run_id.c_str(), secs, double(o.messages) / secs);
  return 0;
}

// -- the load -------------------------------------------------------------------------------

struct conn {
  int fd = -1;
  int slot = 0;
  bool connected = false;
  bool answered_once = false;     // this slot got at least one HTTP answer (over any socket)
  bool answered_on_socket = false;
  long req = -1;                  // index of the request in flight, -1 if none
  std::size_t sent = 0;           // bytes of the request written so far
  clock_type::time_point started;
  std::string in;                 // bytes read, not yet parsed
};

struct thread_stats {
  std::vector<std::uint32_t> latency_us;
  std::map<int, long> by_status;
  long errors = 0;          // connection failures and broken requests
  long unanswered = 0;      // requests still in flight at the time limit
  long reconnects = 0;
  long served_slots = 0;
  clock_type::time_point last_answer{};
};

struct shared_state {
  const std::vector<std::string>* reqs = nullptr;
  std::atomic<long> next{0};
  sockaddr_in addr{};
  clock_type::time_point deadline;
  std::chrono::milliseconds drain{5000};

  bool exhausted() const { return next.load() >= static_cast<long>(reqs->size()); }
};

/// Result of parsing the start of `in`: how many bytes one complete response took (0 if not
/// complete yet, -1 if malformed), its status and whether the server closes the connection.
struct parsed {
  long used = 0;
  int status = 0;
  bool close = false;
};

bool iequals_prefix(const std::string& s, std::size_t at, const char* word) {
  for (std::size_t i = 0; word[i]; ++i)
    if (at + i >= s.size() || std::tolower(static_cast<unsigned char>(s[at + i])) != word[i])
      return false;
  return true;
}

parsed parse_response(const std::string& in) {
  parsed p;
  auto head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    p.used = in.size() > 65536 ? -1 : 0;
    return p;
  }
  if (in.compare(0, 5, "HTTP/") != 0 || in.size() < 12) {
    p.used = -1;
    return p;
  }
  p.status = std::atoi(in.c_str() + 9);
  bool http10 = in.compare(0, 8, "HTTP/1.0") == 0;
  long content_length = -1;
  bool chunked = false;
  bool keep_alive = false;
  for (std::size_t pos = in.find("\r\n") + 2; pos < head_end;) {
    std::size_t eol = in.find("\r\n", pos);
    if (iequals_prefix(in, pos, "content-length:"))
      content_length = std::atol(in.c_str() + pos + 15);
    else if (iequals_prefix(in, pos, "transfer-encoding:")
             && in.find("chunked", pos) < eol)
      chunked = true;
    else if (iequals_prefix(in, pos, "connection:")) {
      std::string v = in.substr(pos + 11, eol - pos - 11);
      for (auto& c : v)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      p.close = v.find("close") != std::string::npos;
      keep_alive = v.find("keep-alive") != std::string::npos;
    }
    pos = eol + 2;
  }
  if (http10 && !keep_alive)
    p.close = true;
  std::size_t body = head_end + 4;
  if (chunked) {
    std::size_t pos = body;
    for (;;) {
      std::size_t eol = in.find("\r\n", pos);
      if (eol == std::string::npos)
        return p; // used = 0: wait for more
      long size = std::strtol(in.c_str() + pos, nullptr, 16);
      if (size < 0) {
        p.used = -1;
        return p;
      }
      if (size == 0) {
        // Last chunk; no trailers expected: "0\r\n\r\n".
        if (in.size() < eol + 4)
          return p;
        p.used = static_cast<long>(eol + 4);
        return p;
      }
      pos = eol + 2 + static_cast<std::size_t>(size) + 2;
      if (pos > in.size())
        return p;
    }
  }
  if (content_length < 0)
    content_length = 0; // smsd always sends a length; no body otherwise (e.g. 204)
  if (in.size() < body + static_cast<std::size_t>(content_length))
    return p;
  p.used = static_cast<long>(body + static_cast<std::size_t>(content_length));
  return p;
}

class worker {
public:
  worker(shared_state& sh, std::vector<int> slots) : sh_(sh) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    for (int s : slots) {
      conn c;
      c.slot = s;
      conns_.push_back(std::move(c));
    }
  }
  ~worker() {
    for (auto& c : conns_)
      if (c.fd >= 0)
        ::close(c.fd);
    if (ep_ >= 0)
      ::close(ep_);
  }

  /// Opens every connection and waits until each is established or failed, or `until`.
  /// Nothing is sent yet: the load starts on all connections at once.
  void connect_all(clock_type::time_point until) {
    for (std::size_t i = 0; i < conns_.size(); ++i)
      open(i);
    while (clock_type::now() < until) {
      bool pending = false;
      for (auto& c : conns_)
        pending = pending || (c.fd >= 0 && !c.connected);
      if (!pending)
        break;
      poll_once(until);
    }
  }

  std::size_t connected() const {
    std::size_t n = 0;
    for (auto& c : conns_)
      n += c.fd >= 0 && c.connected;
    return n;
  }

  thread_stats run() {
    loading_ = true;
    for (std::size_t i = 0; i < conns_.size(); ++i)
      if (conns_[i].fd >= 0 && conns_[i].connected)
        next_request(i);
    std::optional<clock_type::time_point> drain_until;
    while (active() > 0) {
      auto now = clock_type::now();
      auto limit = sh_.deadline;
      if (sh_.exhausted()) {
        // Every request is out; connections the server has not answered (queued behind a
        // full thread pool) would hold the run until the time limit: wait only so long.
        if (!drain_until)
          drain_until = now + sh_.drain;
        limit = std::min(limit, *drain_until);
      }
      if (now >= limit)
        break;
      poll_once(limit);
    }
    for (auto& c : conns_) {
      if (c.req >= 0)
        ++st_.unanswered;
      if (c.answered_once)
        ++st_.served_slots;
    }
    return std::move(st_);
  }

private:
  void poll_once(clock_type::time_point limit) {
    auto now = clock_type::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(limit - now).count() + 1;
    int n = epoll_wait(ep_, events_.data(), static_cast<int>(events_.size()),
                       static_cast<int>(std::clamp<long long>(ms, 0, 100)));
    if (n < 0) {
      if (errno != EINTR) {
        std::perror("callback_load: epoll_wait");
        std::exit(1);
      }
      return;
    }
    for (int k = 0; k < n; ++k) {
      const epoll_event& e = events_[static_cast<std::size_t>(k)];
      handle(static_cast<std::size_t>(e.data.u64), e.events);
    }
  }

  // Connections that still have work: a request in flight, or a connect in progress. A
  // connection with nothing left to send stays open (idle), so it keeps its server thread as a
  // real keep-alive client would, and does not make room for connections queued behind it.
  std::size_t active() const {
    std::size_t n = 0;
    for (auto& c : conns_)
      if (c.fd >= 0 && (c.req >= 0 || !c.connected))
        ++n;
    return n;
  }

  void open(std::size_t i) {
    conn& c = conns_[i];
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      std::perror("callback_load: socket");
      ++st_.errors;
      return;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.connected = false;
    c.answered_on_socket = false;
    c.in.clear();
    c.req = -1;
    int r = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&sh_.addr), sizeof sh_.addr);
    if (r < 0 && errno != EINPROGRESS) {
      fail(i);
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = i;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  // The socket broke: a request in flight is lost. The slot reconnects only if this socket had
  // already been answered (a server closing an idle keep-alive connection), so a refused
  // connection does not spin.
  void fail(std::size_t i) {
    conn& c = conns_[i];
    bool retry = c.answered_on_socket;
    if (c.req >= 0 || !c.answered_on_socket)
      ++st_.errors;
    c.req = -1;
    close_socket(c);
    if (retry) {
      ++st_.reconnects;
      open(i);
    }
  }

  void close_socket(conn& c) {
    if (c.fd >= 0) {
      epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      c.fd = -1;
    }
  }

  void next_request(std::size_t i) {
    conn& c = conns_[i];
    if (sh_.exhausted() || clock_type::now() >= sh_.deadline) {
      c.req = -1; // nothing left: the connection stays open, idle
      return;
    }
    long r = sh_.next++;
    if (r >= static_cast<long>(sh_.reqs->size())) {
      c.req = -1;
      return;
    }
    c.req = r;
    c.sent = 0;
    c.started = clock_type::now();
    write_some(i);
  }

  void write_some(std::size_t i) {
    conn& c = conns_[i];
    const std::string& req = (*sh_.reqs)[static_cast<std::size_t>(c.req)];
    while (c.sent < req.size()) {
      ssize_t n = ::send(c.fd, req.data() + c.sent, req.size() - c.sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          break;
        if (errno == EINTR)
          continue;
        fail(i);
        return;
      }
      c.sent += static_cast<std::size_t>(n);
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (c.sent < req.size() ? EPOLLOUT : 0u);
    ev.data.u64 = i;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void handle(std::size_t i, std::uint32_t what) {
    conn& c = conns_[i];
    if (c.fd < 0)
      return;
    if (!c.connected) {
      if (what & (EPOLLERR | EPOLLHUP)) {
        fail(i);
        return;
      }
      if (what & EPOLLOUT) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          fail(i);
          return;
        }
        c.connected = true;
        if (loading_) {
          next_request(i);
        } else {
          epoll_event ev{}; // connected, waiting for the start: stop asking for EPOLLOUT
          ev.events = EPOLLIN | EPOLLRDHUP;
          ev.data.u64 = i;
          epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
        }
        return;
      }
    }
    if ((what & EPOLLOUT) && c.req >= 0)
      write_some(i);
    if (c.fd < 0)
      return;
    if (what & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
      read_some(i);
  }

  void read_some(std::size_t i) {
    conn& c = conns_[i];
    char buf[16384];
    bool eof = false;
    for (;;) {
      ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) {
        eof = true;
        break;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      if (errno == EINTR)
        continue;
      fail(i);
      return;
    }
    while (!c.in.empty()) {
      parsed p = parse_response(c.in);
      if (p.used < 0) {
        fail(i);
        return;
      }
      if (p.used == 0)
        break;
      c.in.erase(0, static_cast<std::size_t>(p.used));
      if (c.req < 0) {
        ++st_.errors; // an answer nobody asked for
        continue;
      }
      auto now = clock_type::now();
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - c.started).count();
      st_.latency_us.push_back(static_cast<std::uint32_t>(std::min<long long>(us, UINT32_MAX)));
      ++st_.by_status[p.status];
      st_.last_answer = std::max(st_.last_answer, now);
      c.answered_once = c.answered_on_socket = true;
      c.req = -1;
      if (p.close) {
        // The server ends this connection: open a new one for the slot.
        close_socket(c);
        if (!sh_.exhausted()) {
          ++st_.reconnects;
          open(i);
        }
        return;
      }
      next_request(i);
      if (c.fd < 0)
        return;
    }
    if (eof) {
      if (c.req < 0 && c.answered_on_socket) {
        close_socket(c); // an idle connection closed by the server
        if (!sh_.exhausted()) {
          ++st_.reconnects;
          open(i);
        }
        return;
      }
      fail(i);
    }
  }

  shared_state& sh_;
  int ep_ = -1;
  bool loading_ = false;
  std::vector<conn> conns_;
  std::vector<epoll_event> events_ = std::vector<epoll_event>(256);
  thread_stats st_;
};

double percentile_ms(const std::vector<std::uint32_t>& sorted, double q) {
  if (sorted.empty())
    return 0;
  auto idx = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(idx, sorted.size() - 1)] / 1000.0;
}

int load(const options& o) {
  auto t_build = clock_type::now();
  std::vector<std::string> reqs = build_requests(o);
  double build_s = std::chrono::duration<double>(clock_type::now() - t_build).count();

  if (static_cast<long>(reqs.size()) < o.connections)
    std::fprintf(stderr, "callback_load: warning: %zu requests cannot reach all %d connections\n",
                 reqs.size(), o.connections);

  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }

  shared_state sh;
  sh.reqs = &reqs;
  sh.addr.sin_family = AF_INET;
  sh.addr.sin_port = htons(o.port);
  inet_pton(AF_INET, o.host.c_str(), &sh.addr.sin_addr);

  std::fprintf(stderr,
               "callback_load: %zu requests (%ld messages x sent, delivered; built in %.2f s) "
               "over %d connections, %d thread(s), to %s:%u%s, limit %.0f s\n",
               reqs.size(), o.messages, build_s, o.connections, o.threads, o.host.c_str(),
               o.port, o.path.c_str(), o.duration_s);

  // Connect everything first (a burst of connects can overflow the server's listen backlog;
  // the kernel then retries SYNs after a second or more), then start all threads at once.
  std::mutex mu;
  std::condition_variable cv;
  int ready = 0;
  bool go = false;
  std::atomic<long> connected{0};
  const auto connect_until = clock_type::now() + std::chrono::seconds(10);
  auto t_connect = clock_type::now();
  std::vector<thread_stats> results(static_cast<std::size_t>(o.threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    std::vector<int> slots;
    for (int s = t; s < o.connections; s += o.threads)
      slots.push_back(s);
    threads.emplace_back([&, t, slots = std::move(slots)]() mutable {
      worker w(sh, std::move(slots));
      w.connect_all(connect_until);
      connected += static_cast<long>(w.connected());
      {
        std::unique_lock<std::mutex> lk(mu);
        ++ready;
        cv.notify_all();
        cv.wait(lk, [&] { return go; });
      }
      results[static_cast<std::size_t>(t)] = w.run();
    });
  }
  clock_type::time_point start;
  {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [&] { return ready == o.threads; });
    start = clock_type::now();
    sh.deadline = start + std::chrono::milliseconds(static_cast<long>(o.duration_s * 1000));
    sh.drain = std::chrono::milliseconds(static_cast<long>(o.drain_s * 1000));
    go = true;
  }
  cv.notify_all();
  std::fprintf(stderr, "callback_load: %ld/%d connections established in %.2f s\n",
               connected.load(), o.connections,
               std::chrono::duration<double>(start - t_connect).count());
  for (auto& th : threads)
    th.join();
  auto end = clock_type::now();

  thread_stats all;
  for (auto& r : results) {
    all.latency_us.insert(all.latency_us.end(), r.latency_us.begin(), r.latency_us.end());
    for (auto& [k, v] : r.by_status)
      all.by_status[k] += v;
    all.errors += r.errors;
    all.unanswered += r.unanswered;
    all.reconnects += r.reconnects;
    all.served_slots += r.served_slots;
    all.last_answer = std::max(all.last_answer, r.last_answer);
  }
  std::sort(all.latency_us.begin(), all.latency_us.end());
  const long answered = static_cast<long>(all.latency_us.size());
  const long ok = all.by_status.count(200) ? all.by_status[200] : 0;
  const long non200 = answered - ok;
  const long not_sent = std::max<long>(0, static_cast<long>(reqs.size()) - sh.next.load());
  // Throughput over the time answers kept coming: connections that were never answered keep
  // the run going until the limit, and that wait is not work done.
  auto busy_end = answered > 0 ? all.last_answer : end;
  double busy_s = std::max(1e-6, std::chrono::duration<double>(busy_end - start).count());
  double wall_s = std::chrono::duration<double>(end - start).count();
  double rps = answered / busy_s;
  const bool timed_out = end >= sh.deadline;

  std::string other;
  for (auto& [k, v] : all.by_status)
    if (k != 200)
      other += (other.empty() ? "" : ", ") + std::to_string(k) + ": " + std::to_string(v);

  std::printf("requests sent:      %ld of %zu%s\n", static_cast<long>(reqs.size()) - not_sent,
              reqs.size(), timed_out ? " (time limit reached)" : "");
  std::printf("duration:           %.2f s (answers for %.2f s)\n", wall_s, busy_s);
  std::printf("requests/s:         %.0f\n", rps);
  std::printf("latency ms:         p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
              percentile_ms(all.latency_us, 0.50), percentile_ms(all.latency_us, 0.90),
              percentile_ms(all.latency_us, 0.99), percentile_ms(all.latency_us, 1.0));
  std::printf("status:             200: %ld  non-200: %ld%s%s%s  errors: %ld  unanswered: %ld\n",
              ok, non200, other.empty() ? "" : " (", other.c_str(), other.empty() ? "" : ")",
              all.errors, all.unanswered);
  if (all.reconnects > 0)
    std::printf("reconnects:         %ld\n", all.reconnects);
  std::printf("connections served: %ld/%d (established: %ld)\n", all.served_slots,
              o.connections, connected.load());
  std::printf("RESULT connections=%d requests=%zu answered=%ld ok=%ld non200=%ld errors=%ld "
              "unanswered=%ld rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f "
              "served=%ld seconds=%.2f timed_out=%d\n",
              o.connections, reqs.size(), answered, ok, non200, all.errors, all.unanswered, rps,
              percentile_ms(all.latency_us, 0.50), percentile_ms(all.latency_us, 0.90),
              percentile_ms(all.latency_us, 0.99), percentile_ms(all.latency_us, 1.0),
              all.served_slots, busy_s, timed_out ? 1 : 0);
  std::fflush(stdout);
  const bool clean = ok == static_cast<long>(reqs.size()) && all.errors == 0
                     && all.served_slots == o.connections;
  return clean ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  if (!self_test()) {
    std::fprintf(stderr, "callback_load: the signer fails Twilio's documented test vector\n");
    return 1;
  }
  options o = parse_options(argc, argv);
  if (!o.seed_db.empty()) {
    if (int rc = seed(o))
      return rc;
    if (o.seed_only) {
      std::printf("%s\n", o.run_id.c_str());
      return 0;
    }
  }
  return load(o);
}

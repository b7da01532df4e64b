#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/time.hpp"
#include "twilio_sim/behaviour.hpp"
#include "twilio_sim/callback_poster.hpp"

namespace smsd::sim {

/// The account the simulator plays.
struct account {
  std::string sid;        ///< "AC..."; the only account it serves
  std::string auth_token; ///< checked in Basic auth, signs callbacks
  /// Where callbacks really go: the StatusCallback's path and query on this origin (as a
  /// TLS-terminating proxy would). The signature still covers the StatusCallback as given.
  std::optional<std::string> callback_base;
};

/// A request to Twilio's REST API, as the HTTP layer hands it over.
struct rest_request {
  std::string method;
  std::string path;          ///< as received, without the query
  std::string query;         ///< as received, without '?'
  std::string authorization; ///< the Authorization header, "" if absent
  std::string body;
};

/// What to do with a REST request.
struct rest_answer {
  int status = 200;
  nlohmann::json body;
  int retry_after_s = 0;        ///< a Retry-After header when > 0
  int delay_ms = 0;             ///< wait this long before answering
  bool drop_connection = false; ///< close the connection without answering
  std::vector<callback_job> callbacks; ///< to hand to the callback poster
};

/// The counts `GET /_sim/stats` reports (callbacks_pending comes from the poster).
struct sim_counts {
  std::uint64_t creates_received = 0; ///< every create request, refused or not
  std::uint64_t creates_accepted = 0; ///< messages created (drop_after_accept included)
  std::uint64_t creates_rejected = 0; ///< creates answered 4xx other than 429
  std::uint64_t rate_limited = 0;     ///< REST requests answered 429
  std::uint64_t unauthorized = 0;     ///< REST requests answered 401
  std::uint64_t connections_dropped = 0;
  std::uint64_t fetches = 0;
  std::uint64_t lists = 0;
  std::uint64_t callbacks_sent = 0;    ///< posts answered 2xx (a duplicate counts again)
  std::uint64_t callbacks_failed = 0;  ///< posts answered otherwise or not at all
  std::uint64_t callbacks_dropped = 0; ///< callbacks never posted (drop_callbacks)
  std::map<std::string, std::uint64_t> creates_by_to; ///< messages created per To
};

/// Twilio's Messages API and status timelines, without HTTP or threads: messages, counts and the
/// behaviour, behind one mutex. Thread-safe.
///
/// A message's timeline is fixed at create: its statuses and the time each is reached. Fetch and
/// list show the status reached by now whether or not its callback was posted; callbacks are
/// returned as jobs for the callback poster.
class simulator {
public:
  using clock_fn = std::function<millis()>;

  simulator(account acct, behaviour b, clock_fn clock = &now_millis);

  /// Answers a request to `/2010-04-01/...`: create, fetch or list, with Twilio's statuses and
  /// bodies (401, 404, 405, 400 with Twilio's codes, 429 as the behaviour asks).
  rest_answer handle(const rest_request& r);

  /// Records how a callback post ended (ignored if the job predates the last reset).
  void record_callback(const callback_job& job, const callback_result& result);

  /// Replaces the behaviour and reseeds the random choices.
  void set_behaviour(behaviour b);
  behaviour current_behaviour() const;

  /// Forgets messages and counts (keeps the behaviour, reseeds); callbacks from before are
  /// ignored from now on.
  void reset();

  sim_counts counts() const;
  /// The counts as `GET /_sim/stats` shows them, without callbacks_pending.
  nlohmann::json stats_json() const;
  /// Every message with its timeline and callbacks, as `GET /_sim/messages` shows them.
  nlohmann::json messages_json() const;

private:
  struct step {
    std::string status;
    millis at = 0;
    std::optional<int> error_code;
  };
  struct callback_record {
    std::string status;
    std::string token;
    std::string outcome; ///< "sent", "failed" or "dropped"
    int http_status = 0;
    std::string detail;
  };
  struct message {
    std::string sid;
    std::string to;
    std::string from; ///< "" for a service's message (picked later)
    std::string body;
    std::optional<std::string> service;
    std::optional<std::string> status_callback;
    int segments = 1;
    std::vector<step> steps; ///< steps[0] is the status the create answers with
    std::vector<callback_record> callbacks;
  };

  rest_answer create(const rest_request& r);
  rest_answer fetch(const std::string& sid);
  rest_answer list(const std::string& path, const std::string& query);
  std::vector<callback_job> plan_callbacks(message& m);
  callback_job make_job(const message& m, std::size_t step_index) const;
  nlohmann::json resource_json(const message& m, millis now) const;
  std::size_t reached(const message& m, millis now) const;
  bool roll(double share);
  bool authorized(const std::string& authorization, const std::string& path_account) const;

  const account account_;
  const clock_fn clock_;
  mutable std::mutex mu_;
  behaviour behaviour_;
  std::mt19937_64 rng_;
  std::uint64_t generation_ = 0;
  sim_counts counts_;
  std::vector<std::shared_ptr<message>> messages_; ///< in creation order
  std::unordered_map<std::string, std::shared_ptr<message>> by_sid_;
};

} // namespace smsd::sim

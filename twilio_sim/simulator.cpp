#include "twilio_sim/simulator.hpp"

#include <algorithm>
#include <sstream>

#include <Poco/Base64Decoder.h>
#include <Poco/String.h>
#include <spdlog/spdlog.h>

#include "common/log.hpp"
#include "http/form.hpp"
#include "http/twilio_signature.hpp"
#include "twilio_sim/resources.hpp"

namespace smsd::sim {

namespace {

using json = nlohmann::json;

constexpr const char* api_prefix = "/2010-04-01/Accounts/";
constexpr millis reorder_step_ms = 10;   // reordered callbacks leave this far apart
constexpr millis duplicate_gap_ms = 20;  // a duplicate follows its original this much later
constexpr int default_page_size = 50;
constexpr int max_page_size = 1000;
constexpr millis day_ms = 86400000;

rest_answer error_answer(int http_status, int code, const std::string& message) {
  rest_answer a;
  a.status = http_status;
  a.body = api_error_body(http_status, code, message);
  return a;
}

rest_answer unauthorized_answer() {
  return error_answer(401, 20003, "Authenticate");
}

rest_answer not_found_answer(const std::string& path) {
  return error_answer(404, 20404, "The requested resource " + path + " was not found");
}

std::optional<std::string> non_empty(const form_params& params, std::string_view name) {
  auto v = first_value(params, name);
  if (v && v->empty())
    return std::nullopt;
  return v;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string base64_decode(const std::string& text) {
  try {
    std::istringstream in(text);
    Poco::Base64Decoder decoder(in);
    std::string out;
    char c;
    while (decoder.get(c))
      out.push_back(c);
    return out;
  } catch (...) {
    return {};
  }
}

// A whole UTC day from "YYYY-MM-DD" (or the date part of an ISO-8601 date-time).
std::optional<millis> parse_day(const std::string& text) {
  auto t = parse_iso8601(text);
  if (!t)
    return std::nullopt;
  return *t >= 0 ? *t / day_ms : (*t - day_ms + 1) / day_ms;
}

std::optional<int> parse_non_negative(const std::string& text) {
  if (text.empty() || text.size() > 9)
    return std::nullopt;
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

} // namespace

simulator::simulator(account acct, behaviour b, clock_fn clock)
  : account_(std::move(acct)), clock_(std::move(clock)), behaviour_(std::move(b)),
    rng_(behaviour_.seed) {
}

bool simulator::roll(double share) {
  // No draw for a share of 0: turning one knob does not shift the choices of another.
  if (share <= 0.0)
    return false;
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < share;
}

bool simulator::authorized(const std::string& authorization,
                           const std::string& path_account) const {
  if (authorization.size() < 6 || Poco::icompare(authorization.substr(0, 6), "basic ") != 0)
    return false;
  const std::string credentials = base64_decode(authorization.substr(6));
  const std::size_t colon = credentials.find(':');
  if (colon == std::string::npos)
    return false;
  const bool sid_ok = constant_time_equal(credentials.substr(0, colon), account_.sid);
  const bool token_ok = constant_time_equal(credentials.substr(colon + 1), account_.auth_token);
  return sid_ok && token_ok && path_account == account_.sid;
}

rest_answer simulator::handle(const rest_request& r) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string prefix = api_prefix;
  if (r.path.compare(0, prefix.size(), prefix) != 0)
    return not_found_answer(r.path);
  const std::string rest = r.path.substr(prefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string::npos)
    return not_found_answer(r.path);
  const std::string path_account = rest.substr(0, slash);
  const std::string resource = rest.substr(slash + 1);

  enum class kind { create, list, fetch } k;
  std::string sid;
  if (resource == "Messages.json") {
    if (r.method == "POST")
      k = kind::create;
    else if (r.method == "GET")
      k = kind::list;
    else
      return error_answer(405, 20004, "Method not allowed");
  } else if (resource.size() > 14 && resource.compare(0, 9, "Messages/") == 0
             && resource.compare(resource.size() - 5, 5, ".json") == 0
             && resource.find('/', 9) == std::string::npos) {
    if (r.method != "GET")
      return error_answer(405, 20004, "Method not allowed");
    k = kind::fetch;
    sid = resource.substr(9, resource.size() - 14);
  } else {
    return not_found_answer(r.path);
  }

  switch (k) {
  case kind::create:
    ++counts_.creates_received;
    break;
  case kind::list:
    ++counts_.lists;
    break;
  case kind::fetch:
    ++counts_.fetches;
    break;
  }
  rest_answer answer;
  if (!authorized(r.authorization, path_account)) {
    ++counts_.unauthorized;
    answer = unauthorized_answer();
  } else if (roll(behaviour_.rate_limit_share)) {
    ++counts_.rate_limited;
    answer = error_answer(429, 20429, "Too Many Requests");
    answer.retry_after_s = behaviour_.retry_after_s;
  } else if (k == kind::create) {
    answer = create(r);
  } else if (k == kind::fetch) {
    answer = fetch(sid);
  } else {
    answer = list(r.path, r.query);
  }
  if (k == kind::create && answer.status >= 400 && answer.status != 429)
    ++counts_.creates_rejected;
  if (!answer.drop_connection)
    answer.delay_ms = behaviour_.response_delay_ms;
  return answer;
}

rest_answer simulator::create(const rest_request& r) {
  auto params = parse_form(r.body);
  if (!params)
    return error_answer(400, 20001, "The request body is not valid form data");
  const auto to = non_empty(*params, "To");
  const auto body = non_empty(*params, "Body");
  const auto from = non_empty(*params, "From");
  const auto service = non_empty(*params, "MessagingServiceSid");
  const auto callback = non_empty(*params, "StatusCallback");
  if (!to)
    return error_answer(400, 21604, create_error_message(21604, {}, {}));
  if (!is_e164(*to))
    return error_answer(400, 21211, create_error_message(21211, *to, {}));
  if (!from && !service)
    return error_answer(400, 21603, create_error_message(21603, {}, {}));
  if (!body)
    return error_answer(400, 21602, create_error_message(21602, {}, {}));
  if (callback && !split_http_url(*callback))
    return error_answer(400, 21609, "The StatusCallback URL " + *callback
                                      + " is not a valid URL.");
  const std::string sender = from ? *from : *service;
  if (auto f = behaviour_.create_failures.find(*to); f != behaviour_.create_failures.end())
    return error_answer(400, f->second, create_error_message(f->second, *to, sender));
  static const std::map<std::string, int> magic = {{"+15005550001", 21211},
                                                    {"+15005550002", 21612},
                                                    {"+15005550003", 21408},
                                                    {"+15005550004", 21610},
                                                    {"+15005550009", 21614}};
  if (auto m = magic.find(*to); m != magic.end())
    return error_answer(400, m->second, create_error_message(m->second, *to, sender));

  auto m = std::make_shared<message>();
  m->sid = "SM" + random_hex(32);
  m->to = *to;
  // With a service Twilio picks the sender later; the simulator picks it once queued.
  m->from = service ? std::string() : *from;
  m->body = *body;
  m->service = service;
  m->status_callback = callback;
  m->segments = count_segments(*body);

  const millis now = clock_();
  m->steps.push_back({service ? "accepted" : "queued", now, std::nullopt});
  std::vector<std::pair<std::string, std::optional<int>>> next;
  if (service)
    next.emplace_back("queued", std::nullopt);
  const auto failure = behaviour_.delivery_failures.find(*to);
  if (failure != behaviour_.delivery_failures.end() && failure->second.status == "failed") {
    next.emplace_back("failed", failure->second.error_code);
  } else {
    next.emplace_back("sent", std::nullopt);
    if (failure != behaviour_.delivery_failures.end())
      next.emplace_back("undelivered", failure->second.error_code);
    else
      next.emplace_back("delivered", std::nullopt);
  }
  millis at = now;
  for (std::size_t i = 0; i < next.size(); ++i) {
    at += behaviour_.callback_delay_ms(i);
    m->steps.push_back({next[i].first, at, next[i].second});
  }

  rest_answer answer;
  answer.status = 201;
  answer.body = resource_json(*m, now);
  answer.callbacks = plan_callbacks(*m);
  messages_.push_back(m);
  by_sid_[m->sid] = m;
  ++counts_.creates_accepted;
  ++counts_.creates_by_to[m->to];
  spdlog::info("twilio_sim: created {} to {} ({}), {} callbacks", m->sid, mask_phone(m->to),
               m->steps.front().status, answer.callbacks.size());
  if (behaviour_.drop_after_accept.count(m->to) != 0) {
    ++counts_.connections_dropped;
    answer.drop_connection = true;
  }
  return answer;
}

std::vector<callback_job> simulator::plan_callbacks(message& m) {
  std::vector<callback_job> jobs;
  if (!m.status_callback)
    return jobs;
  const millis created = m.steps.front().at;
  // (step index, delay) in the order they are to be posted.
  std::vector<std::pair<std::size_t, millis>> order;
  const std::size_t n = m.steps.size() - 1; // no callback for the initial status
  if (behaviour_.reorder_callbacks) {
    const millis last = m.steps.back().at - created;
    for (std::size_t j = 0; j < n; ++j)
      order.emplace_back(n - j, last + static_cast<millis>(j) * reorder_step_ms);
  } else {
    for (std::size_t i = 1; i <= n; ++i)
      order.emplace_back(i, m.steps[i].at - created);
  }
  for (const auto& [index, delay] : order) {
    callback_job job = make_job(m, index);
    job.delay = std::chrono::milliseconds(delay);
    if (roll(behaviour_.drop_callbacks)) {
      ++counts_.callbacks_dropped;
      m.callbacks.push_back({job.status, job.idempotency_token, "dropped", 0, {}});
      continue;
    }
    if (behaviour_.duplicate_callbacks) {
      callback_job copy = job;
      copy.delay += std::chrono::milliseconds(duplicate_gap_ms);
      jobs.push_back(std::move(job));
      jobs.push_back(std::move(copy));
    } else {
      jobs.push_back(std::move(job));
    }
  }
  return jobs;
}

callback_job simulator::make_job(const message& m, std::size_t step_index) const {
  const step& s = m.steps[step_index];
  callback_job job;
  job.generation = generation_;
  job.message_sid = m.sid;
  job.status = s.status;
  form_params& p = job.params;
  p.emplace_back("AccountSid", account_.sid);
  p.emplace_back("From", m.service ? std::string(service_sender) : m.from);
  p.emplace_back("To", m.to);
  p.emplace_back("MessageSid", m.sid);
  p.emplace_back("SmsSid", m.sid);
  p.emplace_back("SmsStatus", s.status);
  p.emplace_back("MessageStatus", s.status);
  p.emplace_back("ApiVersion", api_version);
  if (m.service)
    p.emplace_back("MessagingServiceSid", *m.service);
  if (s.error_code)
    p.emplace_back("ErrorCode", std::to_string(*s.error_code));
  if (s.status == "delivered" || s.status == "undelivered")
    p.emplace_back("RawDlrDoneDate", format_dlr_date(s.at));
  job.signature = twilio_signature(account_.auth_token, *m.status_callback, p);
  job.idempotency_token = random_hex(32);
  job.target_url = *m.status_callback;
  if (account_.callback_base) {
    const auto url = split_http_url(*m.status_callback);
    std::string base = *account_.callback_base;
    while (!base.empty() && base.back() == '/')
      base.pop_back();
    job.target_url = base + (url ? url->path_and_query : std::string());
  }
  return job;
}

std::size_t simulator::reached(const message& m, millis now) const {
  std::size_t i = 0;
  while (i + 1 < m.steps.size() && m.steps[i + 1].at <= now)
    ++i;
  return i;
}

json simulator::resource_json(const message& m, millis now) const {
  const std::size_t at = reached(m, now);
  const step& current = m.steps[at];
  json date_sent = nullptr;
  for (std::size_t i = 0; i <= at; ++i)
    if (m.steps[i].status == "sent")
      date_sent = format_rfc2822(m.steps[i].at);
  json from = m.from;
  if (m.service)
    from = at == 0 ? json(nullptr) : json(service_sender);
  const std::string uri_base =
    std::string("/2010-04-01/Accounts/") + account_.sid + "/Messages/" + m.sid;
  return {{"account_sid", account_.sid},
          {"api_version", api_version},
          {"body", m.body},
          {"date_created", format_rfc2822(m.steps.front().at)},
          {"date_sent", date_sent},
          {"date_updated", format_rfc2822(current.at)},
          {"direction", "outbound-api"},
          {"error_code", current.error_code ? json(*current.error_code) : json(nullptr)},
          {"error_message", current.error_code ? json(delivery_error_message(*current.error_code))
                                               : json(nullptr)},
          {"from", from},
          {"messaging_service_sid", m.service ? json(*m.service) : json(nullptr)},
          {"num_media", "0"},
          {"num_segments", std::to_string(m.segments)},
          {"price", nullptr},
          {"price_unit", "USD"},
          {"sid", m.sid},
          {"status", current.status},
          {"subresource_uris", {{"media", uri_base + "/Media.json"}}},
          {"to", m.to},
          {"uri", uri_base + ".json"}};
}

rest_answer simulator::fetch(const std::string& sid) {
  auto it = by_sid_.find(sid);
  if (it == by_sid_.end())
    return not_found_answer(std::string(api_prefix) + account_.sid + "/Messages/" + sid
                            + ".json");
  rest_answer answer;
  answer.body = resource_json(*it->second, clock_());
  return answer;
}

rest_answer simulator::list(const std::string& path, const std::string& query) {
  auto params = parse_form(query);
  if (!params)
    return error_answer(400, 20001, "The query string is not valid");
  // The filters, in the order Twilio writes them back into page URIs.
  static const char* filter_names[] = {"To", "From", "DateSent", "DateSent>", "DateSent<"};
  std::vector<std::pair<std::string, std::string>> filters;
  for (const char* name : filter_names)
    if (auto v = first_value(*params, name)) {
      // An unencoded '+' arrives as a space: a phone number never starts with one.
      if ((std::string_view(name) == "To" || std::string_view(name) == "From") && !v->empty()
          && v->front() == ' ')
        v->front() = '+';
      filters.emplace_back(name, *v);
    }
  std::optional<std::string> to, from;
  std::optional<millis> day_eq, day_min, day_max;
  for (const auto& [name, value] : filters) {
    if (name == "To") {
      to = value;
    } else if (name == "From") {
      from = value;
    } else {
      auto day = parse_day(value);
      if (!day)
        return error_answer(400, 20001, "Invalid " + name + " value: " + value);
      (name == "DateSent" ? day_eq : name == "DateSent>" ? day_min : day_max) = day;
    }
  }
  int page_size = default_page_size, page = 0;
  if (auto v = first_value(*params, "PageSize")) {
    auto n = parse_non_negative(*v);
    if (!n || *n < 1)
      return error_answer(400, 20001, "Invalid PageSize value: " + *v);
    page_size = std::min(*n, max_page_size);
  }
  if (auto v = first_value(*params, "Page")) {
    auto n = parse_non_negative(*v);
    if (!n)
      return error_answer(400, 20001, "Invalid Page value: " + *v);
    page = *n;
  }
  const std::string token = first_value(*params, "PageToken").value_or("");

  const millis now = clock_();
  std::vector<const message*> matching; // newest first
  for (auto it = messages_.rbegin(); it != messages_.rend(); ++it) {
    const message& m = **it;
    if (to && m.to != *to)
      continue;
    if (from) {
      const std::size_t at = reached(m, now);
      const std::string shown = m.service ? (at == 0 ? "" : service_sender) : m.from;
      if (shown != *from)
        continue;
    }
    if (day_eq || day_min || day_max) {
      // date_sent once sent, date_created before.
      millis when = m.steps.front().at;
      const std::size_t at = reached(m, now);
      for (std::size_t i = 0; i <= at; ++i)
        if (m.steps[i].status == "sent")
          when = m.steps[i].at;
      const millis day = when / day_ms;
      if ((day_eq && day != *day_eq) || (day_min && day < *day_min)
          || (day_max && day > *day_max))
        continue;
    }
    matching.push_back(&m);
  }

  std::size_t start = static_cast<std::size_t>(page) * static_cast<std::size_t>(page_size);
  const auto position = [&](const std::string& sid) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < matching.size(); ++i)
      if (matching[i]->sid == sid)
        return i;
    return std::nullopt;
  };
  if (token.size() > 2 && token.compare(0, 2, "PA") == 0) {
    if (auto p = position(token.substr(2)))
      start = *p + 1;
  } else if (token.size() > 2 && token.compare(0, 2, "PB") == 0) {
    if (auto p = position(token.substr(2)))
      start = *p > static_cast<std::size_t>(page_size) ? *p - static_cast<std::size_t>(page_size)
                                                       : 0;
  }
  start = std::min(start, matching.size());
  const std::size_t end = std::min(start + static_cast<std::size_t>(page_size), matching.size());

  json items = json::array();
  for (std::size_t i = start; i < end; ++i)
    items.push_back(resource_json(*matching[i], now));

  std::string filter_query;
  for (const auto& [name, value] : filters)
    filter_query += query_encode(name) + "=" + query_encode(value) + "&";
  const auto page_uri = [&](int p, const std::string& page_token) {
    std::string uri = path + "?" + filter_query + "PageSize=" + std::to_string(page_size)
                      + "&Page=" + std::to_string(p);
    if (!page_token.empty())
      uri += "&PageToken=" + query_encode(page_token);
    return uri;
  };
  json next = nullptr, previous = nullptr;
  if (end < matching.size() && end > start)
    next = page_uri(page + 1, "PA" + matching[end - 1]->sid);
  if (page > 0)
    previous = page_uri(page - 1, end > start ? "PB" + matching[start]->sid : std::string());

  rest_answer answer;
  answer.body = {{"messages", items},
                 {"end", end > start ? end - 1 : start},
                 {"first_page_uri", page_uri(0, {})},
                 {"next_page_uri", next},
                 {"page", page},
                 {"page_size", page_size},
                 {"previous_page_uri", previous},
                 {"start", start},
                 {"uri", page_uri(page, token)}};
  return answer;
}

void simulator::record_callback(const callback_job& job, const callback_result& result) {
  std::lock_guard<std::mutex> lock(mu_);
  if (job.generation != generation_)
    return;
  if (result.ok)
    ++counts_.callbacks_sent;
  else
    ++counts_.callbacks_failed;
  if (auto it = by_sid_.find(job.message_sid); it != by_sid_.end())
    it->second->callbacks.push_back({job.status, job.idempotency_token,
                                     result.ok ? "sent" : "failed", result.http_status,
                                     result.detail});
}

void simulator::set_behaviour(behaviour b) {
  std::lock_guard<std::mutex> lock(mu_);
  behaviour_ = std::move(b);
  rng_.seed(behaviour_.seed);
}

behaviour simulator::current_behaviour() const {
  std::lock_guard<std::mutex> lock(mu_);
  return behaviour_;
}

void simulator::reset() {
  std::lock_guard<std::mutex> lock(mu_);
  ++generation_;
  counts_ = sim_counts{};
  messages_.clear();
  by_sid_.clear();
  rng_.seed(behaviour_.seed);
}

sim_counts simulator::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

json simulator::stats_json() const {
  const sim_counts c = counts();
  return {{"creates_received", c.creates_received},
          {"creates_accepted", c.creates_accepted},
          {"creates_rejected", c.creates_rejected},
          {"rate_limited", c.rate_limited},
          {"unauthorized", c.unauthorized},
          {"connections_dropped", c.connections_dropped},
          {"fetches", c.fetches},
          {"lists", c.lists},
          {"callbacks_sent", c.callbacks_sent},
          {"callbacks_failed", c.callbacks_failed},
          {"callbacks_dropped", c.callbacks_dropped},
          {"creates_by_to", c.creates_by_to}};
}

json simulator::messages_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  const millis now = clock_();
  json out = json::array();
  for (const auto& m : messages_) {
    const std::size_t at = reached(*m, now);
    json timeline = json::array();
    for (std::size_t i = 0; i < m->steps.size(); ++i) {
      json s = {{"status", m->steps[i].status},
                {"at", to_iso8601(m->steps[i].at)},
                {"reached", i <= at}};
      if (m->steps[i].error_code)
        s["error_code"] = *m->steps[i].error_code;
      timeline.push_back(std::move(s));
    }
    json callbacks = json::array();
    json posted = json::array();
    for (const auto& c : m->callbacks) {
      callbacks.push_back({{"status", c.status},
                           {"idempotency_token", c.token},
                           {"outcome", c.outcome},
                           {"http_status", c.http_status},
                           {"detail", c.detail}});
      if (c.outcome != "dropped")
        posted.push_back(c.status);
    }
    out.push_back({{"sid", m->sid},
                   {"to", m->to},
                   {"from", m->service ? (at == 0 ? json(nullptr) : json(service_sender))
                                       : json(m->from)},
                   {"body", m->body},
                   {"messaging_service_sid", m->service ? json(*m->service) : json(nullptr)},
                   {"status_callback",
                    m->status_callback ? json(*m->status_callback) : json(nullptr)},
                   {"status", m->steps[at].status},
                   {"timeline", timeline},
                   {"callbacks", callbacks},
                   {"posted", posted}});
  }
  return out;
}

} // namespace smsd::sim

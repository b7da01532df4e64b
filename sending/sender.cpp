#include "sending/sender.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "actors/status_intake.hpp"
#include "common/errors.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "persistence/store_pool.hpp"
#include "sending/phone_number.hpp"
#include "twilio/error_catalog.hpp"

namespace smsd {

namespace {

constexpr int acquire_timeout_ms = 5000;
constexpr const char* callback_path = "/api/webhooks/twilio/status";

const char* const notification_types[] = {"invitation",     "rsvp_reminder", "match_reveal",
                                          "event_reminder", "new_rsvps",     "question_set"};

std::string lower_ascii(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return s;
}

std::string callback_url(const std::string& public_app_url, const std::string& id) {
  std::string base = public_app_url;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  // One query parameter only: Twilio re-sorts several before calling, yet signs them as given.
  return base + callback_path + "?mid=" + id;
}

void replace_all(std::string& s, const std::string& what, const std::string& with) {
  for (auto pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + with.size()))
    s.replace(pos, what.size(), with);
}

/// What one send came to, before it is told to the message's actor.
struct outcome {
  send_result result;
  status_report report;
};

outcome from_twilio(const std::string& id, const twilio::call_result<twilio::message_resource>& r) {
  outcome o;
  o.result.db_record_id = id;
  auto& rep = o.report;
  rep.message_id = id;
  rep.source = "send";
  rep.received_at = now_millis();
  send_update su;
  su.message_id = id;
  switch (r.outcome) {
    case twilio::call_outcome::ok: {
      const auto& m = *r.value;
      su.send_state = send_state::accepted;
      su.message_sid = m.sid;
      if (!m.account_sid.empty())
        su.account_sid = m.account_sid;
      su.messaging_service_sid = m.messaging_service_sid;
      if (!m.from.empty())
        su.from_phone = m.from;
      su.num_segments = m.num_segments;
      rep.message_sid = m.sid;
      rep.provider_status = lower_ascii(m.status);
      if (m.error_code)
        rep.error_code = std::to_string(*m.error_code);
      rep.error_message = m.error_message;
      rep.payload = m.raw_json.empty() ? "{}" : m.raw_json;
      o.result.success = true;
      o.result.message_sid = m.sid;
      break;
    }
    case twilio::call_outcome::rejected: {
      const auto& e = *r.error;
      su.send_state = send_state::rejected;
      rep.provider_status = "failed";
      if (e.code)
        rep.error_code = std::to_string(*e.code);
      std::string message = e.message.empty()
                              ? "Twilio answered HTTP " + std::to_string(e.http_status)
                              : e.message;
      rep.error_message = message;
      nlohmann::json payload = {{"status", e.http_status},
                                {"code", e.code ? nlohmann::json(*e.code) : nlohmann::json()},
                                {"message", e.message},
                                {"more_info", e.more_info}};
      rep.payload = payload.dump();
      o.result.error = std::move(message);
      o.result.row_failed = true;
      break;
    }
    case twilio::call_outcome::unavailable: {
      su.send_state = send_state::not_sent;
      rep.provider_status = "failed";
      std::string message = "Twilio could not be reached (" + r.detail + "); the message was not sent";
      rep.error_message = message;
      rep.payload = nlohmann::json{{"error", r.detail}}.dump();
      o.result.error = std::move(message);
      o.result.row_failed = true;
      break;
    }
    case twilio::call_outcome::unknown: {
      // It may have been sent: never send it again blindly; reconciliation settles it.
      su.send_state = send_state::unknown;
      rep.provider_status.clear();
      rep.payload = nlohmann::json{{"error", r.detail}}.dump();
      o.result.error = "Twilio did not answer (" + r.detail
                       + "); the message may have been sent and will be checked with Twilio, "
                         "not sent again";
      break;
    }
  }
  rep.send = std::move(su);
  return o;
}

outcome not_sent(const std::string& id, const std::string& problem) {
  outcome o;
  o.result.db_record_id = id;
  auto message = "Invalid phone number: " + problem + "; the message was not sent";
  o.result.error = message;
  o.result.row_failed = true;
  auto& rep = o.report;
  rep.message_id = id;
  rep.source = "send";
  rep.received_at = now_millis();
  rep.provider_status = "failed";
  rep.error_code = "21211";
  rep.error_message = message;
  rep.payload = nlohmann::json{{"error", message}}.dump();
  send_update su;
  su.message_id = id;
  su.send_state = send_state::not_sent;
  rep.send = std::move(su);
  return o;
}

} // namespace

bool valid_notification_type(const std::string& type) {
  return std::find(std::begin(notification_types), std::end(notification_types), type)
         != std::end(notification_types);
}

const char* notification_types_text() {
  return "invitation, rsvp_reminder, match_reveal, event_reminder, new_rsvps, question_set";
}

std::string sender::fill_template(const std::string& body, const std::string& first_name,
                                  const std::string& event_name) {
  std::string out = body;
  replace_all(out, "{{firstName}}", first_name);
  replace_all(out, "{{eventName}}", event_name);
  return out;
}

sender::sender(sender_settings settings, store_pool& stores, twilio::twilio_api& twilio,
               status_intake& intake)
  : settings_(std::move(settings)), stores_(stores), twilio_(twilio), intake_(intake) {
}

namespace {

/// One send once the attendee is known: row, Twilio, send result.
class one_send {
public:
  one_send(const sender_settings& settings, store_pool& stores, twilio::twilio_api& twilio,
           status_intake& intake)
    : settings_(settings), stores_(stores), twilio_(twilio), intake_(intake) {
  }

  caf::expected<send_result> run(const send_request& r, const std::string& raw_to) {
    auto phone = normalize_phone(raw_to, settings_.default_region);
    message_record row;
    row.id = new_id("msg_");
    row.to_phone = phone.e164 ? *phone.e164 : raw_to;
    row.from_phone = settings_.messaging_service_sid ? "" : settings_.from_number.value_or("");
    row.messaging_service_sid = settings_.messaging_service_sid;
    row.body = r.body;
    row.created_at = now_millis();
    row.state.status_updated_at = row.created_at;
    row.event_id = r.event_id;
    row.attendee_id = r.attendee_id;
    row.notification_type = r.notification_type;
    row.retry_of_id = r.retry_of_id;
    row.send_state = send_state::sending;
    {
      auto lease = stores_.acquire(acquire_timeout_ms);
      if (!lease)
        return lease.error();
      if (auto err = (*lease)->insert_message(row)) {
        if (code_of(err) == errc::unavailable)
          lease->discard();
        return err;
      }
    }
    outcome o;
    if (!phone.e164) {
      spdlog::info("message {}: '{}' is not a phone number ({}); not sent", row.id,
                   mask_phone(raw_to), phone.problem);
      o = not_sent(row.id, phone.problem);
    } else {
      twilio::create_message_request create;
      create.to = *phone.e164;
      create.body = r.body;
      create.messaging_service_sid = settings_.messaging_service_sid;
      if (!create.messaging_service_sid)
        create.from = settings_.from_number;
      create.status_callback = callback_url(settings_.public_app_url, row.id);
      auto answer = twilio_.create_message(create);
      o = from_twilio(row.id, answer);
      log_outcome(row, answer);
    }
    wait_durable(row.id, intake_.submit(std::move(o.report)));
    return o.result;
  }

private:
  void log_outcome(const message_record& row,
                   const twilio::call_result<twilio::message_resource>& a) {
    const auto to = mask_phone(row.to_phone);
    switch (a.outcome) {
      case twilio::call_outcome::ok:
        spdlog::info("message {} to {} accepted by Twilio as {} ({}), {} attempt(s)", row.id, to,
                     a.value->sid, a.value->status, a.attempts);
        break;
      case twilio::call_outcome::rejected:
        spdlog::warn("message {} to {} refused by Twilio: {} {} ({} attempt(s))", row.id, to,
                     a.error->code ? std::to_string(*a.error->code) : "-", a.error->message,
                     a.attempts);
        break;
      case twilio::call_outcome::unavailable:
        spdlog::warn("message {} to {} not sent, Twilio unreachable: {}", row.id, to, a.detail);
        break;
      case twilio::call_outcome::unknown:
        spdlog::warn("message {} to {}: no answer from Twilio ({}); left for reconciliation",
                     row.id, to, a.detail);
        break;
    }
  }

  void wait_durable(const std::string& id, std::future<void> done) {
    if (done.wait_for(std::chrono::milliseconds(settings_.ack_timeout_ms))
        != std::future_status::ready) {
      spdlog::error("message {}: the send result was not stored within {} ms", id,
                    settings_.ack_timeout_ms);
      return;
    }
    try {
      done.get();
    } catch (const std::exception& e) {
      spdlog::error("message {}: the send result could not be stored: {}", id, e.what());
    }
  }

  const sender_settings& settings_;
  store_pool& stores_;
  twilio::twilio_api& twilio_;
  status_intake& intake_;
};

} // namespace

namespace {

caf::expected<event_record> load_event(store& db, const std::string& id) {
  auto ev = db.find_event(id);
  if (!ev)
    return ev.error();
  if (!*ev)
    return make_error(errc::not_found, "Event not found");
  return std::move(**ev);
}

} // namespace

caf::expected<send_result> sender::send(const send_request& r) {
  std::string raw_to;
  {
    auto lease = stores_.acquire(acquire_timeout_ms);
    if (!lease)
      return lease.error();
    if (auto ev = load_event(**lease, r.event_id); !ev)
      return ev.error();
    auto at = (*lease)->find_attendee(r.event_id, r.attendee_id);
    if (!at)
      return at.error();
    if (!*at)
      return make_error(errc::not_found, "Attendee not found");
    raw_to = r.to ? *r.to : (*at)->phone.value_or("");
  }
  if (raw_to.find_first_not_of(" \t") == std::string::npos)
    return make_error(errc::invalid_argument,
                      "attendee " + r.attendee_id + " has no phone number and no 'to' was given");
  return one_send{settings_, stores_, twilio_, intake_}.run(r, raw_to);
}

namespace {

/// A retry request's choice, made before anything is sent: the attendee, its messages (newest
/// first) and which of them to retry (indexes, oldest first) or skip.
struct retry_plan {
  attendee_record attendee;
  std::vector<message_entry> messages;
  std::vector<std::size_t> to_retry;
  std::vector<retry_skip> skipped;
  std::optional<retry_skip> refused; ///< a single retry that cannot be done
};

bool is_failed(const message_record& m) {
  return m.state.status == "failed" || m.state.status == "undelivered";
}

retry_skip already_retried(const std::string& id, std::string reason,
                           std::optional<std::string> existing_retry_id) {
  return {id, std::move(reason), std::move(existing_retry_id), retry_skip_code::already_retried,
          std::nullopt};
}

/// The one message of a single retry, or the 409 saying why it cannot be retried.
void select_one(retry_plan& plan, std::size_t i) {
  const auto& e = plan.messages[i];
  if (e.retried_by_id) {
    plan.refused = already_retried(e.message.id, "Message already retried", e.retried_by_id);
  } else if (!is_failed(e.message)) {
    plan.refused = retry_skip{e.message.id,
                              "Only failed or undelivered messages can be retried (this one is "
                                + e.message.state.status + ")",
                              std::nullopt, retry_skip_code::not_failed, std::nullopt};
  } else {
    plan.to_retry.push_back(i);
  }
}

/// retryAll: every failed or undelivered message not retried yet whose error code may succeed
/// on a retry, oldest first, so the new messages come out in the order the originals were sent.
void select_all(retry_plan& plan) {
  for (std::size_t i = plan.messages.size(); i-- > 0;) {
    const auto& e = plan.messages[i];
    if (!is_failed(e.message))
      continue;
    if (e.retried_by_id) {
      plan.skipped.push_back(already_retried(e.message.id, "already retried", e.retried_by_id));
      continue;
    }
    if (const auto& code = e.message.state.error_code; code && !code->empty()) {
      auto info = error_info_for(*code);
      if (!info.retryable) {
        plan.skipped.push_back({e.message.id,
                                "error " + *code + " (" + info.title + ") is not retryable",
                                std::nullopt, retry_skip_code::not_retryable, *code});
        continue;
      }
    }
    plan.to_retry.push_back(i);
  }
}

/// Reads the attendee and its messages and chooses: what retry() and preview_retry() share.
caf::expected<retry_plan> plan_retry(store_pool& stores, const retry_request& r) {
  retry_plan plan;
  {
    auto lease = stores.acquire(acquire_timeout_ms);
    if (!lease)
      return lease.error();
    auto at = (*lease)->find_attendee(r.event_id, r.attendee_id);
    if (!at)
      return at.error();
    if (!*at)
      return make_error(errc::not_found, "Attendee not found");
    plan.attendee = std::move(**at);
    auto all = (*lease)->attendee_messages(r.event_id, r.attendee_id);
    if (!all)
      return all.error();
    plan.messages = std::move(*all);
  }
  if (!r.message_id) {
    select_all(plan);
    return plan;
  }
  auto i = std::find_if(plan.messages.begin(), plan.messages.end(),
                        [&](const message_entry& e) { return e.message.id == *r.message_id; });
  if (i == plan.messages.end())
    return make_error(errc::not_found, "Message not found");
  select_one(plan, static_cast<std::size_t>(i - plan.messages.begin()));
  return plan;
}

} // namespace

caf::expected<retry_preview> sender::preview_retry(const retry_request& r) {
  auto plan = plan_retry(stores_, r);
  if (!plan)
    return plan.error();
  retry_preview out;
  for (auto i : plan->to_retry)
    out.would_retry.push_back(plan->messages[i].message.id);
  out.skipped = std::move(plan->skipped);
  out.refused = std::move(plan->refused);
  return out;
}

caf::expected<retry_result> sender::retry(const retry_request& r) {
  auto plan = plan_retry(stores_, r);
  if (!plan)
    return plan.error();
  retry_result out;
  out.skipped = std::move(plan->skipped);
  if (plan->refused) {
    out.refused = std::move(plan->refused);
    return out;
  }
  const auto& attendee = plan->attendee;
  const bool has_phone =
    attendee.phone && attendee.phone->find_first_not_of(" \t") != std::string::npos;
  for (auto i : plan->to_retry) {
    const auto& orig = plan->messages[i].message;
    retry_entry entry;
    entry.original_id = orig.id;
    if (!has_phone) {
      entry.result.error = "Attendee has no phone number";
      entry.result.row_failed = true;
      out.results.push_back(std::move(entry));
      continue;
    }
    send_request req;
    req.event_id = r.event_id;
    req.attendee_id = r.attendee_id;
    req.body = orig.body.value_or("");
    req.notification_type = orig.notification_type;
    req.retry_of_id = orig.id;
    auto res = one_send{settings_, stores_, twilio_, intake_}.run(req, *attendee.phone);
    if (!res) {
      if (code_of(res.error()) == errc::conflict) {
        // Another request retried it first (one retry per message, enforced by the database).
        if (r.message_id) {
          out.refused = already_retried(orig.id, "Message already retried", std::nullopt);
          return out;
        }
        out.skipped.push_back(already_retried(orig.id, "already retried", std::nullopt));
        continue;
      }
      if (code_of(res.error()) == errc::not_found)
        return make_error(errc::not_found, "Attendee not found"); // deleted meanwhile
      return res.error();
    }
    entry.result = std::move(*res);
    spdlog::info("message {} retried as {}", orig.id, entry.result.db_record_id.value_or("-"));
    out.results.push_back(std::move(entry));
  }
  return out;
}

caf::expected<notify_result> sender::notify(const notify_request& r) {
  event_record event;
  std::vector<attendee_record> attendees;
  {
    auto lease = stores_.acquire(acquire_timeout_ms);
    if (!lease)
      return lease.error();
    auto ev = load_event(**lease, r.event_id);
    if (!ev)
      return ev.error();
    event = std::move(*ev);
    auto all = (*lease)->attendees_of_event(r.event_id);
    if (!all)
      return all.error();
    attendees = std::move(*all);
  }

  notify_result out;
  // Who is asked for: every attendee, or the listed ones (each once, in the order given; an id
  // that is not an attendee of this event is reported, never looked up elsewhere).
  std::vector<std::pair<std::string, const attendee_record*>> targets;
  if (!r.attendee_ids) {
    for (const auto& a : attendees)
      targets.emplace_back(a.id, &a);
  } else {
    std::set<std::string> seen;
    for (const auto& id : *r.attendee_ids) {
      if (!seen.insert(id).second)
        continue;
      auto i = std::find_if(attendees.begin(), attendees.end(),
                            [&](const attendee_record& a) { return a.id == id; });
      targets.emplace_back(id, i == attendees.end() ? nullptr : &*i);
    }
  }

  // Slots in `out.results`, filled by up to max_parallel threads.
  struct job {
    const attendee_record* attendee;
    std::size_t slot;
  };
  std::vector<job> jobs;
  for (const auto& [id, a] : targets) {
    notify_entry e;
    e.attendee_id = id;
    if (!a) {
      e.skipped = true;
      e.result.error = "Attendee not found in this event";
    } else if (!a->phone || a->phone->find_first_not_of(" \t") == std::string::npos) {
      e.skipped = true;
      e.result.error = "Attendee has no phone number";
    } else {
      jobs.push_back({a, out.results.size()});
    }
    out.results.push_back(std::move(e));
  }

  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (auto i = next++; i < jobs.size(); i = next++) {
      const auto& a = *jobs[i].attendee;
      send_request req;
      req.event_id = r.event_id;
      req.attendee_id = a.id;
      req.body = fill_template(r.body, a.first_name, event.name);
      req.notification_type = r.notification_type;
      auto res = one_send{settings_, stores_, twilio_, intake_}.run(req, *a.phone);
      auto& e = out.results[jobs[i].slot];
      if (res) {
        e.result = std::move(*res);
      } else if (code_of(res.error()) == errc::not_found) {
        e.skipped = true; // deleted while the notification went out
        e.result.error = "Attendee not found in this event";
      } else {
        spdlog::error("notify {}: attendee {}: {}", r.event_id, a.id, describe(res.error()));
        e.result.error = "the message could not be recorded; it was not sent";
      }
    }
  };
  const auto threads = std::min<std::size_t>(jobs.size(), std::max(1, settings_.max_parallel));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t)
    pool.emplace_back(work);
  work();
  for (auto& t : pool)
    t.join();

  for (const auto& e : out.results) {
    if (e.skipped)
      ++out.skipped;
    else if (e.result.success)
      ++out.sent;
    else
      ++out.failed;
  }
  return out;
}

} // namespace smsd

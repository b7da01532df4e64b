#include "scheduling/reconcile_job.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "actors/status_intake.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"
#include "persistence/store.hpp"
#include "twilio/rest_client.hpp"

namespace smsd {

namespace {

constexpr const char* source_reconcile = "reconcile";
constexpr const char* unknown_to_twilio = "Twilio has no record of this message (reconciliation)";
constexpr const char* never_accepted = "Twilio never accepted this message; it was not sent";
constexpr millis one_day_ms = 24LL * 3600 * 1000;

std::string lower_ascii(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return s;
}

/// What Twilio said about one candidate.
struct lookup {
  std::optional<twilio::call_result<twilio::message_resource>> fetched;           // has a SID
  std::optional<twilio::call_result<std::vector<twilio::message_resource>>> listed; // no SID
  millis answered_at = 0;
};

bool is_not_found(const twilio::call_result<twilio::message_resource>& r) {
  return r.outcome == twilio::call_outcome::rejected && r.error
         && (r.error->http_status == 404 || r.error->code == 20404);
}

std::string outcome_text(twilio::call_outcome o) {
  switch (o) {
    case twilio::call_outcome::ok: return "ok";
    case twilio::call_outcome::rejected: return "rejected";
    case twilio::call_outcome::unavailable: return "unavailable";
    case twilio::call_outcome::unknown: return "no answer";
  }
  return "?";
}

template <class T>
std::string failure_text(const twilio::call_result<T>& r) {
  std::string s = outcome_text(r.outcome);
  if (r.error)
    s += " HTTP " + std::to_string(r.error->http_status)
         + (r.error->code ? " code " + std::to_string(*r.error->code) : std::string())
         + (r.error->message.empty() ? std::string() : ": " + r.error->message);
  else if (!r.detail.empty())
    s += " (" + r.detail + ")";
  return s + ", " + std::to_string(r.attempts) + " attempt(s)";
}

status_report base_report(const message_record& row, millis at) {
  status_report rep;
  rep.message_id = row.id;
  rep.source = source_reconcile;
  rep.received_at = at;
  return rep;
}

/// Twilio's resource as a status report, as a callback would bring it.
status_report from_resource(const message_record& row, const twilio::message_resource& m,
                            millis at) {
  auto rep = base_report(row, at);
  rep.message_sid = m.sid;
  rep.provider_status = lower_ascii(m.status);
  if (m.error_code)
    rep.error_code = std::to_string(*m.error_code);
  rep.error_message = m.error_message;
  rep.payload = m.raw_json.empty() ? "{}" : m.raw_json;
  return rep;
}

/// Whether what the database holds for a message differs in anything a report can change.
bool changed(const message_record& before, const message_record& after) {
  return before.state.status_rank != after.state.status_rank
         || before.state.status != after.state.status
         || before.state.provider_status != after.state.provider_status
         || before.send_state != after.send_state || before.message_sid != after.message_sid;
}

} // namespace

nlohmann::json reconcile_result::counts_json() const {
  return {{"examined", examined},
          {"fetched", fetched},
          {"updated", updated},
          {"failed_unknown", failed_unknown},
          {"attached", attached},
          {"not_sent", not_sent},
          {"errors", errors},
          {"capped", capped}};
}

reconcile_job::reconcile_job(reconcile_settings settings, twilio::twilio_api& twilio,
                             status_intake& intake)
  : settings_(std::move(settings)), twilio_(twilio), intake_(intake) {
}

namespace {

/// One page of candidates: ask Twilio (bounded concurrency), decide, report, wait, count.
class page_run {
public:
  page_run(const reconcile_settings& s, twilio::twilio_api& twilio, status_intake& intake,
           store& db, reconcile_result& out, std::set<std::string>& claimed_sids)
    : s_(s), twilio_(twilio), intake_(intake), db_(db), out_(out), claimed_(claimed_sids) {
  }

  void run(const std::vector<message_record>& rows) {
    auto answers = ask_twilio(rows);
    struct pending {
      std::size_t index;
      std::future<void> done;
    };
    std::vector<pending> submitted;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ++out_.examined;
      auto rep = decide(rows[i], answers[i]);
      if (rep)
        submitted.push_back({i, intake_.submit(std::move(*rep))});
    }
    for (auto& p : submitted) {
      const auto& row = rows[p.index];
      if (!wait_durable(row.id, p.done)) {
        ++out_.errors;
        continue;
      }
      auto after = db_.find_message_by_id(row.id);
      if (!after) {
        spdlog::warn("reconcile: cannot read message {} back: {}", row.id, describe(after.error()));
        continue;
      }
      if (*after && changed(row, **after))
        ++out_.updated;
    }
  }

private:
  std::vector<lookup> ask_twilio(const std::vector<message_record>& rows) {
    std::vector<lookup> answers(rows.size());
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      for (auto i = next++; i < rows.size(); i = next++) {
        const auto& row = rows[i];
        auto& a = answers[i];
        try {
          if (row.message_sid) {
            a.fetched = twilio_.fetch_message(*row.message_sid);
          } else {
            twilio::list_messages_query q;
            q.to = row.to_phone;
            // Twilio compares whole UTC days: a day earlier covers any clock difference.
            q.date_sent_after = row.created_at - one_day_ms;
            q.page_size = 100;
            a.listed = twilio_.list_messages(q);
          }
        } catch (const std::exception& e) {
          // The client does not throw; if it ever does, this message waits for the next run.
          spdlog::error("reconcile: Twilio call for message {} threw: {}", row.id, e.what());
        }
        a.answered_at = now_millis();
      }
    };
    const auto n = std::min<std::size_t>(std::max(1, s_.concurrency), rows.size());
    std::vector<std::thread> threads;
    threads.reserve(n);
    for (std::size_t t = 0; t < n; ++t)
      threads.emplace_back(worker);
    for (auto& t : threads)
      t.join();
    return answers;
  }

  std::optional<status_report> decide(const message_record& row, const lookup& a) {
    if (a.fetched)
      return decide_fetch(row, *a.fetched, a.answered_at);
    if (a.listed)
      return decide_list(row, *a.listed, a.answered_at);
    ++out_.errors;
    return std::nullopt;
  }

  std::optional<status_report> decide_fetch(const message_record& row,
                                            const twilio::call_result<twilio::message_resource>& r,
                                            millis at) {
    if (r.outcome == twilio::call_outcome::ok && r.value) {
      ++out_.fetched;
      return from_resource(row, *r.value, at);
    }
    if (is_not_found(r)) {
      ++out_.failed_unknown;
      spdlog::warn("reconcile: Twilio has no record of {} (message {}): failed", *row.message_sid,
                   row.id);
      auto rep = base_report(row, at);
      rep.message_sid = *row.message_sid;
      rep.provider_status = "failed";
      rep.error_message = unknown_to_twilio;
      nlohmann::json payload = {{"status", r.error->http_status},
                                {"code", r.error->code ? nlohmann::json(*r.error->code) : nlohmann::json()},
                                {"message", r.error->message},
                                {"more_info", r.error->more_info},
                                {"reconcile", unknown_to_twilio}};
      rep.payload = payload.dump();
      return rep;
    }
    // 429s and 5xx were already retried by the client: leave it for the next run.
    ++out_.errors;
    spdlog::warn("reconcile: fetch of {} (message {}) failed, left for the next run: {}",
                 *row.message_sid, row.id, failure_text(r));
    return std::nullopt;
  }

  std::optional<status_report>
  decide_list(const message_record& row,
              const twilio::call_result<std::vector<twilio::message_resource>>& r, millis at) {
    if (r.outcome != twilio::call_outcome::ok || !r.value) {
      ++out_.errors;
      spdlog::warn("reconcile: list to {} (message {}) failed, left for the next run: {}",
                   mask_phone(row.to_phone), row.id, failure_text(r));
      return std::nullopt;
    }
    const twilio::message_resource* best = nullptr;
    millis best_distance = 0;
    for (const auto& m : *r.value) {
      if (m.to != row.to_phone || !row.body || m.body != *row.body || !m.date_created
          || *m.date_created < row.created_at - s_.match_skew_ms || m.sid.empty()
          || claimed_.count(m.sid) > 0)
        continue;
      auto owner = db_.find_message_by_sid(m.sid);
      if (!owner) {
        // Cannot tell whether another row owns it: do not guess, try again next run.
        ++out_.errors;
        spdlog::warn("reconcile: cannot look up SID {}: {}", m.sid, describe(owner.error()));
        return std::nullopt;
      }
      if (*owner && (*owner)->id != row.id)
        continue; // another of our messages to the same number with the same text
      const millis distance = *m.date_created - row.created_at;
      const millis d = distance < 0 ? -distance : distance;
      if (!best || d < best_distance) {
        best = &m;
        best_distance = d;
      }
    }
    if (best) {
      ++out_.attached;
      claimed_.insert(best->sid);
      spdlog::info("reconcile: unknown send {} to {} found in Twilio as {} ({})", row.id,
                   mask_phone(row.to_phone), best->sid, best->status);
      auto rep = from_resource(row, *best, at);
      send_update su;
      su.message_id = row.id;
      su.send_state = send_state::accepted;
      su.message_sid = best->sid;
      if (!best->account_sid.empty())
        su.account_sid = best->account_sid;
      su.messaging_service_sid = best->messaging_service_sid;
      if (!best->from.empty())
        su.from_phone = best->from;
      su.num_segments = best->num_segments;
      rep.send = std::move(su);
      return rep;
    }
    ++out_.not_sent;
    spdlog::warn("reconcile: unknown send {} to {} is not in Twilio's list: failed, not sent",
                 row.id, mask_phone(row.to_phone));
    auto rep = base_report(row, at);
    rep.provider_status = "failed";
    rep.error_message = never_accepted;
    rep.payload = nlohmann::json{{"reconcile", never_accepted},
                                 {"listed", r.value->size()}}.dump();
    // No SID to key the event on: key it on our id, so one message's verdict is logged once.
    rep.idempotency_token = "reconcile-not-sent:" + row.id;
    send_update su;
    su.message_id = row.id;
    su.send_state = send_state::not_sent;
    rep.send = std::move(su);
    return rep;
  }

  bool wait_durable(const std::string& id, std::future<void>& done) {
    if (done.wait_for(std::chrono::milliseconds(s_.ack_timeout_ms)) != std::future_status::ready) {
      spdlog::error("reconcile: message {}: the report was not stored within {} ms", id,
                    s_.ack_timeout_ms);
      return false;
    }
    try {
      done.get();
      return true;
    } catch (const std::exception& e) {
      spdlog::error("reconcile: message {}: the report could not be stored: {}", id, e.what());
      return false;
    }
  }

  const reconcile_settings& s_;
  twilio::twilio_api& twilio_;
  status_intake& intake_;
  store& db_;
  reconcile_result& out_;
  std::set<std::string>& claimed_;
};

} // namespace

caf::expected<reconcile_result> reconcile_job::reconcile(store& db, millis now) {
  reconcile_result out;
  const millis stale_before = now - settings_.stale_after_ms;
  const millis unknown_before = now - settings_.unknown_after_ms;
  millis created_after = now - settings_.window_ms;
  const int limit = std::max(1, settings_.batch_limit);
  std::set<std::string> seen;         // rows already handled this run (they may still qualify)
  std::set<std::string> claimed_sids; // SIDs attached to an unknown send this run
  for (int batch = 0;; ++batch) {
    if (batch >= std::max(1, settings_.max_batches)) {
      out.capped = true;
      spdlog::info("reconcile: stopped after {} page(s); the rest waits for the next run", batch);
      break;
    }
    auto page = db.reconcile_candidates(created_after, stale_before, unknown_before, limit);
    if (!page) {
      if (batch == 0)
        return page.error();
      ++out.errors;
      spdlog::error("reconcile: cannot read candidates: {}", describe(page.error()));
      break;
    }
    std::vector<message_record> fresh;
    for (auto& row : *page)
      if (seen.insert(row.id).second)
        fresh.push_back(std::move(row));
    if (fresh.empty())
      break;
    const millis last_created = fresh.back().created_at;
    page_run{settings_, twilio_, intake_, db, out, claimed_sids}.run(fresh);
    if (static_cast<int>(page->size()) < limit)
      break;
    // Oldest first: go on from the last one read (rows handled above are skipped by id).
    created_after = std::max(created_after, last_created);
  }
  spdlog::info("reconcile: {}", out.counts_json().dump());
  return out;
}

caf::expected<job_result> reconcile_job::run(store& db, millis now) {
  auto r = reconcile(db, now);
  if (!r)
    return r.error();
  job_result out;
  out.counts = r->counts_json();
  out.examined = r->examined;
  out.updated = r->updated;
  out.errors = r->errors;
  return out;
}

} // namespace smsd

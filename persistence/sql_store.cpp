#include "persistence/sql_store.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <Poco/Data/DataException.h>
#include <nlohmann/json.hpp>

#include "common/time.hpp"

namespace smsd {

using Poco::Dynamic::Var;

namespace {

message_record read_message(const row_view& r) {
  message_record m;
  m.id = r.text("id");
  m.message_sid = r.opt_text("message_sid");
  m.account_sid = r.opt_text("account_sid");
  m.messaging_service_sid = r.opt_text("messaging_service_sid");
  m.to_phone = r.text("to_phone");
  m.from_phone = r.text("from_phone");
  m.body = r.opt_text("body");
  m.num_segments = static_cast<int>(r.int64("num_segments"));
  m.state.status = r.text("status");
  m.state.provider_status = r.opt_text("provider_status");
  m.state.status_rank = static_cast<int>(r.int64("status_rank"));
  m.state.error_code = r.opt_text("error_code");
  m.state.error_message = r.opt_text("error_message");
  m.state.sent_at = r.opt_int64("sent_at");
  m.state.delivered_at = r.opt_int64("delivered_at");
  m.state.raw_payload = r.opt_text("raw_payload");
  m.state.status_updated_at = r.int64("status_updated_at");
  m.created_at = r.int64("created_at");
  m.event_id = r.text("event_id");
  m.attendee_id = r.text("attendee_id");
  m.notification_type = r.text("notification_type");
  m.retry_of_id = r.opt_text("retry_of_id");
  m.send_state = r.text("send_state");
  return m;
}

attendee_record read_attendee(const row_view& r) {
  attendee_record a;
  a.id = r.text("id");
  a.event_id = r.text("event_id");
  a.first_name = r.text("first_name");
  a.last_name = r.opt_text("last_name");
  a.phone = r.opt_text("phone");
  a.created_at = r.int64("created_at");
  a.updated_at = r.int64("updated_at");
  return a;
}

event_record read_event(const row_view& r) {
  event_record e;
  e.id = r.text("id");
  e.name = r.text("name");
  e.date = r.int64("date");
  e.owner_id = r.text("owner_id");
  e.created_at = r.int64("created_at");
  e.updated_at = r.int64("updated_at");
  return e;
}

std::vector<attendee_counts> read_attendee_counts(const query_result& rs) {
  std::vector<attendee_counts> out;
  out.reserve(rs.rows());
  for (std::size_t i = 0; i < rs.rows(); ++i) {
    row_view r{rs, i};
    attendee_counts c;
    c.attendee_id = r.text("attendee_id");
    c.first_name = r.text("first_name");
    c.last_name = r.opt_text("last_name");
    c.phone = r.opt_text("phone");
    c.total = r.int64("total");
    c.delivered = r.int64("delivered");
    c.pending = r.int64("pending");
    c.failed = r.int64("failed");
    c.open_failed = r.int64("open_failed");
    out.push_back(std::move(c));
  }
  return out;
}

/// Adds n to the count of `key`, in the order keys first appear.
void add_count(std::vector<std::pair<std::string, std::int64_t>>& counts, const std::string& key,
               std::int64_t n) {
  auto i = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == key; });
  if (i == counts.end())
    counts.emplace_back(key, n);
  else
    i->second += n;
}

std::vector<status_event_record> read_events(const query_result& rs) {
  std::vector<status_event_record> out;
  out.reserve(rs.rows());
  for (std::size_t i = 0; i < rs.rows(); ++i) {
    row_view r{rs, i};
    status_event_record e;
    e.id = r.int64("id");
    e.message_id = r.opt_text("message_id");
    e.message_sid = r.opt_text("message_sid");
    e.provider_status = r.text("provider_status");
    e.error_code = r.opt_text("error_code");
    e.source = r.text("source");
    e.dedup_key = r.text("dedup_key");
    e.payload = r.text("payload");
    e.received_at = r.int64("received_at");
    e.applied = r.flag("applied");
    e.disposition = r.text("disposition");
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> read_texts(const query_result& rs, const char* column) {
  std::vector<std::string> out;
  out.reserve(rs.rows());
  for (std::size_t i = 0; i < rs.rows(); ++i)
    out.push_back(row_view{rs, i}.text(column));
  return out;
}

/// The SID as a parameter: an empty SID matches nothing.
Var sid_param(const std::string& sid) {
  return sid.empty() ? Var{} : to_var(sid);
}

std::vector<job_run_record> read_job_runs(const query_result& rs) {
  std::vector<job_run_record> out;
  out.reserve(rs.rows());
  for (std::size_t i = 0; i < rs.rows(); ++i) {
    row_view r{rs, i};
    job_run_record j;
    j.id = r.int64("id");
    j.job = r.text("job");
    j.tick = r.opt_int64("tick");
    j.started_at = r.int64("started_at");
    j.finished_at = r.opt_int64("finished_at");
    j.outcome = r.opt_text("outcome");
    j.counts = r.text("counts");
    out.push_back(std::move(j));
  }
  return out;
}

int latest_known(const dialect_sql& sql) {
  int latest = 0;
  for (const auto& m : sql.migrations)
    latest = std::max(latest, m.version);
  return latest;
}

} // namespace

std::vector<std::pair<std::size_t, std::size_t>> batch_segments(const std::vector<write_op>& ops) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::unordered_set<std::string> messages;
  std::unordered_set<std::int64_t> events;
  std::size_t begin = 0;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const auto& op = ops[i];
    bool clash = op.update && messages.count(op.update->message_id) > 0;
    for (const auto& r : op.resolutions)
      clash = clash || events.count(r.event_id) > 0;
    if (clash) {
      out.emplace_back(begin, i);
      begin = i;
      messages.clear();
      events.clear();
    }
    if (op.update)
      messages.insert(op.update->message_id);
    for (const auto& r : op.resolutions)
      events.insert(r.event_id);
  }
  out.emplace_back(begin, ops.size());
  return out;
}

// -- conversions ------------------------------------------------------------------------------

Var to_var(const std::string& v) {
  return Var{v};
}

Var to_var(const std::optional<std::string>& v) {
  return v ? Var{*v} : Var{};
}

Var to_var(std::int64_t v) {
  return Var{static_cast<Poco::Int64>(v)};
}

Var to_var(const std::optional<std::int64_t>& v) {
  return v ? to_var(*v) : Var{};
}

Var to_var(int v) {
  return Var{static_cast<Poco::Int32>(v)};
}

Var to_var(bool v) {
  return Var{static_cast<Poco::Int32>(v ? 1 : 0)};
}

std::size_t row_view::position(const char* column) const {
  auto i = rs_.find_column(column);
  if (i == rs_.columns())
    throw std::logic_error(std::string{"query result has no column "} + column);
  return i;
}

std::string row_view::text(const char* column) const {
  auto pos = position(column);
  return rs_.is_null(row_, pos) ? std::string{} : rs_.text(row_, pos);
}

std::optional<std::string> row_view::opt_text(const char* column) const {
  auto pos = position(column);
  if (rs_.is_null(row_, pos))
    return std::nullopt;
  return rs_.text(row_, pos);
}

std::int64_t row_view::int64(const char* column) const {
  auto pos = position(column);
  return rs_.is_null(row_, pos) ? 0 : rs_.int64(row_, pos);
}

std::optional<std::int64_t> row_view::opt_int64(const char* column) const {
  auto pos = position(column);
  if (rs_.is_null(row_, pos))
    return std::nullopt;
  return rs_.int64(row_, pos);
}

bool row_view::flag(const char* column) const {
  return int64(column) != 0;
}

// -- statements and sessions ---------------------------------------------------------------------

sql_store::~sql_store() = default;

Poco::Data::Session& sql_store::session() {
  if (!session_)
    throw Poco::Data::NotConnectedException("no database session");
  return *session_;
}

void sql_store::set_session(std::unique_ptr<Poco::Data::Session> s) {
  close_session();
  session_ = std::move(s);
}

void sql_store::close_session() {
  // Statements first: their destructors still use the session.
  statements_.clear();
  session_.reset();
  in_transaction_ = false;
}

poco_statement& sql_store::statement_for(const std::string& sql, std::size_t params) {
  auto i = statements_.find(&sql);
  if (i == statements_.end())
    i = statements_.emplace(&sql, std::make_unique<poco_statement>(session(), sql, params,
                                                                   rows_)).first;
  return *i->second;
}

void sql_store::discard_statement(const std::string& sql) {
  auto i = statements_.find(&sql);
  if (i == statements_.end())
    return;
  auto failed = std::move(i->second);
  statements_.erase(i);
  discard(std::move(failed));
}

std::size_t sql_store::execute(const std::string& sql, params values) {
  auto& stmt = statement_for(sql, values.size());
  try {
    return stmt.run(values);
  } catch (...) {
    discard_statement(sql);
    throw;
  }
}

std::unique_ptr<query_result> sql_store::query(const std::string& sql, params values) {
  auto& stmt = statement_for(sql, values.size());
  try {
    stmt.run(values);
    return stmt.rows();
  } catch (...) {
    discard_statement(sql);
    throw;
  }
}

std::unique_ptr<query_result> sql_store::query_keys(const std::string& list_sql,
                                                   const std::string& key_sql,
                                                   const std::vector<std::string>& keys) {
  return query(list_sql, {json_list(keys)});
}

void sql_store::execute_once(const std::string& sql) {
  auto stmt = std::make_unique<poco_statement>(session(), sql, 0);
  try {
    stmt->run({});
  } catch (...) {
    discard(std::move(stmt));
    throw;
  }
}

// -- transactions ------------------------------------------------------------------------------

void sql_store::begin_write() {
  begin_transaction();
  in_transaction_ = true;
}

void sql_store::begin_read() {
  if (sql_.begin_read.empty())
    return;
  execute(sql_.begin_read, {});
  in_transaction_ = true;
}

void sql_store::end_read() {
  if (!sql_.begin_read.empty())
    commit_transaction();
}

void sql_store::commit_transaction() {
  commit_now();
  in_transaction_ = false;
}

void sql_store::abandon_transaction() {
  if (!in_transaction_)
    return;
  in_transaction_ = false;
  try {
    rollback_now();
  } catch (...) {
    // The transaction is gone with the connection, or was rolled back by the database already.
  }
}

bool sql_store::write_send(const send_update& s) {
  std::optional<std::int64_t> segments;
  if (s.num_segments)
    segments = *s.num_segments;
  return execute(sql_.update_message_send,
                 {to_var(s.message_id), to_var(s.send_state), to_var(s.message_sid),
                  to_var(s.account_sid), to_var(s.messaging_service_sid), to_var(s.from_phone),
                  to_var(segments)})
         > 0;
}

// -- schema ------------------------------------------------------------------------------------

caf::expected<migration_status> sql_store::migrate() {
  return guarded("migrate", [&]() -> caf::expected<migration_status> {
    migration_status st;
    st.latest = latest_known(sql_);
    for (const auto& m : sql_.migrations) {
      begin_write();
      if (!sql_.lock_migrations.empty())
        execute(sql_.lock_migrations, {});
      execute(sql_.create_schema_migrations, {});
      auto applied = row_view{*query(sql_.latest_migration, {}), 0}.int64("version");
      if (applied < m.version) {
        // Run once in a lifetime: not worth a prepared statement.
        for (const auto& text : m.statements)
          execute_once(text);
        execute(sql_.record_migration, {to_var(m.version), to_var(now_millis())});
        applied = m.version;
      }
      commit_transaction();
      st.applied = static_cast<int>(applied);
    }
    return st;
  });
}

caf::expected<migration_status> sql_store::migrations() {
  return guarded("migrations", [&]() -> caf::expected<migration_status> {
    migration_status st;
    st.latest = latest_known(sql_);
    if (row_view{*query(sql_.schema_migrations_exists, {}), 0}.int64("n") != 0)
      st.applied = static_cast<int>(row_view{*query(sql_.latest_migration, {}), 0}.int64("version"));
    return st;
  });
}

caf::error sql_store::ping() {
  return guarded("ping", [&]() -> caf::error {
    query(sql_.ping, {});
    return {};
  });
}

// -- messages and status events -----------------------------------------------------------------

caf::error sql_store::insert_message(const message_record& m) {
  return guarded("insert message", [&]() -> caf::error {
    begin_write();
    if (query(sql_.attendee_of_event_locked, {to_var(m.event_id), to_var(m.attendee_id)})
          ->rows() == 0) {
      abandon_transaction();
      return make_error(errc::not_found, "no attendee " + m.attendee_id + " in event " + m.event_id);
    }
    const auto& s = m.state;
    execute(sql_.insert_message,
            {to_var(m.id), to_var(m.message_sid), to_var(m.account_sid),
             to_var(m.messaging_service_sid), to_var(m.to_phone), to_var(m.from_phone),
             to_var(m.body), to_var(m.num_segments), to_var(s.status), to_var(s.provider_status),
             to_var(s.status_rank), to_var(s.error_code), to_var(s.error_message),
             to_var(s.raw_payload), to_var(m.created_at), to_var(s.sent_at),
             to_var(s.delivered_at), to_var(s.status_updated_at), to_var(m.event_id),
             to_var(m.attendee_id), to_var(m.notification_type), to_var(m.retry_of_id),
             to_var(m.send_state)});
    commit_transaction();
    return {};
  });
}

std::optional<message_record> sql_store::load_message(const std::string& sql,
                                                       const std::string& key) {
  auto rs = query(sql, {to_var(key)});
  if (rs->rows() == 0)
    return std::nullopt;
  return read_message(row_view{*rs, 0});
}

caf::expected<std::optional<message_record>> sql_store::find_message_by_id(const std::string& id) {
  return guarded("find message", [&]() -> caf::expected<std::optional<message_record>> {
    return load_message(sql_.message_by_id, id);
  });
}

caf::expected<std::optional<message_record>>
sql_store::find_message_by_sid(const std::string& sid) {
  return guarded("find message", [&]() -> caf::expected<std::optional<message_record>> {
    return load_message(sql_.message_by_sid, sid);
  });
}

caf::expected<std::vector<std::string>>
sql_store::event_keys(const std::optional<std::string>& message_id, const std::string& sid) {
  return guarded("event keys", [&]() -> caf::expected<std::vector<std::string>> {
    if (message_id)
      return read_texts(*query(sql_.event_keys_by_message, {to_var(*message_id), sid_param(sid)}),
                        "dedup_key");
    return read_texts(*query(sql_.event_keys_by_sid, {sid_param(sid)}), "dedup_key");
  });
}

caf::expected<std::vector<status_event_record>>
sql_store::pending_events(const std::string& sid) {
  return guarded("pending events", [&]() -> caf::expected<std::vector<status_event_record>> {
    return read_events(*query(sql_.pending_events, {sid_param(sid)}));
  });
}

Var json_list(const std::vector<std::string>& values) {
  // PostgreSQL text must be valid UTF-8: a bad byte becomes U+FFFD, which matches no key.
  return to_var(nlohmann::json(values).dump(-1, ' ', false,
                                            nlohmann::json::error_handler_t::replace));
}

caf::expected<std::vector<loaded_state>>
sql_store::load_messages(const std::vector<message_key>& keys) {
  return guarded("load messages", [&]() -> caf::expected<std::vector<loaded_state>> {
    std::vector<loaded_state> out(keys.size());
    begin_read();
    std::vector<std::string> ids;
    std::vector<std::string> sids;
    for (const auto& k : keys)
      if (!k.value.empty())
        (k.kind == message_key::by_id ? ids : sids).push_back(k.value);
    std::unordered_map<std::string, message_record> by_id;
    std::unordered_map<std::string, std::string> id_of_sid;
    auto read_rows = [&](const std::string& list_sql, const std::string& key_sql,
                         const std::vector<std::string>& list) {
      if (list.empty())
        return;
      auto rs = query_keys(list_sql, key_sql, list);
      for (std::size_t i = 0; i < rs->rows(); ++i) {
        auto m = read_message(row_view{*rs, i});
        if (m.message_sid)
          id_of_sid.emplace(*m.message_sid, m.id);
        auto id = m.id;
        by_id.emplace(std::move(id), std::move(m));
      }
    };
    read_rows(sql_.messages_by_ids, sql_.message_by_id, ids);
    read_rows(sql_.messages_by_sids, sql_.message_by_sid, sids);

    // Each key's row, and the SID whose pending events it needs.
    std::vector<std::optional<std::string>> sid_of_key(keys.size());
    std::vector<std::string> pending_sids;
    std::unordered_set<std::string> asked;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto& k = keys[i];
      if (k.value.empty())
        continue;
      const message_record* row = nullptr;
      if (k.kind == message_key::by_id) {
        auto it = by_id.find(k.value);
        row = it == by_id.end() ? nullptr : &it->second;
      } else if (auto s = id_of_sid.find(k.value); s != id_of_sid.end()) {
        row = &by_id.at(s->second);
      }
      if (row)
        out[i].row = *row;
      sid_of_key[i] = row ? row->message_sid
                          : (k.kind == message_key::by_sid ? std::optional{k.value} : std::nullopt);
      if (sid_of_key[i] && asked.insert(*sid_of_key[i]).second)
        pending_sids.push_back(*sid_of_key[i]);
    }
    if (pending_sids.empty()) {
      end_read();
      return out;
    }
    std::unordered_map<std::string, std::vector<status_event_record>> pending;
    for (auto& e :
         read_events(*query_keys(sql_.pending_events_of_sids, sql_.pending_events, pending_sids)))
      if (e.message_sid)
        pending[*e.message_sid].push_back(std::move(e)); // still oldest first
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (sid_of_key[i])
        if (auto it = pending.find(*sid_of_key[i]); it != pending.end())
          out[i].pending = it->second;
    end_read();
    return out;
  });
}

caf::expected<std::vector<std::string>> sql_store::matchable_pending_sids(int limit) {
  return guarded("matchable pending sids", [&]() -> caf::expected<std::vector<std::string>> {
    return read_texts(*query(sql_.matchable_pending_sids, {to_var(std::max(limit, 0))}),
                      "message_sid");
  });
}

caf::expected<std::optional<message_timeline>>
sql_store::timeline(const std::string& id_or_sid) {
  return guarded("timeline", [&]() -> caf::expected<std::optional<message_timeline>> {
    auto m = load_message(sql_.message_by_id, id_or_sid);
    if (!m)
      m = load_message(sql_.message_by_sid, id_or_sid);
    if (!m)
      return std::optional<message_timeline>{};
    message_timeline t;
    t.message = std::move(*m);
    t.events = read_events(
      *query(sql_.timeline_events, {to_var(t.message.id), to_var(t.message.message_sid)}));
    return std::optional<message_timeline>{std::move(t)};
  });
}

// -- organizer reads ------------------------------------------------------------------------------

caf::expected<std::vector<message_entry>>
sql_store::attendee_messages(const std::string& event_id, const std::string& attendee_id) {
  return guarded("attendee messages", [&]() -> caf::expected<std::vector<message_entry>> {
    auto rs = query(sql_.attendee_messages, {to_var(event_id), to_var(attendee_id)});
    std::vector<message_entry> out;
    out.reserve(rs->rows());
    for (std::size_t i = 0; i < rs->rows(); ++i) {
      row_view r{*rs, i};
      out.push_back({read_message(r), r.opt_text("retried_by_id")});
    }
    return out;
  });
}

caf::expected<event_summary> sql_store::summarize_event(const std::string& event_id,
                                                        int failed_limit) {
  return guarded("summarize event", [&]() -> caf::expected<event_summary> {
    event_summary out;
    auto counts = query(sql_.summary_counts, {to_var(event_id)});
    for (std::size_t i = 0; i < counts->rows(); ++i) {
      row_view r{*counts, i};
      type_status_count c{r.text("notification_type"), r.text("status"), r.int64("n")};
      add_count(out.by_status, c.status, c.n);
      add_count(out.by_type, c.notification_type, c.n);
      out.by_type_and_status.push_back(std::move(c));
    }
    auto rs = query(sql_.summary_failed, {to_var(event_id), to_var(failed_limit)});
    for (std::size_t i = 0; i < rs->rows(); ++i) {
      row_view r{*rs, i};
      failed_message f;
      f.id = r.text("id");
      f.attendee_id = r.text("attendee_id");
      f.attendee_name = r.text("first_name");
      if (auto last = r.opt_text("last_name"); last && !last->empty())
        f.attendee_name += " " + *last;
      f.error_code = r.opt_text("error_code");
      f.created_at = r.int64("created_at");
      f.retried_by_id = r.opt_text("retried_by_id");
      out.failed.push_back(std::move(f));
    }
    return out;
  });
}

caf::expected<std::vector<attendee_counts>>
sql_store::attendee_counts_of_event(const std::string& event_id) {
  return guarded("attendee counts", [&]() -> caf::expected<std::vector<attendee_counts>> {
    return read_attendee_counts(*query(sql_.attendee_counts, {to_var(event_id)}));
  });
}

caf::expected<std::vector<attendee_counts>>
sql_store::attendee_counts_for(const std::string& event_id,
                               const std::vector<std::string>& attendee_ids) {
  if (attendee_ids.empty())
    return std::vector<attendee_counts>{};
  return guarded("attendee counts", [&]() -> caf::expected<std::vector<attendee_counts>> {
    return read_attendee_counts(
      *query(sql_.attendee_counts_for, {to_var(event_id), json_list(attendee_ids)}));
  });
}

caf::expected<std::vector<viewable_event>> sql_store::viewable_events(const std::string& user_id) {
  return guarded("viewable events", [&]() -> caf::expected<std::vector<viewable_event>> {
    auto rs = query(sql_.viewable_events, {to_var(user_id)});
    std::vector<viewable_event> out;
    out.reserve(rs->rows());
    for (std::size_t i = 0; i < rs->rows(); ++i) {
      row_view r{*rs, i};
      viewable_event v;
      v.event = read_event(r);
      v.role.owner = v.event.owner_id == user_id;
      v.role.can_view = r.flag("can_view");
      v.role.can_curate = r.flag("can_curate");
      out.push_back(std::move(v));
    }
    return out;
  });
}

caf::expected<std::vector<event_record>> sql_store::all_events() {
  return guarded("all events", [&]() -> caf::expected<std::vector<event_record>> {
    auto rs = query(sql_.all_events, {});
    std::vector<event_record> out;
    out.reserve(rs->rows());
    for (std::size_t i = 0; i < rs->rows(); ++i)
      out.push_back(read_event(row_view{*rs, i}));
    return out;
  });
}

// -- reconciliation ---------------------------------------------------------------------------------

caf::expected<std::vector<message_record>>
sql_store::reconcile_candidates(millis created_after, millis stale_before, millis unknown_before,
                                int limit) {
  return guarded("reconcile candidates", [&]() -> caf::expected<std::vector<message_record>> {
    auto rs = query(sql_.reconcile_candidates,
                    {to_var(static_cast<std::int64_t>(created_after)),
                     to_var(static_cast<std::int64_t>(stale_before)),
                     to_var(static_cast<std::int64_t>(unknown_before)), to_var(limit)});
    std::vector<message_record> out;
    out.reserve(rs->rows());
    for (std::size_t i = 0; i < rs->rows(); ++i)
      out.push_back(read_message(row_view{*rs, i}));
    return out;
  });
}

// -- idempotency keys ------------------------------------------------------------------------------

caf::expected<std::optional<std::int64_t>>
sql_store::start_job_run(const std::string& job, std::optional<millis> tick, millis started_at) {
  return guarded("start job run", [&]() -> caf::expected<std::optional<std::int64_t>> {
    auto rs = query(sql_.start_job_run, {to_var(job), to_var(tick), to_var(started_at)});
    if (rs->rows() == 0)
      return std::optional<std::int64_t>{};
    return std::optional<std::int64_t>{row_view{*rs, 0}.int64("id")};
  });
}

caf::error sql_store::finish_job_run(std::int64_t id, millis finished_at,
                                     const std::string& outcome, const std::string& counts_json) {
  return guarded("finish job run", [&]() -> caf::error {
    execute(sql_.finish_job_run,
            {to_var(id), to_var(finished_at), to_var(outcome), to_var(counts_json)});
    return caf::none;
  });
}

caf::expected<std::vector<job_run_record>> sql_store::last_job_runs() {
  return guarded("read job runs", [&]() -> caf::expected<std::vector<job_run_record>> {
    return read_job_runs(*query(sql_.last_job_runs, {}));
  });
}

caf::expected<std::vector<job_run_record>> sql_store::recent_job_runs(const std::string& job,
                                                                     int limit) {
  return guarded("read job runs", [&]() -> caf::expected<std::vector<job_run_record>> {
    return read_job_runs(*query(sql_.recent_job_runs, {to_var(job), to_var(limit)}));
  });
}

caf::expected<bool> sql_store::try_lock_job(const std::string& job) {
  return guarded("lock job", [&]() -> caf::expected<bool> {
    auto rs = query(sql_.try_job_lock, {to_var(job)});
    return rs->rows() == 1 && row_view{*rs, 0}.int64("locked") == 1;
  });
}

caf::error sql_store::unlock_job(const std::string& job) {
  if (sql_.unlock_job.empty())
    return caf::none;
  return guarded("unlock job", [&]() -> caf::error {
    query(sql_.unlock_job, {to_var(job)});
    return caf::none;
  });
}

caf::expected<std::int64_t> sql_store::delete_expired_status_events(millis cutoff, int limit) {
  return guarded("delete expired status events", [&]() -> caf::expected<std::int64_t> {
    begin_write();
    auto n = execute(sql_.delete_expired_status_events, {to_var(cutoff), to_var(limit)});
    commit_transaction();
    return static_cast<std::int64_t>(n);
  });
}

caf::expected<std::int64_t> sql_store::delete_expired_messages(millis cutoff, int limit) {
  return guarded("delete expired messages", [&]() -> caf::expected<std::int64_t> {
    begin_write();
    auto n = execute(sql_.delete_expired_messages, {to_var(cutoff), to_var(limit)});
    commit_transaction();
    return static_cast<std::int64_t>(n);
  });
}

caf::expected<std::optional<idempotency_record>>
sql_store::claim_idempotency_key(const std::string& scope, const std::string& key,
                                 const std::string& request_hash, millis now) {
  return guarded("claim idempotency key",
                 [&]() -> caf::expected<std::optional<idempotency_record>> {
    // Keys are kept for a day; older ones go as new ones come.
    constexpr millis keep_ms = 24LL * 3600 * 1000;
    execute(sql_.purge_idempotency_keys, {to_var(static_cast<std::int64_t>(now - keep_ms))});
    if (execute(sql_.claim_idempotency_key,
                {to_var(scope), to_var(key), to_var(request_hash), to_var(static_cast<std::int64_t>(now))})
        == 1)
      return std::optional<idempotency_record>{};
    auto rs = query(sql_.select_idempotency_key, {to_var(scope), to_var(key)});
    if (rs->rows() == 0) // released between our insert and our read: claim again
      return make_error(errc::unavailable, "idempotency key released concurrently; try again");
    row_view r{*rs, 0};
    idempotency_record rec;
    rec.request_hash = r.text("request_hash");
    if (auto st = r.opt_int64("status"))
      rec.status = static_cast<int>(*st);
    rec.response = r.opt_text("response");
    return std::optional<idempotency_record>{std::move(rec)};
  });
}

caf::error sql_store::finish_idempotency_key(const std::string& scope, const std::string& key,
                                             int status, const std::string& response) {
  return guarded("finish idempotency key", [&]() -> caf::error {
    execute(sql_.finish_idempotency_key,
            {to_var(scope), to_var(key), to_var(status), to_var(response)});
    return {};
  });
}

caf::error sql_store::release_idempotency_key(const std::string& scope, const std::string& key) {
  return guarded("release idempotency key", [&]() -> caf::error {
    execute(sql_.release_idempotency_key, {to_var(scope), to_var(key)});
    return {};
  });
}

// -- platform sync ------------------------------------------------------------------------------

caf::expected<upsert_outcome> sql_store::upsert_event(const event_record& e) {
  return guarded("upsert event", [&]() -> caf::expected<upsert_outcome> {
    auto now = now_millis();
    auto created_at = e.created_at != 0 ? e.created_at : now;
    auto updated_at = e.updated_at != 0 ? e.updated_at : now;
    auto update = [&] {
      return execute(sql_.update_event, {to_var(e.id), to_var(e.name), to_var(e.date),
                                         to_var(e.owner_id), to_var(updated_at)});
    };
    begin_write();
    auto outcome = upsert_outcome::updated;
    if (update() == 0) {
      if (execute(sql_.insert_event, {to_var(e.id), to_var(e.name), to_var(e.date),
                                      to_var(e.owner_id), to_var(created_at), to_var(updated_at)})
          == 1)
        outcome = upsert_outcome::created;
      else // inserted by a concurrent writer after our update: now it is there to update
        update();
    }
    commit_transaction();
    return outcome;
  });
}

caf::expected<bool> sql_store::delete_event(const std::string& id) {
  return guarded("delete event", [&]() -> caf::expected<bool> {
    begin_write();
    execute(sql_.delete_unlinked_events_of_event, {to_var(id)});
    auto n = execute(sql_.delete_event, {to_var(id)});
    commit_transaction();
    return n > 0;
  });
}

caf::expected<upsert_outcome> sql_store::upsert_attendee(const attendee_record& a) {
  return guarded("upsert attendee", [&]() -> caf::expected<upsert_outcome> {
    auto now = now_millis();
    auto created_at = a.created_at != 0 ? a.created_at : now;
    auto updated_at = a.updated_at != 0 ? a.updated_at : now;
    auto update = [&] {
      return execute(sql_.update_attendee, {to_var(a.id), to_var(a.event_id),
                                            to_var(a.first_name), to_var(a.last_name),
                                            to_var(a.phone), to_var(updated_at)});
    };
    auto owner = [&]() -> std::optional<std::string> {
      auto rs = query(sql_.attendee_event, {to_var(a.id)});
      if (rs->rows() == 0)
        return std::nullopt;
      return row_view{*rs, 0}.text("event_id");
    };
    auto conflict = [&](const std::string& other) {
      abandon_transaction();
      return make_error(errc::conflict,
                        "attendee " + a.id + " belongs to event " + other + ", not " + a.event_id);
    };
    begin_write();
    if (query(sql_.event_exists_locked, {to_var(a.event_id)})->rows() == 0) {
      abandon_transaction();
      return make_error(errc::not_found, "no event " + a.event_id);
    }
    if (update() > 0) {
      commit_transaction();
      return upsert_outcome::updated;
    }
    if (auto other = owner())
      return conflict(*other);
    if (execute(sql_.insert_attendee, {to_var(a.id), to_var(a.event_id), to_var(a.first_name),
                                       to_var(a.last_name), to_var(a.phone), to_var(created_at),
                                       to_var(updated_at)})
        == 1) {
      commit_transaction();
      return upsert_outcome::created;
    }
    // A concurrent writer inserted the same id first (PostgreSQL only; SQLite writers queue).
    if (update() == 0) {
      auto other = owner();
      return conflict(other ? *other : std::string{"(unknown)"});
    }
    commit_transaction();
    return upsert_outcome::updated;
  });
}

caf::expected<bool> sql_store::delete_attendee(const std::string& event_id,
                                                const std::string& attendee_id) {
  return guarded("delete attendee", [&]() -> caf::expected<bool> {
    begin_write();
    execute(sql_.delete_unlinked_events_of_attendee, {to_var(event_id), to_var(attendee_id)});
    auto n = execute(sql_.delete_attendee, {to_var(event_id), to_var(attendee_id)});
    commit_transaction();
    return n > 0;
  });
}

caf::expected<upsert_outcome> sql_store::upsert_organizer(const organizer_record& o) {
  return guarded("upsert organizer", [&]() -> caf::expected<upsert_outcome> {
    params values = {to_var(o.event_id), to_var(o.user_id), to_var(o.can_view),
                     to_var(o.can_curate)};
    begin_write();
    if (query(sql_.event_exists_locked, {to_var(o.event_id)})->rows() == 0) {
      abandon_transaction();
      return make_error(errc::not_found, "no event " + o.event_id);
    }
    auto outcome = upsert_outcome::updated;
    if (execute(sql_.update_organizer, values) == 0) {
      if (execute(sql_.insert_organizer, values) == 1)
        outcome = upsert_outcome::created;
      else // inserted by a concurrent writer after our update
        execute(sql_.update_organizer, values);
    }
    commit_transaction();
    return outcome;
  });
}

caf::expected<bool> sql_store::delete_organizer(const std::string& event_id,
                                                 const std::string& user_id) {
  return guarded("delete organizer", [&]() -> caf::expected<bool> {
    return execute(sql_.delete_organizer, {to_var(event_id), to_var(user_id)}) > 0;
  });
}

caf::expected<std::optional<event_role>> sql_store::role_on_event(const std::string& event_id,
                                                                  const std::string& user_id) {
  return guarded("role on event", [&]() -> caf::expected<std::optional<event_role>> {
    auto rs = query(sql_.role_on_event, {to_var(event_id), to_var(user_id)});
    if (rs->rows() == 0)
      return std::optional<event_role>{};
    row_view r{*rs, 0};
    event_role role;
    role.owner = r.text("owner_id") == user_id;
    role.can_view = r.flag("can_view");
    role.can_curate = r.flag("can_curate");
    return std::optional<event_role>{role};
  });
}

caf::expected<std::optional<event_record>> sql_store::find_event(const std::string& id) {
  return guarded("find event", [&]() -> caf::expected<std::optional<event_record>> {
    auto rs = query(sql_.select_event, {to_var(id)});
    if (rs->rows() == 0)
      return std::optional<event_record>{};
    return std::optional<event_record>{read_event(row_view{*rs, 0})};
  });
}

caf::expected<std::optional<attendee_record>>
sql_store::find_attendee(const std::string& event_id, const std::string& attendee_id) {
  return guarded("find attendee", [&]() -> caf::expected<std::optional<attendee_record>> {
    auto rs = query(sql_.select_attendee, {to_var(event_id), to_var(attendee_id)});
    if (rs->rows() == 0)
      return std::optional<attendee_record>{};
    return std::optional<attendee_record>{read_attendee(row_view{*rs, 0})};
  });
}

caf::expected<std::vector<attendee_record>>
sql_store::attendees_of_event(const std::string& event_id) {
  return guarded("attendees of event", [&]() -> caf::expected<std::vector<attendee_record>> {
    auto rs = query(sql_.select_attendees_of_event, {to_var(event_id)});
    std::vector<attendee_record> out;
    out.reserve(rs->rows());
    for (std::size_t i = 0; i < rs->rows(); ++i)
      out.push_back(read_attendee(row_view{*rs, i}));
    return out;
  });
}

} // namespace smsd

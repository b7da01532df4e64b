#include "persistence/postgres_store.hpp"

#include <algorithm>

#include <cstdlib>
#include <stdexcept>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace smsd {

using nlohmann::json;

namespace {

/// A failed libpq call, with the SQLSTATE the server sent ("" when there is none).
class pg_error : public std::runtime_error {
public:
  pg_error(const std::string& message, std::string sqlstate)
    : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}

  const std::string& sqlstate() const { return sqlstate_; }

private:
  std::string sqlstate_;
};

class pg_rows : public query_result {
public:
  explicit pg_rows(PGresult* res) : res_(res, &PQclear) {}

  std::size_t rows() const override { return static_cast<std::size_t>(PQntuples(res_.get())); }
  std::size_t columns() const override { return static_cast<std::size_t>(PQnfields(res_.get())); }
  const char* column_name(std::size_t col) const override {
    return PQfname(res_.get(), static_cast<int>(col));
  }
  bool is_null(std::size_t row, std::size_t col) const override {
    return PQgetisnull(res_.get(), static_cast<int>(row), static_cast<int>(col)) == 1;
  }
  std::string text(std::size_t row, std::size_t col) const override {
    auto r = static_cast<int>(row);
    auto c = static_cast<int>(col);
    return {PQgetvalue(res_.get(), r, c), static_cast<std::size_t>(PQgetlength(res_.get(), r, c))};
  }
  std::int64_t int64(std::size_t row, std::size_t col) const override {
    return std::strtoll(PQgetvalue(res_.get(), static_cast<int>(row), static_cast<int>(col)),
                        nullptr, 10);
  }

private:
  std::unique_ptr<PGresult, decltype(&PQclear)> res_;
};

/// Throws pg_error unless res is a success; takes ownership of res either way.
PGresult* checked(PGconn* conn, PGresult* res) {
  auto status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
    return res;
  std::string message = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state ? state : "";
  PQclear(res);
  while (!message.empty() && message.back() == '\n')
    message.pop_back();
  throw pg_error(message, sqlstate);
}

PGconn* connect(const std::string& url) {
  // Defaults first: what the URL says wins (expand_dbname parses the URL in place of dbname).
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"10", "smsd", url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = conn ? PQerrorMessage(conn) : "out of memory";
    PQfinish(conn);
    while (!message.empty() && message.back() == '\n')
      message.pop_back();
    throw pg_error(message, "08001");
  }
  // NOTICEs ("relation ... already exists, skipping") are not ours to print.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  PQclear(checked(conn, PQexec(conn, "SET synchronous_commit = on")));
  return conn;
}

bool transient(const std::string& state) {
  auto cls = state.substr(0, 2);
  return cls == "08"                                   // connection exception
         || cls == "53"                                // insufficient resources
         || state == "40001" || state == "40P01"       // serialization failure, deadlock
         || state == "55P03"                           // lock not available
         || state == "57014"                           // canceled (statement timeout)
         || state == "57P01" || state == "57P02" || state == "57P03"; // shutdown, starting
}

/// A JSON array of flat objects, written straight into one string: the batch statement's
/// parameters (json_to_recordset reads them). Strings are escaped by nlohmann/json unless they
/// are plain printable ASCII, which is most of them.
class json_rows {
public:
  void begin_row() {
    out_ += out_.size() > 1 ? ",{" : "{";
    first_field_ = true;
  }
  void end_row() { out_ += '}'; }

  void field(const char* name, const std::string& v) {
    key(name);
    append_string(v);
  }
  void field(const char* name, const std::optional<std::string>& v) {
    key(name);
    if (v)
      append_string(*v);
    else
      out_ += "null";
  }
  void field(const char* name, std::int64_t v) {
    key(name);
    out_ += std::to_string(v);
  }
  void field(const char* name, const std::optional<std::int64_t>& v) {
    key(name);
    out_ += v ? std::to_string(*v) : std::string{"null"};
  }

  /// The array as a statement parameter.
  Poco::Dynamic::Var param() const { return to_var(out_ + "]"); }

private:
  void key(const char* name) {
    if (!first_field_)
      out_ += ',';
    first_field_ = false;
    out_ += '"';
    out_ += name;
    out_ += "\":";
  }

  void append_string(const std::string& v) {
    const bool plain = std::all_of(v.begin(), v.end(), [](char c) {
      return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    });
    if (plain) {
      out_ += '"';
      out_ += v;
      out_ += '"';
      return;
    }
    // PostgreSQL text must be valid UTF-8, so bad bytes are replaced rather than failing the
    // whole batch.
    out_ += json(v).dump(-1, ' ', false, json::error_handler_t::replace);
  }

  std::string out_ = "[";
  bool first_field_ = true;
};

/// [begin, end) ranges of ops in which no two updates target the same message and no two
/// resolutions the same event, so that one commit_batch statement can write each range.
std::vector<std::pair<std::size_t, std::size_t>> segments(const std::vector<write_op>& ops) {
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

} // namespace

postgres_store::postgres_store(std::string url)
  : sql_store(postgres_sql()), url_(std::move(url)), conn_(connect(url_), &PQfinish) {
}

// -- driver primitives --------------------------------------------------------------------------

const std::string& postgres_store::prepared_name(const std::string& sql,
                                                 std::size_t param_count) {
  auto i = statements_.find(&sql);
  if (i != statements_.end())
    return i->second;
  auto name = "smsd_" + std::to_string(++next_statement_);
  PQclear(checked(conn_.get(), PQprepare(conn_.get(), name.c_str(), sql.c_str(),
                                         static_cast<int>(param_count), nullptr)));
  return statements_.emplace(&sql, std::move(name)).first->second;
}

postgres_store::result_ptr postgres_store::run(const std::string& sql, params values) {
  const auto& name = prepared_name(sql, values.size());
  std::vector<std::string> texts;
  texts.reserve(values.size()); // no reallocation: the pointers below stay valid
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (const auto& v : values) {
    if (v.isEmpty()) {
      ptrs.push_back(nullptr);
    } else {
      texts.push_back(v.convert<std::string>());
      ptrs.push_back(texts.back().c_str());
    }
  }
  auto* res = PQexecPrepared(conn_.get(), name.c_str(), static_cast<int>(ptrs.size()),
                             ptrs.data(), nullptr, nullptr, 0);
  return {checked(conn_.get(), res), &PQclear};
}

std::size_t postgres_store::execute(const std::string& sql, params values) {
  auto res = run(sql, values);
  if (PQresultStatus(res.get()) == PGRES_TUPLES_OK)
    return static_cast<std::size_t>(PQntuples(res.get()));
  return std::strtoull(PQcmdTuples(res.get()), nullptr, 10);
}

std::unique_ptr<query_result> postgres_store::query(const std::string& sql, params values) {
  return std::make_unique<pg_rows>(run(sql, values).release());
}

void postgres_store::execute_once(const std::string& sql) {
  PQclear(checked(conn_.get(), PQexec(conn_.get(), sql.c_str())));
}

bool postgres_store::connection_lost() const {
  return !conn_ || PQstatus(conn_.get()) != CONNECTION_OK;
}

void postgres_store::reconnect_if_lost() {
  if (!connection_lost())
    return;
  // Prepared statements and any open transaction died with the old connection.
  statements_.clear();
  transaction_lost();
  conn_.reset(connect(url_));
}

caf::error postgres_store::translate(const std::exception& e, const std::string& what) {
  const auto* pe = dynamic_cast<const pg_error*>(&e);
  auto state = pe ? pe->sqlstate() : std::string{};
  auto text = what + ": " + e.what();
  if (!state.empty())
    text += " (SQLSTATE " + state + ")";
  if (transient(state) || connection_lost())
    return make_error(errc::unavailable, std::move(text));
  if (state == "23505" || state == "23503")
    return make_error(errc::conflict, std::move(text));
  if (state == "23502" || state == "23514" || state.rfind("22", 0) == 0)
    return make_error(errc::invalid_argument, std::move(text));
  return make_error(errc::database, std::move(text));
}

// -- group commit -------------------------------------------------------------------------------

caf::expected<std::vector<write_result>>
postgres_store::commit(const std::vector<write_op>& ops) {
  return guarded("commit", [&]() -> caf::expected<std::vector<write_result>> {
    // A message deleted by another session after our statement took its snapshot fails the
    // status events' foreign key; run again, the new snapshot no longer sees the message.
    for (int attempt = 1;; ++attempt) {
      try {
        return write_batch(ops);
      } catch (const pg_error& e) {
        if (e.sqlstate() != "23503" || attempt == 3)
          throw;
        abandon_transaction();
      }
    }
  });
}

std::vector<write_result> postgres_store::write_batch(const std::vector<write_op>& ops) {
  std::vector<write_result> out(ops.size());
  if (ops.empty())
    return out;
  auto parts = segments(ops);
  // Send updates are rare (one per message sent): a statement each, before the batch statement.
  bool sends = std::any_of(ops.begin(), ops.end(), [](const write_op& op) { return op.send.has_value(); });
  // One statement is atomic on its own; several need a transaction around them.
  bool transaction = parts.size() > 1 || sends;
  if (transaction)
    begin_write();
  for (std::size_t i = 0; i < ops.size(); ++i)
    if (ops[i].send && !write_send(*ops[i].send))
      out[i].message_exists = false;
  for (auto [begin, end] : parts) {
    json_rows updates;
    json_rows inserts;
    json_rows resolutions;
    std::int64_t ord = 0;
    for (auto i = begin; i < end; ++i) {
      const auto& op = ops[i];
      const auto op_index = static_cast<std::int64_t>(i);
      if (op.update) {
        const auto& u = *op.update;
        const auto& st = u.state;
        updates.begin_row();
        updates.field("op", op_index);
        updates.field("id", u.message_id);
        updates.field("message_sid", u.message_sid);
        updates.field("status", st.status);
        updates.field("provider_status", st.provider_status);
        updates.field("status_rank", std::int64_t{st.status_rank});
        updates.field("error_code", st.error_code);
        updates.field("error_message", st.error_message);
        updates.field("sent_at", st.sent_at);
        updates.field("delivered_at", st.delivered_at);
        updates.field("raw_payload", st.raw_payload);
        updates.field("status_updated_at", st.status_updated_at);
        updates.end_row();
      }
      for (const auto& e : op.inserts) {
        inserts.begin_row();
        inserts.field("ord", ord++);
        inserts.field("op", op_index);
        inserts.field("message_id", e.message_id);
        inserts.field("message_sid", e.message_sid);
        inserts.field("provider_status", e.provider_status);
        inserts.field("error_code", e.error_code);
        inserts.field("source", e.source);
        inserts.field("dedup_key", e.dedup_key);
        inserts.field("payload", e.payload);
        inserts.field("received_at", e.received_at);
        inserts.field("applied", std::int64_t{e.applied ? 1 : 0});
        inserts.field("disposition", e.disposition);
        inserts.end_row();
      }
      for (const auto& r : op.resolutions) {
        resolutions.begin_row();
        resolutions.field("event_id", r.event_id);
        resolutions.field("message_id", r.message_id);
        resolutions.field("applied", std::int64_t{r.applied ? 1 : 0});
        resolutions.field("disposition", r.disposition);
        resolutions.end_row();
      }
    }
    auto rs = query(sql_.commit_batch, {updates.param(), inserts.param(), resolutions.param()});
    for (std::size_t row = 0; row < rs->rows(); ++row) {
      row_view r{*rs, row};
      auto& result = out.at(static_cast<std::size_t>(r.int64("op")));
      result.updated = r.flag("updated");
      result.message_exists = r.flag("message_exists");
    }
  }
  if (transaction)
    commit_transaction();
  return out;
}

caf::expected<std::unique_ptr<store>> open_postgres_store(const std::string& url) {
  char* parse_error = nullptr;
  if (auto* options = PQconninfoParse(url.c_str(), &parse_error)) {
    PQconninfoFree(options);
  } else {
    std::string why = parse_error ? parse_error : "out of memory";
    PQfreemem(parse_error);
    return make_error(errc::invalid_argument, "postgresql: bad database URL: " + why);
  }
  try {
    return std::unique_ptr<store>{new postgres_store(url)};
  } catch (const std::exception& e) {
    return make_error(errc::unavailable, std::string{"postgresql: cannot connect: "} + e.what());
  }
}

} // namespace smsd

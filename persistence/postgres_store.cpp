#include "persistence/postgres_store.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <Poco/Data/DataException.h>
#include <Poco/Data/PostgreSQL/PostgreSQLException.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>

#include "common/json_text.hpp"

namespace smsd {

namespace {

template <class T>
bool is(const std::exception& e) {
  return dynamic_cast<const T*>(&e) != nullptr;
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

/// A libpq password file holding one password, in a folder of its own that only this user can
/// read; removed with the object. libpq reads it while connecting.
class password_file {
public:
  explicit password_file(const std::string& password) {
    auto templ = (std::filesystem::temp_directory_path() / "smsd-pgpass-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr)
      throw Poco::Data::ConnectionFailedException("cannot create a folder for a password file");
    dir_ = templ;
    path_ = dir_ + "/pgpass";
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool written = false;
    if (fd >= 0) {
      auto line = passfile_line(password);
      written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
      written = ::close(fd) == 0 && written;
    }
    if (!written) {
      remove();
      throw Poco::Data::ConnectionFailedException("cannot write a password file");
    }
  }
  ~password_file() { remove(); }
  password_file(const password_file&) = delete;
  password_file& operator=(const password_file&) = delete;

  const std::string& path() const { return path_; }

private:
  void remove() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
  std::string path_;
};

/// A JSON array of flat objects, written straight into one string: the batch statement's
/// parameters (json_to_recordset reads them), strings written by append_json_string.
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
  Poco::Dynamic::Var param() {
    out_ += ']';
    return to_var(out_);
  }

private:
  void key(const char* name) {
    if (!first_field_)
      out_ += ',';
    first_field_ = false;
    out_ += '"';
    out_ += name;
    out_ += "\":";
  }

  // PostgreSQL text must be valid UTF-8, so bad bytes are replaced rather than failing the
  // whole batch.
  void append_string(const std::string& v) { append_json_string(out_, v); }

  std::string out_ = "[";
  bool first_field_ = true;
};

} // namespace

// -- sessions -------------------------------------------------------------------------------------

void run_postgres_once(Poco::Data::Session& session, const std::string& sql) {
  auto stmt = std::make_unique<poco_statement>(session, sql, 0);
  try {
    stmt->run({});
  } catch (...) {
    leak_statement(std::move(stmt));
    throw;
  }
}

std::unique_ptr<Poco::Data::Session> open_postgres_session(const postgres_connection& c) {
  init_poco_data();
  auto conninfo = c.conninfo;
  std::optional<password_file> file;
  if (c.password_for_file) {
    file.emplace(*c.password_for_file);
    if (file->path().find(' ') != std::string::npos)
      throw Poco::Data::ConnectionFailedException("the temporary folder's path holds a space");
    conninfo += " passfile=" + quote_conninfo_value(file->path());
  }
  // Made directly rather than through Poco's SessionFactory: the test helpers drop their
  // databases during static destruction, when the factory may be gone. A failed connect throws
  // here and leaks its PGconn inside Poco (pocoproject/poco#4231).
  auto session = std::make_unique<Poco::Data::Session>(
    Poco::AutoPtr<Poco::Data::SessionImpl>{new Poco::Data::PostgreSQL::SessionImpl(conninfo, 10)});
  run_postgres_once(*session, "SET synchronous_commit = on");
  // NOTICEs ("relation ... already exists, skipping") and WARNINGs are not ours to print, and
  // Poco leaves libpq's default notice processor (stderr) in place.
  run_postgres_once(*session, "SET client_min_messages = error");
  return session;
}

std::string postgres_sqlstate(const std::exception& e) {
  // StatementExecutor::execute: "<server message>\n Severity: ERROR State: 23505 Detail: ...".
  // The server message may quote data, so look after its final newline first.
  auto text = error_text(e);
  auto at = text.find("\n Severity: ");
  if (at == std::string::npos)
    at = text.find(" Severity: ");
  if (at == std::string::npos)
    return {};
  auto state = text.find(" State: ", at);
  if (state == std::string::npos || state + 13 > text.size())
    return {};
  auto code = text.substr(state + 8, 5);
  bool valid = std::all_of(code.begin(), code.end(), [](unsigned char c) {
    return std::isdigit(c) || std::isupper(c);
  });
  return valid ? code : std::string{};
}

postgres_store::postgres_store(postgres_connection connection)
  : sql_store(postgres_sql(), rows_mode::own_text), connection_(std::move(connection)) {
  set_session(open_postgres_session(connection_));
}

postgres_store::~postgres_store() = default;

void postgres_store::discard(std::unique_ptr<poco_statement> s) {
  leak_statement(std::move(s));
}

void postgres_store::reconnect_if_lost() {
  if (has_session() && !reopen_ && session().isConnected())
    return;
  // The statements still kept never threw (those were leaked at once), so they hold no freed
  // result: their destructors only skip DEALLOCATE on the dead connection and clear their last
  // result. Poco then drops the session without PQfinish when the connection is lost
  // (SessionHandle::disconnect only finishes a live one): that PGconn is leaked.
  close_session();
  transaction_lost();
  reopen_ = false;
  auto now = std::chrono::steady_clock::now();
  if (now < next_connect_)
    throw Poco::Data::ConnectionFailedException("not reconnecting yet: the last attempt failed");
  try {
    set_session(open_postgres_session(connection_));
    if (key_reads_only_)
      run_postgres_once(session(), "SET enable_seqscan = off");
  } catch (...) {
    next_connect_ = now + std::chrono::seconds(1);
    throw;
  }
}

void postgres_store::reads_by_key_only() {
  key_reads_only_ = true;
  run_postgres_once(session(), "SET enable_seqscan = off");
}

void postgres_store::begin_transaction() {
  auto& s = session();
  // Poco's flag outlives a failed COMMIT (SessionHandle::commit): begin() would throw.
  if (s.isTransaction())
    s.rollback();
  s.begin();
}

void postgres_store::commit_now() {
  // A failed COMMIT leaves Poco's transaction flag set: guarded() then rolls back, which clears
  // it, or opens a new session when even that fails.
  session().commit();
}

void postgres_store::rollback_now() {
  try {
    session().rollback();
  } catch (...) {
    reopen_ = true;
    throw;
  }
}

std::string postgres_store::redacted(const std::exception& e) const {
  auto text = error_text(e);
  for (auto at = text.find(connection_.conninfo); at != std::string::npos && !connection_.conninfo.empty();
       at = text.find(connection_.conninfo, at))
    text.replace(at, connection_.conninfo.size(), "(connection string)");
  return text;
}

caf::error postgres_store::translate(const std::exception& e, const std::string& what) {
  auto state = postgres_sqlstate(e);
  auto text = what + ": " + redacted(e);
  if (!state.empty())
    text += " (SQLSTATE " + state + ")";
  bool lost = !has_session() || !session().isConnected();
  if (transient(state) || lost || is<Poco::Data::ConnectionFailedException>(e)
      || is<Poco::Data::NotConnectedException>(e)
      || is<Poco::Data::PostgreSQL::ConnectionException>(e))
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
      } catch (const std::exception& e) {
        if (postgres_sqlstate(e) != "23503" || attempt == 3)
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
  auto parts = batch_segments(ops);
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
  auto connection = postgres_connection_of(url);
  if (!connection)
    return connection.error();
  auto conninfo = connection->conninfo;
  try {
    return std::unique_ptr<store>{new postgres_store(std::move(*connection))};
  } catch (const std::exception& e) {
    auto text = error_text(e);
    if (auto at = text.find(conninfo); at != std::string::npos)
      text.replace(at, conninfo.size(), "(connection string)");
    return make_error(errc::unavailable, "postgresql: cannot connect: " + text);
  }
}

} // namespace smsd

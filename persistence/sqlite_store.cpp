#include "persistence/sqlite_store.hpp"

#include <filesystem>
#include <system_error>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <Poco/Data/DataException.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>

namespace smsd {

using Poco::Dynamic::Var;

namespace {

template <class T>
bool is(const std::exception& e) {
  return dynamic_cast<const T*>(&e) != nullptr;
}

/// A batch whose guard results cannot be told from the rows after it: run it again, reading the
/// stored state first.
struct guard_unclear : std::exception {
  const char* what() const noexcept override { return "status guard results unclear"; }
};

/// update_message_guarded's WHERE clause (sql_sqlite.cpp), which decides: whether it lets an
/// update with `rank` through a row holding `stored_status` at `stored_rank`.
bool guard_passes(std::int64_t stored_rank, const std::string& stored_status, int rank) {
  return stored_rank < rank && (rank < 5 || stored_status == "delivered");
}

} // namespace

sqlite_store::sqlite_store(std::unique_ptr<Poco::Data::Session> session)
  : sql_store(sqlite_sql(), rows_mode::learn_then_own) {
  set_session(std::move(session));
}

sqlite_store::~sqlite_store() = default;

void sqlite_store::discard(std::unique_ptr<poco_statement> s) {
  // SQLite statements may be destroyed after an error: the next use prepares a new one.
  s.reset();
}

caf::error sqlite_store::translate(const std::exception& e, const std::string& what) {
  namespace sq = Poco::Data::SQLite;
  auto text = what + ": " + error_text(e);
  // BUSY (past the busy timeout), LOCKED, IOERR, CANTOPEN: worth retrying.
  if (is<sq::DBLockedException>(e) || is<sq::TableLockedException>(e)
      || is<sq::IOErrorException>(e) || is<sq::CantOpenDBFileException>(e)
      || is<Poco::Data::ConnectionFailedException>(e))
    return make_error(errc::unavailable, std::move(text));
  if (is<sq::ConstraintViolationException>(e)) {
    // Poco reports the primary result code only; SQLite's message names the constraint kind
    // (a primary key violation reads "UNIQUE constraint failed" too).
    if (text.find("UNIQUE constraint failed") != std::string::npos
        || text.find("FOREIGN KEY constraint failed") != std::string::npos)
      return make_error(errc::conflict, std::move(text));
    return make_error(errc::invalid_argument, std::move(text));
  }
  return make_error(errc::database, std::move(text));
}

std::unique_ptr<query_result> sqlite_store::query_keys(const std::string&,
                                                      const std::string& key_sql,
                                                      const std::vector<std::string>& keys) {
  auto& slot = per_key_[&key_sql];
  auto& stmt = batch(slot, key_sql, 1);
  stmt.clear_rows();
  for (const auto& k : keys)
    stmt.add_row({ref(k)});
  stmt.run();
  return stmt.rows();
}

// -- group commit -------------------------------------------------------------------------------

poco_batch_statement& sqlite_store::batch(std::unique_ptr<poco_batch_statement>& slot,
                                          const std::string& sql, std::size_t params) {
  if (!slot)
    slot = std::make_unique<poco_batch_statement>(session(), sql, params);
  return *slot;
}

caf::expected<wal_frames> sqlite_store::checkpoint_wal() {
  return guarded("checkpoint", [&]() -> caf::expected<wal_frames> {
    // One row: busy (1 if a RESTART or TRUNCATE could not finish; PASSIVE never waits), the
    // frames in the WAL, and those now in the database file (-1, -1 outside WAL mode).
    int busy = 0;
    Poco::Int64 log = 0;
    Poco::Int64 done = 0;
    session() << "PRAGMA wal_checkpoint(PASSIVE)", Poco::Data::Keywords::into(busy),
      Poco::Data::Keywords::into(log), Poco::Data::Keywords::into(done), Poco::Data::Keywords::now;
    return wal_frames{log, done};
  });
}

caf::expected<std::vector<write_result>> sqlite_store::commit(const std::vector<write_op>& ops) {
  return guarded("commit", [&]() -> caf::expected<std::vector<write_result>> {
    try {
      return write_batch(ops, false);
    } catch (const guard_unclear&) {
      abandon_transaction();
      return write_batch(ops, true);
    }
  });
}

std::vector<write_result> sqlite_store::write_batch(const std::vector<write_op>& ops,
                                                   bool read_first) {
  std::vector<write_result> out(ops.size());
  if (ops.empty())
    return out;
  auto& states = batch(guard_states_, sql_.message_guard_state, 1);
  auto& updates = batch(updates_, sql_.update_message_guarded, 11);
  auto& inserts = batch(inserts_, sql_.insert_status_event, 11);
  auto& resolutions = batch(resolutions_, sql_.resolve_status_event, 4);
  for (auto* b : {&states, &updates, &inserts, &resolutions})
    b->clear_rows(); // what a failed commit may have left
  begin_write();
  // Send updates are rare (one per message sent): a statement each, first, as on PostgreSQL.
  for (std::size_t i = 0; i < ops.size(); ++i)
    if (ops[i].send && !write_send(*ops[i].send))
      out[i].message_exists = false;
  // The stored state of the segment's messages (no other writer runs inside BEGIN IMMEDIATE);
  // calls f(op, status, rank, status_updated_at) for each message that exists.
  auto read_states = [&](std::size_t begin, std::size_t end, auto&& f) {
    std::unordered_map<std::string_view, std::size_t> op_of;
    for (auto i = begin; i < end; ++i)
      if (const auto& u = ops[i].update) {
        states.add_row({ref(u->message_id)});
        op_of.emplace(u->message_id, i);
      }
    if (states.run() == 0)
      return;
    auto rs = states.rows();
    for (std::size_t row = 0; row < rs->rows(); ++row) {
      row_view r{*rs, row};
      f(op_of.at(r.text("id")), r.text("status"), r.int64("status_rank"),
        r.int64("status_updated_at"));
    }
  };
  // In a segment no message is updated twice and no event resolved twice, so all its updates,
  // then all its inserts, then all its resolutions write what the ops one by one would.
  std::vector<bool> refused(ops.size(), false);
  static const std::string superseded_text{disposition::superseded};
  for (auto [begin, end] : batch_segments(ops)) {
    std::size_t expected = 0;
    if (read_first) {
      for (auto i = begin; i < end; ++i)
        if (ops[i].update)
          out[i].message_exists = false; // until its row is found
      read_states(begin, end, [&](std::size_t i, const std::string& status, std::int64_t rank,
                                  std::int64_t) {
        out[i].message_exists = true;
        out[i].updated = guard_passes(rank, status, ops[i].update->state.status_rank);
        expected += out[i].updated ? 1 : 0;
      });
    }
    std::size_t count = 0;
    for (auto i = begin; i < end; ++i)
      if (const auto& u = ops[i].update) {
        const auto& s = u->state;
        updates.add_row({ref(u->message_id), ref(u->message_sid), ref(s.status),
                         ref(s.provider_status), ref(s.status_rank), ref(s.error_code),
                         ref(s.error_message), ref(s.sent_at), ref(s.delivered_at),
                         ref(s.raw_payload), ref(s.status_updated_at)});
        ++count;
      }
    // The SQL guard decides what is written; its row count tells how many it let through.
    const auto changed = updates.run();
    if (read_first) {
      if (changed != expected)
        throw std::logic_error("the status guard changed " + std::to_string(changed)
                               + " messages, predicted " + std::to_string(expected));
    } else if (changed == count) {
      for (auto i = begin; i < end; ++i)
        if (ops[i].update)
          out[i].updated = true;
    } else {
      // Some were refused. Each row the update changed now holds its status, rank and time; a
      // refused one only if it held them already (the same update applied before). Unless
      // those match exactly as many rows as it changed, do it all again reading first.
      std::size_t matching = 0;
      for (auto i = begin; i < end; ++i)
        if (ops[i].update)
          out[i].message_exists = false;
      read_states(begin, end, [&](std::size_t i, const std::string& status, std::int64_t rank,
                                  std::int64_t at) {
        const auto& s = ops[i].update->state;
        out[i].message_exists = true;
        out[i].updated = rank == s.status_rank && status == s.status && at == s.status_updated_at;
        matching += out[i].updated ? 1 : 0;
      });
      if (matching != changed)
        throw guard_unclear{};
    }
    for (auto i = begin; i < end; ++i)
      if (ops[i].update)
        refused[i] = !out[i].updated;
    for (auto i = begin; i < end; ++i)
      for (const auto& e : ops[i].inserts) {
        bool superseded = refused[i] && e.applied;
        // No message is deleted inside this transaction: one the op's update found still exists.
        bool exists = ops[i].update && (out[i].updated || out[i].message_exists)
                      && e.message_id == ops[i].update->message_id;
        inserts.add_row({ref(e.message_id), ref(e.message_sid), ref(e.provider_status),
                         ref(e.error_code), ref(e.source), ref(e.dedup_key), ref(e.payload),
                         ref(e.received_at), ref(superseded ? false : e.applied),
                         superseded ? ref(superseded_text) : ref(e.disposition), ref(exists)});
      }
    inserts.run();
    for (auto i = begin; i < end; ++i)
      for (const auto& r : ops[i].resolutions)
        resolutions.add_row({ref(r.event_id), ref(r.message_id), ref(r.applied),
                             ref(r.disposition)});
    resolutions.run();
  }
  commit_transaction();
  return out;
}

// -- opening ------------------------------------------------------------------------------------

caf::expected<std::unique_ptr<store>> open_sqlite_store(const std::string& path) {
  if (path.empty())
    return make_error(errc::invalid_argument, "sqlite: the database URL names no file");
  auto folder = std::filesystem::path{path}.parent_path();
  if (path != ":memory:" && !folder.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (ec)
      return make_error(errc::unavailable,
                        "sqlite: cannot create folder " + folder.string() + ": " + ec.message());
  }
  init_poco_data();
  try {
    // Login timeout 0: Poco retries a failed open until that timeout has passed, and sets it as
    // the busy timeout, which the PRAGMA below then sets.
    auto session =
      std::make_unique<Poco::Data::Session>(Poco::Data::SQLite::Connector::KEY, path, 0);
    // busy_timeout first: switching to WAL needs a lock another connection may hold.
    // wal_autocheckpoint: the connection that commits checkpoints once the WAL holds that many
    // pages. smsd's WAL checkpointer does it from a thread of its own long before (store.hpp,
    // checkpoint_wal); this is the fallback, and what a store without one (the CLI) relies on.
    for (const char* pragma :
         {"PRAGMA busy_timeout = 5000", "PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL",
          "PRAGMA foreign_keys = ON", "PRAGMA wal_autocheckpoint = 10000"})
      *session << pragma, Poco::Data::Keywords::now;
    return std::unique_ptr<store>{new sqlite_store(std::move(session))};
  } catch (const std::exception& e) {
    return make_error(errc::unavailable, "sqlite: cannot open " + path + ": " + error_text(e));
  }
}

} // namespace smsd

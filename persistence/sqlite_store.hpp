#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include <caf/expected.hpp>

#include "persistence/sql_store.hpp"

namespace smsd {

/// The store on one SQLite session (Poco::Data::SQLite; WAL, synchronous=FULL, foreign keys,
/// busy timeout).
class sqlite_store : public sql_store {
public:
  /// Takes an open, configured session.
  explicit sqlite_store(std::unique_ptr<Poco::Data::Session> session);
  ~sqlite_store() override;

  const char* dialect() const override { return "sqlite"; }

  /// One BEGIN IMMEDIATE transaction with a few statements per batch, each run once per row of
  /// the batch (poco_batch_statement): Poco prepares a SQLite statement again on every
  /// execution, so one execution per row would prepare it once per row.
  caf::expected<std::vector<write_result>> commit(const std::vector<write_op>& ops) override;

  caf::expected<wal_frames> checkpoint_wal() override;

protected:
  caf::error translate(const std::exception& e, const std::string& what) override;
  void discard(std::unique_ptr<poco_statement> s) override;
  /// `key_sql` run once per key in one execution: no JSON, and a statement with fewer tables
  /// costs SQLite less to prepare, which Poco does at every execution.
  std::unique_ptr<query_result> query_keys(const std::string& list_sql, const std::string& key_sql,
                                           const std::vector<std::string>& keys) override;

private:
  /// The batch in one transaction. Without `read_first`, the guard's results come from the
  /// update's row count (all let through: the usual case) or else from the rows after it;
  /// throws guard_unclear when those cannot tell (an update identical to the stored state).
  /// With it, from the stored state read before the update.
  std::vector<write_result> write_batch(const std::vector<write_op>& ops, bool read_first);
  /// The batch statement for `sql`, kept across commits.
  poco_batch_statement& batch(std::unique_ptr<poco_batch_statement>& slot, const std::string& sql,
                              std::size_t params);

  /// Keyed by the address of the SQL text in sqlite_sql().
  std::unordered_map<const std::string*, std::unique_ptr<poco_batch_statement>> per_key_;
  std::unique_ptr<poco_batch_statement> guard_states_;
  std::unique_ptr<poco_batch_statement> updates_;
  std::unique_ptr<poco_batch_statement> inserts_;
  std::unique_ptr<poco_batch_statement> resolutions_;
};

/// Opens (creating the file and its folder if needed) and configures a SQLite database.
caf::expected<std::unique_ptr<store>> open_sqlite_store(const std::string& path);

} // namespace smsd

// Slashing-protection history in PostgreSQL (libpq), shared by any number of signer instances: the same Transaction
// primitives and rules as SQLite, with the decision taken inside the transaction that records it.
//
// - Locks: a write transaction locks its validators with pg_advisory_xact_lock, in ascending key order (no deadlock
//   between instances), before it reads anything of theirs; every later statement (READ COMMITTED) sees whatever
//   another instance committed for them first. Validator rows are only ever created under those locks, and ids come
//   from the database (an identity column).
// - Schema: the same tables as SQLite (BIGINT holding u64 XOR 2^63, BYTEA roots), versioned migrations applied at
//   start under a session advisory lock, so that instances starting together migrate once; a schema newer than this
//   binary knows is refused. Tables live in the connection's current schema (a URL's `options=-csearch_path=...`).
// - Timeouts: every statement, connect included, ends by `timeout` (PgConnection); a pool of at most `pool_size`
//   connections, where a caller that finds none free within the timeout gets Unavailable.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "postgres_connection.hpp"
#include "storage.hpp"

namespace cachet::slashing::detail {

class PostgresStorage final : public Storage {
 public:
  /// Connects to `url` (postgresql:// or postgres://, libpq's URI), migrates the schema and keeps up to
  /// `pool_size` connections.
  static std::expected<std::unique_ptr<PostgresStorage>, std::string> open(const std::string& url, unsigned pool_size,
                                                                           std::chrono::milliseconds timeout);
  ~PostgresStorage() override;

  DbResult<std::unique_ptr<Transaction>> begin(bool write) override;
  DbResult<void> probe() override;
  unsigned parallel_writers() const override { return pool_size_; }

  static int latest_schema_version();

 private:
  class Txn;
  PostgresStorage(std::string url, unsigned pool_size, std::chrono::milliseconds timeout)
      : url_(std::move(url)), pool_size_(pool_size), timeout_(timeout) {}
  /// A connection, prepared, from the pool or new; Unavailable when none can be had by the deadline.
  DbResult<std::unique_ptr<PgConnection>> acquire(PgConnection::Clock::time_point deadline);
  /// Back to the pool if still usable, else dropped.
  void release(std::unique_ptr<PgConnection> c);
  std::expected<void, std::string> migrate();

  const std::string url_;
  const unsigned pool_size_;
  const std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  unsigned open_ = 0;  // connections handed out or idle
};

/// `url` with any password replaced by "***" (for logs).
std::string redact_database_url(std::string_view url);

}  // namespace cachet::slashing::detail

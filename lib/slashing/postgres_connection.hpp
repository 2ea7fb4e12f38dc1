// One libpq connection whose every operation ends by a deadline: non-blocking connect and queries, polled, so that a
// PostgreSQL server that refuses, stops answering (SIGSTOP, a dead network) or hangs mid-transaction costs a caller
// at most its timeout, never a thread stuck in a blocking read. A connection that failed or timed out is broken
// for good (the pool drops it); the server rolls back its open transaction when it sees the socket close.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage.hpp"

namespace cachet::slashing::detail {

/// A query's rows as text (libpq's text format), owned.
class PgRows {
 public:
  PgRows() = default;
  explicit PgRows(PGresult* r) : r_(r, &PQclear) {}
  int size() const { return r_ ? PQntuples(r_.get()) : 0; }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col); }
  std::string_view text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
  }
  std::int64_t i64(int row, int col) const;

 private:
  std::shared_ptr<PGresult> r_;
};

/// A query parameter: text, or SQL NULL.
using PgParam = std::optional<std::string>;

/// One statement of a pipeline: a prepared statement's name, or SQL without parameters.
struct PgStatement {
  std::string prepared;  // empty: `sql`
  std::string sql;
  std::vector<PgParam> params;
};

class PgConnection {
 public:
  using Clock = std::chrono::steady_clock;
  /// Connects to `conninfo` (a libpq URI or key=value string) by `deadline`.
  static DbResult<std::unique_ptr<PgConnection>> connect(const std::string& conninfo, Clock::time_point deadline);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  /// Runs one statement (with parameters, or a plain multi-statement string when `params` is empty) by `deadline`.
  DbResult<PgRows> exec(std::string_view sql, const std::vector<PgParam>& params, Clock::time_point deadline);
  /// Prepares `sql` as `name` on this connection.
  DbResult<void> prepare(const std::string& name, std::string_view sql, Clock::time_point deadline);

  /// Sends `statements` at once (libpq pipeline mode: one round trip) and returns the last one's rows. They run in
  /// order; the first error is returned and the statements after it are skipped (PostgreSQL aborts the pipeline).
  DbResult<PgRows> pipeline(const std::vector<PgStatement>& statements, Clock::time_point deadline);

  /// False once a call failed for a reason other than the statement itself (the connection is unusable).
  bool usable() const { return usable_; }

 private:
  explicit PgConnection(PGconn* c) : conn_(c) {}
  /// Sends what libpq buffered and collects the last result, all by `deadline`.
  DbResult<PgRows> finish(Clock::time_point deadline, std::string_view what);
  /// Sends what libpq buffered, by `deadline`.
  DbResult<void> flush(Clock::time_point deadline, std::string_view what);
  /// Waits for input until libpq can hand out a result without blocking.
  DbResult<void> await_result(Clock::time_point deadline, std::string_view what);
  /// Waits until the socket is readable (or writable) or the deadline passes.
  bool wait(bool for_write, Clock::time_point deadline);
  std::unexpected<DbError> broken(std::string message);

  PGconn* conn_ = nullptr;
  bool usable_ = true;
};

/// The SQLSTATE classes a retry can fix: serialization failure, deadlock, a unique violation (a lost race).
bool pg_retryable_state(std::string_view sqlstate);

}  // namespace cachet::slashing::detail

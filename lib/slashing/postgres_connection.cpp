#include "postgres_connection.hpp"

#include <poll.h>

#include <cerrno>
#include <charconv>

namespace cachet::slashing::detail {

std::int64_t PgRows::i64(int row, int col) const {
  const auto t = text(row, col);
  std::int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

bool pg_retryable_state(std::string_view sqlstate) {
  return sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "23505";
}

namespace {

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

int remaining_ms(PgConnection::Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - PgConnection::Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 60'000));
}

}  // namespace

DbResult<std::unique_ptr<PgConnection>> PgConnection::connect(const std::string& conninfo, Clock::time_point deadline) {
  PGconn* raw = PQconnectStart(conninfo.c_str());
  if (!raw) return db_unavailable("cannot connect to PostgreSQL: out of memory");
  std::unique_ptr<PgConnection> c(new PgConnection(raw));
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);  // NOTICEs (e.g. IF NOT EXISTS) are not errors
  if (PQstatus(raw) == CONNECTION_BAD)
    return db_unavailable("cannot connect to PostgreSQL: " + trimmed(PQerrorMessage(raw)));
  // libpq's own polling protocol: wait for what PQconnectPoll asks for, until it says OK or FAILED.
  for (PostgresPollingStatusType status = PGRES_POLLING_WRITING;;) {
    if (status == PGRES_POLLING_OK) break;
    if (status == PGRES_POLLING_FAILED)
      return db_unavailable("cannot connect to PostgreSQL: " + trimmed(PQerrorMessage(raw)));
    if (!c->wait(status == PGRES_POLLING_WRITING, deadline))
      return db_unavailable("cannot connect to PostgreSQL: no answer in time");
    status = PQconnectPoll(raw);
  }
  if (PQsetnonblocking(raw, 1) != 0) return db_unavailable("cannot use PostgreSQL: " + trimmed(PQerrorMessage(raw)));
  return c;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::wait(bool for_write, Clock::time_point deadline) {
  pollfd p{PQsocket(conn_), static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
  if (p.fd < 0) return false;
  for (;;) {
    const int ms = remaining_ms(deadline);
    const int n = ::poll(&p, 1, ms);
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

std::unexpected<DbError> PgConnection::broken(std::string message) {
  usable_ = false;
  return db_unavailable(std::move(message));
}

DbResult<void> PgConnection::flush(Clock::time_point deadline, std::string_view what) {
  // Non-blocking mode may leave part of a request buffered.
  for (;;) {
    const int f = PQflush(conn_);
    if (f == 0) return {};
    if (f < 0) return broken(std::string(what) + ": " + trimmed(PQerrorMessage(conn_)));
    if (!wait(true, deadline)) return broken(std::string(what) + ": PostgreSQL did not answer in time");
  }
}

DbResult<void> PgConnection::await_result(Clock::time_point deadline, std::string_view what) {
  while (PQisBusy(conn_)) {
    if (!wait(false, deadline)) return broken(std::string(what) + ": PostgreSQL did not answer in time");
    if (!PQconsumeInput(conn_)) return broken(std::string(what) + ": " + trimmed(PQerrorMessage(conn_)));
  }
  return {};
}

DbResult<PgRows> PgConnection::finish(Clock::time_point deadline, std::string_view what) {
  if (auto f = flush(deadline, what); !f) return std::unexpected(f.error());
  PgRows last;
  std::optional<DbError> error;
  for (;;) {
    if (auto a = await_result(deadline, what); !a) return std::unexpected(a.error());
    PGresult* r = PQgetResult(conn_);
    if (!r) break;
    const auto status = PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      last = PgRows(r);
      continue;
    }
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const std::string message = std::string(what) + ": " + trimmed(PQresultErrorMessage(r));
    if (!error)
      error =
          DbError{state && pg_retryable_state(state) ? DbError::Kind::Retryable : DbError::Kind::Unavailable, message};
    PQclear(r);
  }
  if (PQstatus(conn_) != CONNECTION_OK) usable_ = false;
  if (error) return std::unexpected(*error);
  return last;
}

namespace {

struct Params {
  std::vector<const char*> values;
  explicit Params(const std::vector<PgParam>& params) {
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  }
};

}  // namespace

DbResult<PgRows> PgConnection::exec(std::string_view sql, const std::vector<PgParam>& params,
                                    Clock::time_point deadline) {
  if (!usable_) return db_unavailable("PostgreSQL connection is broken");
  const std::string text(sql);
  Params p(params);
  const int sent = params.empty() ? PQsendQuery(conn_, text.c_str())
                                  : PQsendQueryParams(conn_, text.c_str(), static_cast<int>(p.values.size()), nullptr,
                                                      p.values.data(), nullptr, nullptr, 0);
  if (!sent) return broken("PostgreSQL: " + trimmed(PQerrorMessage(conn_)));
  return finish(deadline, "PostgreSQL");
}

DbResult<void> PgConnection::prepare(const std::string& name, std::string_view sql, Clock::time_point deadline) {
  if (!usable_) return db_unavailable("PostgreSQL connection is broken");
  const std::string text(sql);
  if (!PQsendPrepare(conn_, name.c_str(), text.c_str(), 0, nullptr))
    return broken("PostgreSQL: " + trimmed(PQerrorMessage(conn_)));
  auto r = finish(deadline, "PostgreSQL prepare " + name);
  if (!r) return std::unexpected(r.error());
  return {};
}

DbResult<PgRows> PgConnection::pipeline(const std::vector<PgStatement>& statements, Clock::time_point deadline) {
  if (!usable_) return db_unavailable("PostgreSQL connection is broken");
  if (statements.empty()) return PgRows{};
  if (PQenterPipelineMode(conn_) != 1) return broken("PostgreSQL: " + trimmed(PQerrorMessage(conn_)));
  for (const auto& st : statements) {
    Params p(st.params);
    const int sent = st.prepared.empty()
                         ? PQsendQueryParams(conn_, st.sql.c_str(), static_cast<int>(p.values.size()), nullptr,
                                             p.values.data(), nullptr, nullptr, 0)
                         : PQsendQueryPrepared(conn_, st.prepared.c_str(), static_cast<int>(p.values.size()),
                                               p.values.data(), nullptr, nullptr, 0);
    if (!sent) return broken("PostgreSQL: " + trimmed(PQerrorMessage(conn_)));
  }
  if (PQpipelineSync(conn_) != 1) return broken("PostgreSQL: " + trimmed(PQerrorMessage(conn_)));
  if (auto f = flush(deadline, "PostgreSQL"); !f) return std::unexpected(f.error());
  // Each statement's results end with a NULL; the sync's result ends the pipeline.
  PgRows last;
  std::optional<DbError> error;
  for (std::size_t i = 0; i <= statements.size();) {
    if (auto a = await_result(deadline, "PostgreSQL"); !a) return std::unexpected(a.error());
    PGresult* r = PQgetResult(conn_);
    if (!r) {
      ++i;  // the end of statement i's results
      continue;
    }
    const auto status = PQresultStatus(r);
    if (status == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      last = PgRows(r);
      continue;
    }
    if (status != PGRES_PIPELINE_ABORTED && !error) {
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      error = DbError{state && pg_retryable_state(state) ? DbError::Kind::Retryable : DbError::Kind::Unavailable,
                      "PostgreSQL " + (statements[std::min(i, statements.size() - 1)].prepared) + ": " +
                          trimmed(PQresultErrorMessage(r))};
    }
    PQclear(r);
  }
  if (PQexitPipelineMode(conn_) != 1) usable_ = false;
  if (PQstatus(conn_) != CONNECTION_OK) usable_ = false;
  if (error) return std::unexpected(*error);
  return last;
}

}  // namespace cachet::slashing::detail

// Helpers for the slashing-protection tests: temporary databases, messages, synchronous decisions.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cachet/slashing/slashing_protection.hpp>
#include <filesystem>
#include <future>

#include "scenarios.hpp"
#include "support/postgres_cluster.hpp"

namespace cachet::slashing::cases {

/// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("cachet-slashing-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" + info->name() +
             "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::string db() const { return (path_ / "slashing.sqlite").string(); }
  std::string url() const { return "sqlite:" + db(); }

 private:
  std::filesystem::path path_;
};

/// A plain second SQLite connection, for what the storage itself never does (hold locks, count rows).
struct RawConnection {
  explicit RawConnection(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK); }
  ~RawConnection() { sqlite3_close(db); }
  int exec(const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }
  std::int64_t scalar(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
  }
  sqlite3* db = nullptr;
};

/// One fresh, empty database of either backend for a test: a SQLite file in a TempDir, or a new schema in a
/// PostgreSQL database of the shared test server (schemas are cheap; the URL sets search_path).
class TestDatabase {
 public:
  explicit TestDatabase(std::string backend) : backend_(std::move(backend)) {
    if (postgres()) {
      static const std::string database = test::shared_postgres().create_database("cachet_slashing_unit");
      static std::atomic<int> counter{0};
      schema_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
      base_url_ = database;
      EXPECT_EQ(scalar("CREATE SCHEMA " + schema_, false), 0);
      url_ = base_url_ + "?options=-csearch_path%3D" + schema_;
    } else {
      url_ = dir_.url();
    }
  }
  bool postgres() const { return backend_ == "postgres"; }
  const std::string& url() const { return url_; }
  /// A plain second connection's answer to `sql` (one integer), or -1.
  std::int64_t scalar(const std::string& sql, bool in_schema = true) {
    if (!postgres()) return RawConnection(dir_.db()).scalar(sql);
    PGconn* c = PQconnectdb((in_schema ? url_ : base_url_).c_str());
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(c, sql.c_str());
    std::int64_t v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
      v = std::stoll(PQgetvalue(r, 0, 0));
    } else if (PQresultStatus(r) == PGRES_COMMAND_OK) {
      v = 0;
    } else {
      ADD_FAILURE() << sql << ": " << PQerrorMessage(c);
    }
    PQclear(r);
    PQfinish(c);
    return v;
  }

 private:
  std::string backend_;
  TempDir dir_;
  std::string schema_, base_url_, url_;
};

inline ProtectedMessage block(unsigned validator, std::uint64_t slot, std::uint64_t r, Bytes32 gvr = {}) {
  return {pubkey(validator), gvr, root(r), BlockProposal{slot}};
}
inline ProtectedMessage attestation(unsigned validator, std::uint64_t source, std::uint64_t target, std::uint64_t r,
                                    Bytes32 gvr = {}) {
  return {pubkey(validator), gvr, root(r), AttestationVote{source, target}};
}

/// Waits for the decision (the tests' commit timeouts bound the wait).
inline Decision decide(SlashingProtection& protection, const ProtectedMessage& message) {
  auto promise = std::make_shared<std::promise<Decision>>();
  auto future = promise->get_future();
  protection.check_and_record(message, [promise](Decision d) { promise->set_value(std::move(d)); });
  return future.get();
}

inline bool signs(SlashingProtection& protection, const ProtectedMessage& message) {
  return decide(protection, message).kind == Decision::Kind::Sign;
}

/// Runs scenarios against the real service: a fresh database per scenario.
struct ServiceEngine : Engine {
  explicit ServiceEngine(SlashingProtection& p) : protection(p) {}
  SlashingProtection& protection;
  bool import(const Interchange& interchange) override {
    return protection.import_interchange(interchange).has_value();
  }
  bool sign_block(const Bytes48& pk, std::uint64_t slot, const Bytes32& r) override {
    return signs(protection, {pk, {}, r, BlockProposal{slot}});
  }
  bool sign_attestation(const Bytes48& pk, std::uint64_t source, std::uint64_t target, const Bytes32& r) override {
    return signs(protection, {pk, {}, r, AttestationVote{source, target}});
  }
};

}  // namespace cachet::slashing::cases

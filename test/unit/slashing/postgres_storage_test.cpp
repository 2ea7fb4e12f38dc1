// The PostgreSQL storage on its own, against a real server: migrations (several signers starting at once, a newer
// schema, another program's tables), URLs with passwords kept out of messages, and every operation bounded by the
// timeout when the server stops answering.
#include "../../../lib/slashing/postgres_storage.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "slashing_test_util.hpp"

using namespace cachet;
using namespace cachet::slashing;
using namespace cachet::slashing::detail;
using namespace std::chrono_literals;
using Kind = Decision::Kind;

TEST(PostgresStorage, SignersStartingTogetherMigrateOnce) {
  cases::TestDatabase db("postgres");
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&] {
      if (PostgresStorage::open(db.url(), 2, 5000ms)) ++opened;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened.load(), 6);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM schema_version"), PostgresStorage::latest_schema_version());
}

TEST(PostgresStorage, ANewerSchemaOrAnotherProgramsTablesAreRefused) {
  cases::TestDatabase db("postgres");
  ASSERT_TRUE(PostgresStorage::open(db.url(), 1, 2000ms));
  db.scalar("INSERT INTO schema_version VALUES (99)");
  auto newer = PostgresStorage::open(db.url(), 1, 2000ms);
  ASSERT_FALSE(newer);
  EXPECT_NE(newer.error().find("newer"), std::string::npos) << newer.error();

  cases::TestDatabase other("postgres");
  other.scalar("CREATE TABLE validators(x int)");
  auto foreign = PostgresStorage::open(other.url(), 1, 2000ms);
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().find("another program"), std::string::npos) << foreign.error();
}

TEST(PostgresStorage, PasswordsNeverReachMessages) {
  EXPECT_EQ(slashing::redact_database_url("postgresql://signer:s3cret@db.lan:5432/slashing?sslmode=require"),
            "postgresql://signer:***@db.lan:5432/slashing?sslmode=require");
  EXPECT_EQ(slashing::redact_database_url("postgres://signer@db.lan/x"), "postgres://signer@db.lan/x");
  EXPECT_EQ(slashing::redact_database_url("postgresql://a:b:c@h/d"), "postgresql://a:***@h/d");
  EXPECT_EQ(slashing::redact_database_url("sqlite:/var/lib/cachet/x.sqlite"), "sqlite:/var/lib/cachet/x.sqlite");
  // libpq's query-parameter form.
  EXPECT_EQ(slashing::redact_database_url("postgresql://h/d?password=s3cret"), "postgresql://h/d?password=***");
  EXPECT_EQ(slashing::redact_database_url("postgresql://h/d?sslmode=require&password=s3&user=u"),
            "postgresql://h/d?sslmode=require&password=***&user=u");
  EXPECT_EQ(slashing::redact_database_url("postgresql://u:a@h/d?password=b"), "postgresql://u:***@h/d?password=***");
  EXPECT_EQ(slashing::redact_database_url("postgresql://h/d?xpassword=1"), "postgresql://h/d?xpassword=1");
  // A server that refuses: the error names the redacted URL only.
  const auto port = std::to_string(cachet::test::PostgresCluster().port());  // initdb'd, not started: nobody listens
  auto refused = SlashingProtection::open("postgresql://signer:s3cret@127.0.0.1:" + port + "/x");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().find("s3cret"), std::string::npos) << refused.error();
}

TEST(PostgresStorage, AStoppedOrHungServerCostsAtMostTheTimeoutAndRecovers) {
  cachet::test::PostgresCluster cluster;
  cluster.start();
  const auto url = cluster.create_database();
  Options options;
  options.commit_timeout = 500ms;
  auto opened = SlashingProtection::open(url, options);
  ASSERT_TRUE(opened) << opened.error();
  auto& p = **opened;
  ASSERT_EQ(cases::decide(p, cases::attestation(0, 1, 2, 1)).kind, Kind::Sign);
  auto timed = [&](const ProtectedMessage& m) {
    const auto start = std::chrono::steady_clock::now();
    auto d = cases::decide(p, m);
    return std::pair(d, std::chrono::steady_clock::now() - start);
  };
  cluster.pause();  // hung: connections open, nothing answers
  auto [hung, hung_time] = timed(cases::attestation(0, 2, 3, 1));
  EXPECT_EQ(hung.kind, Kind::Unavailable);
  EXPECT_LT(hung_time, 800ms);
  EXPECT_FALSE(p.healthy());
  auto [fast, fast_time] = timed(cases::attestation(1, 2, 3, 1));
  EXPECT_EQ(fast.kind, Kind::Unavailable);  // at once while unhealthy
  EXPECT_LT(fast_time, 50ms);
  cluster.resume();
  for (int i = 0; i < 100 && !p.healthy(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(p.healthy());
  EXPECT_EQ(cases::decide(p, cases::attestation(0, 2, 3, 1)).kind, Kind::Sign);
  cluster.stop();  // refused connections
  auto [stopped, stopped_time] = timed(cases::attestation(0, 3, 4, 1));
  EXPECT_EQ(stopped.kind, Kind::Unavailable);
  EXPECT_LT(stopped_time, 800ms);
  cluster.start();
  for (int i = 0; i < 100 && !p.healthy(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(p.healthy());
  // Lost while nothing is signed: the idle probe notices within seconds (/healthcheck DOWN).
  cluster.stop();
  for (int i = 0; i < 80 && p.healthy(); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(p.healthy());
  cluster.start();
  for (int i = 0; i < 100 && !p.healthy(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(p.healthy());
  EXPECT_EQ(cases::decide(p, cases::attestation(0, 2, 3, 2)).reason_code, "double_vote");  // nothing was lost
  EXPECT_EQ(cases::decide(p, cases::attestation(0, 3, 4, 1)).kind, Kind::Sign);
}

// SlashingProtection::open end to end over both backends (one conformance suite: every rule scenario, durability,
// group commit under load, pruning, import and export, against a real SQLite file and a real PostgreSQL server),
// then what only SQLite has: failing closed on a locked file, one writer, read-only exports.
#include <gtest/gtest.h>

#include <atomic>
#include <cachet/slashing/slashing_protection.hpp>
#include <thread>

#include "../../../lib/slashing/protection_service.hpp"
#include "../../../lib/slashing/storage.hpp"
#include "slashing_test_util.hpp"

using namespace cachet;
using namespace cachet::slashing;
using namespace cachet::slashing::cases;
using namespace std::chrono_literals;
using Kind = Decision::Kind;

namespace {

std::unique_ptr<SlashingProtection> open_url(const std::string& url, Options options = {}) {
  auto p = SlashingProtection::open(url, options);
  EXPECT_TRUE(p) << p.error();
  return p ? std::move(*p) : nullptr;
}

std::unique_ptr<SlashingProtection> open_db(const TempDir& dir, Options options = {}) {
  return open_url(dir.url(), options);
}

std::string u64_sql(std::uint64_t v) { return std::to_string(detail::encode_u64(v)); }

/// The conformance suite: each test runs once per backend.
class Backend : public ::testing::TestWithParam<std::string> {
 protected:
  TestDatabase db{GetParam()};
  std::unique_ptr<SlashingProtection> open(Options options = {}) { return open_url(db.url(), options); }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(SlashingProtection, Backend, ::testing::Values("sqlite", "postgres"),
                         [](const auto& test) { return test.param; });

TEST_P(Backend, Scenarios) {
  for (bool minified : {false, true})
    for (const auto& scenario : scenarios()) {
      TestDatabase fresh(GetParam());
      auto p = open_url(fresh.url());
      ServiceEngine engine(*p);
      run_scenario(engine, scenario, minified);
    }
}

TEST_P(Backend, HistoryAndGenesisRootSurviveReopening) {
  constexpr std::uint64_t kMax = ~std::uint64_t{0};
  {
    auto p = open();
    EXPECT_EQ(decide(*p, block(0, 100, 1, root(9))).kind, Kind::Sign);
    EXPECT_EQ(decide(*p, attestation(0, 10, 20, 1, root(9))).kind, Kind::Sign);
    EXPECT_EQ(decide(*p, block(1, kMax - 1, 1, root(9))).kind, Kind::Sign);
    EXPECT_EQ(decide(*p, attestation(1, kMax - 2, kMax - 1, 1, root(9))).kind, Kind::Sign);
  }
  auto p = open();
  auto wrong = decide(*p, block(2, 1, 1, root(8)));
  EXPECT_EQ(wrong.kind, Kind::Refuse);
  EXPECT_EQ(wrong.reason_code, "genesis_mismatch");
  EXPECT_EQ(decide(*p, block(0, 100, 2, root(9))).reason_code, "double_block");
  EXPECT_EQ(decide(*p, block(0, 100, 1, root(9))).kind, Kind::Sign);  // repeat
  EXPECT_EQ(decide(*p, attestation(0, 9, 21, 1, root(9))).reason_code, "surrounding_vote");
  EXPECT_EQ(decide(*p, attestation(0, 11, 19, 1, root(9))).reason_code, "surrounded_vote");
  EXPECT_EQ(decide(*p, attestation(0, 10, 20, 2, root(9))).reason_code, "double_vote");
  EXPECT_EQ(decide(*p, attestation(0, 10, 20, 1, root(9))).kind, Kind::Sign);
  EXPECT_EQ(decide(*p, block(1, kMax - 1, 2, root(9))).reason_code, "double_block");
  EXPECT_EQ(decide(*p, block(1, kMax, 2, root(9))).kind, Kind::Sign);
  EXPECT_EQ(decide(*p, attestation(1, kMax - 3, kMax, 1, root(9))).reason_code, "surrounding_vote");
  EXPECT_EQ(decide(*p, attestation(1, kMax - 1, kMax, 1, root(9))).kind, Kind::Sign);
  auto exported = p->export_interchange();
  ASSERT_TRUE(exported);
  EXPECT_EQ(exported->genesis_validators_root, root(9));
}

TEST_P(Backend, SignIsDeliveredOnlyOnceTheRowIsCommitted) {
  auto p = open();
  std::promise<std::int64_t> rows_seen;
  p->check_and_record(block(0, 77, 1), [&](Decision d) {
    EXPECT_EQ(d.kind, Kind::Sign);
    // A second connection, inside the callback.
    rows_seen.set_value(db.scalar("SELECT count(*) FROM signed_blocks WHERE slot = " + u64_sql(77)));
  });
  EXPECT_EQ(rows_seen.get_future().get(), 1);
  std::promise<std::int64_t> att_rows;
  p->check_and_record(attestation(0, 5, 6, 1), [&](Decision d) {
    EXPECT_EQ(d.kind, Kind::Sign);
    att_rows.set_value(db.scalar("SELECT count(*) FROM signed_attestations WHERE target_epoch = " + u64_sql(6)));
  });
  EXPECT_EQ(att_rows.get_future().get(), 1);
}

TEST_P(Backend, GenesisRootOfANewDatabase) {
  auto p = open();
  auto empty = p->export_interchange();
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->genesis_validators_root, Bytes32{});  // never set: zero
  EXPECT_TRUE(empty->data.empty());
  ASSERT_TRUE(p->import_interchange(interchange({}, root(3))));  // the first import records it
  auto mismatch = p->import_interchange(interchange({{0, {{1, {}}}, {}}}, root(4)));
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().find("genesis"), std::string::npos) << mismatch.error();
  EXPECT_EQ(decide(*p, block(0, 1, 1, root(4))).reason_code, "genesis_mismatch");
  EXPECT_EQ(decide(*p, block(0, 1, 1, root(3))).kind, Kind::Sign);
  EXPECT_EQ(p->export_interchange()->genesis_validators_root, root(3));
}

TEST_P(Backend, ExportImportRoundTripGivesTheSameDecisions) {
  TestDatabase b(GetParam());
  Options options;
  options.pruning_epochs_to_keep = 8;
  auto original = open(options);
  ASSERT_TRUE(original->import_interchange(
      interchange({{0, {{40, {}}, {64, 5}}, {{2, 3, {}}, {3, 4, 4}}}, {1, {{10, {}}}, {{5, 9, {}}, {0, 12, {}}}}})));
  for (std::uint64_t e = 5; e < 30; ++e) {
    EXPECT_EQ(decide(*original, attestation(0, e - 1, e, e)).kind, Kind::Sign);
    if (e % 4 == 0) {
      EXPECT_EQ(decide(*original, block(0, e * 32 + 1, e)).kind, Kind::Sign);
    }
  }
  EXPECT_EQ(decide(*original, attestation(1, 12, 13, 1)).kind, Kind::Sign);
  ASSERT_TRUE(original->prune());  // validator 0 now has pruned watermarks
  auto exported = original->export_interchange();
  ASSERT_TRUE(exported) << exported.error();
  auto copy = open_url(b.url(), options);
  ASSERT_TRUE(copy->import_interchange(*exported));
  // The same answers for a grid of messages, in the same order (each Sign is recorded in both).
  for (unsigned v : {0u, 1u}) {
    for (std::uint64_t s = 0; s < 34; s += 3)
      for (std::uint64_t t = s; t < 34; t += 2)
        for (std::uint64_t r : {t, std::uint64_t{999}})
          EXPECT_EQ(decide(*original, attestation(v, s, t, r)).kind, decide(*copy, attestation(v, s, t, r)).kind)
              << v << ": " << s << "," << t << "," << r;
    for (std::uint64_t slot = 0; slot < 34 * 32; slot += 7)
      for (std::uint64_t r : {slot / 32, std::uint64_t{999}})
        EXPECT_EQ(decide(*original, block(v, slot, r)).kind, decide(*copy, block(v, slot, r)).kind)
            << v << ": " << slot << "," << r;
  }
}

TEST_P(Backend, ImportMergesWithSignedHistoryAndAcrossImports) {
  auto p = open();
  ASSERT_TRUE(p->import_interchange(interchange({{0, {{10, {}}}, {{1, 2, {}}}}, {1, {{10, {}}}, {}}})));
  EXPECT_EQ(decide(*p, block(0, 20, 1)).kind, Kind::Sign);
  EXPECT_EQ(decide(*p, attestation(0, 2, 10, 1)).kind, Kind::Sign);
  // A second interchange overlapping validator 0, with data that is slashable against what was signed: kept, with
  // the conflicting entries' roots unknown.
  auto report =
      p->import_interchange(interchange({{0, {{20, 2}, {30, 3}}, {{3, 9, {}}, {2, 10, 5}}}, {2, {{5, {}}}, {}}}));
  ASSERT_TRUE(report) << report.error();
  EXPECT_EQ(report->validators, 2u);
  EXPECT_EQ(report->blocks, 3u);
  EXPECT_EQ(report->attestations, 2u);
  EXPECT_EQ(decide(*p, block(0, 20, 1)).reason_code, "double_block");  // no longer a repeat: two roots
  EXPECT_EQ(decide(*p, block(0, 30, 3)).kind, Kind::Sign);             // imported with its root: a repeat
  EXPECT_EQ(decide(*p, attestation(0, 2, 10, 1)).reason_code, "double_vote");
  EXPECT_EQ(decide(*p, attestation(0, 4, 8, 1)).reason_code, "surrounded_vote");
  EXPECT_EQ(decide(*p, attestation(0, 10, 11, 1)).kind, Kind::Sign);
  EXPECT_EQ(decide(*p, block(2, 5, 1)).reason_code, "double_block");
  EXPECT_EQ(decide(*p, block(2, 4, 1)).reason_code, "below_watermark");
  // The same after reopening: the merge is in the database too.
  p.reset();
  p = open();
  EXPECT_EQ(decide(*p, block(0, 20, 1)).reason_code, "double_block");
  EXPECT_EQ(decide(*p, block(0, 30, 3)).kind, Kind::Sign);
  EXPECT_EQ(decide(*p, attestation(0, 2, 10, 1)).reason_code, "double_vote");
  EXPECT_EQ(decide(*p, block(2, 4, 1)).reason_code, "below_watermark");
  auto exported = p->export_interchange(std::vector<Bytes48>{pubkey(0), pubkey(0), pubkey(7)});
  ASSERT_TRUE(exported);
  ASSERT_EQ(exported->data.size(), 1u);  // duplicates once, unknown keys left out
  EXPECT_EQ(exported->data[0].pubkey, pubkey(0));
}

TEST_P(Backend, PruningInTheDatabaseKeepsRefusing) {
  Options options;
  options.pruning_epochs_to_keep = 16;
  {
    auto p = open(options);
    for (std::uint64_t e = 1; e <= 100; ++e) ASSERT_EQ(decide(*p, attestation(0, e - 1, e, e)).kind, Kind::Sign);
    ASSERT_EQ(decide(*p, block(0, 32, 1)).kind, Kind::Sign);
    ASSERT_TRUE(p->prune());
    EXPECT_EQ(db.scalar("SELECT count(*) FROM signed_attestations"), 17);  // targets 84..100
    EXPECT_EQ(db.scalar("SELECT count(*) FROM signed_blocks"), 0);
    EXPECT_EQ(db.scalar("SELECT count(*) FROM watermarks WHERE pruned_max_target = " + u64_sql(83)), 1);
    EXPECT_EQ(decide(*p, attestation(0, 100, 101, 1)).kind, Kind::Sign);  // the honest next one
  }
  auto p = open(options);
  EXPECT_EQ(decide(*p, attestation(0, 50, 60, 1)).reason_code, "below_watermark");
  EXPECT_EQ(decide(*p, attestation(0, 81, 83, 1)).reason_code, "below_watermark");  // would double-vote a pruned one
  EXPECT_EQ(decide(*p, block(0, 32, 1)).reason_code, "below_watermark");
  EXPECT_EQ(decide(*p, attestation(0, 99, 100, 100)).kind, Kind::Sign);  // kept: a repeat
  EXPECT_EQ(decide(*p, attestation(0, 101, 102, 1)).kind, Kind::Sign);
  auto exported = p->export_interchange();
  ASSERT_TRUE(exported);
  const auto& v = exported->data.at(0);
  EXPECT_EQ(v.signed_blocks.at(0).slot, 32u);  // the synthetic entries
  EXPECT_FALSE(v.signed_blocks.at(0).signing_root);
  EXPECT_EQ(v.signed_attestations.at(0).source_epoch, 82u);
  EXPECT_EQ(v.signed_attestations.at(0).target_epoch, 83u);
}

TEST_P(Backend, PruningRunsInTheBackground) {
  Options options;
  options.pruning_epochs_to_keep = 4;
  options.pruning_interval = 1s;
  auto p = open(options);
  for (std::uint64_t e = 1; e <= 20; ++e) ASSERT_EQ(decide(*p, attestation(0, e - 1, e, e)).kind, Kind::Sign);
  std::int64_t rows = 0;
  for (int i = 0; i < 40; ++i) {
    rows = db.scalar("SELECT count(*) FROM signed_attestations");
    if (rows == 5) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(rows, 5);
  EXPECT_EQ(decide(*p, attestation(0, 20, 21, 1)).kind, Kind::Sign);
}

TEST_P(Backend, ConflictingRacersGetExactlyOneSign) {
  auto p = open();
  for (std::uint64_t round = 1; round <= 10; ++round) {
    std::atomic<int> signs{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t)
      threads.emplace_back([&, t] {
        if (decide(*p, attestation(0, round, round + 1, round * 10 + t)).kind == Kind::Sign) ++signs;
        if (decide(*p, block(1, round, round * 10 + t)).kind == Kind::Sign) ++signs;
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(signs.load(), 2) << "round " << round;
  }
}

TEST_P(Backend, GroupCommitThroughputUnderConcurrentLoad) {
  // Four client threads, each with 250 validators of its own, each keeping up to 256 requests in flight (as the
  // HTTP server would), signing one attestation per validator per epoch.
  auto p = open();
  constexpr unsigned kThreads = 4, kPerThread = 250;
  constexpr std::uint64_t kEpochs = 32;
  std::atomic<std::uint64_t> signed_count{0}, other{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      std::atomic<int> in_flight{0};
      for (std::uint64_t e = 1; e <= kEpochs; ++e)
        for (unsigned i = 0; i < kPerThread; ++i) {
          while (in_flight.load() >= 256) std::this_thread::yield();
          ++in_flight;
          p->check_and_record(attestation(t * kPerThread + i, e - 1, e, e), [&](Decision d) {
            (d.kind == Kind::Sign ? signed_count : other)++;
            --in_flight;
          });
        }
      while (in_flight.load() > 0) std::this_thread::yield();
    });
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::uint64_t total = kThreads * kPerThread * kEpochs;
  EXPECT_EQ(signed_count.load(), total);
  EXPECT_EQ(other.load(), 0u);
  auto* service = dynamic_cast<detail::ProtectionService*>(p.get());
  ASSERT_NE(service, nullptr);
  const auto stats = service->stats();
  std::printf("[ info ] %llu records in %llu transactions (%.1f records each), %.0f records/s, %.0f transactions/s\n",
              static_cast<unsigned long long>(stats.records), static_cast<unsigned long long>(stats.transactions),
              double(stats.records) / double(stats.transactions), double(total) / seconds,
              double(stats.transactions) / seconds);
  EXPECT_EQ(stats.records, total);
  EXPECT_LT(stats.transactions, total);  // grouped
  EXPECT_EQ(db.scalar("SELECT count(*) FROM signed_attestations"), static_cast<std::int64_t>(total));

  // One caller alone: each Sign waits for its own commit (one fsync).
  const auto alone = std::chrono::steady_clock::now();
  for (std::uint64_t e = 1; e <= 100; ++e) ASSERT_EQ(decide(*p, block(5000, e, e)).kind, Kind::Sign);
  std::printf("[ info ] a lone caller: %.2f ms per Sign\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - alone).count() / 100);
}

TEST_P(Backend, DeferredMessagesWaitForExpediteAndShareOneTransaction) {
  // What the HTTP adapter does: records queued as requests arrive, one transaction for all of them once the signing
  // thread reaches the first.
  Options options;
  options.max_deferral = std::chrono::hours(1);  // only expedite() may start the transaction
  auto p = open(options);
  auto* service = dynamic_cast<detail::ProtectionService*>(p.get());
  ASSERT_NE(service, nullptr);
  const auto before = service->stats();
  constexpr unsigned kMessages = 5;
  std::atomic<unsigned> signs{0};
  std::promise<void> all;
  for (unsigned v = 0; v < kMessages; ++v)
    p->check_and_record(
        attestation(v, 1, 2, 1),
        [&](Decision d) {
          EXPECT_EQ(d.kind, Kind::Sign);
          if (++signs == kMessages) all.set_value();
        },
        Urgency::Deferred);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(signs.load(), 0u) << "a deferred message was decided before anyone asked";
  EXPECT_EQ(db.scalar("SELECT count(*) FROM signed_attestations"), 0);
  p->expedite();
  ASSERT_EQ(all.get_future().wait_for(10s), std::future_status::ready);
  const auto after = service->stats();
  EXPECT_EQ(after.records - before.records, kMessages);
  EXPECT_EQ(after.transactions - before.transactions, 1u);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM signed_attestations"), std::int64_t{kMessages});
}

TEST_P(Backend, DeferredMessagesAreDecidedWithoutExpediteAfterTheDeferral) {
  Options options;
  options.max_deferral = std::chrono::milliseconds(50);
  auto p = open(options);
  std::promise<Decision> decided;
  const auto start = std::chrono::steady_clock::now();
  p->check_and_record(
      block(0, 7, 1), [&](Decision d) { decided.set_value(std::move(d)); }, Urgency::Deferred);
  auto future = decided.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(future.get().kind, Kind::Sign);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  // A Now message takes any deferred ones with it at once.
  std::promise<Decision> deferred;
  p->check_and_record(
      block(1, 7, 1), [&](Decision d) { deferred.set_value(std::move(d)); }, Urgency::Deferred);
  EXPECT_EQ(decide(*p, block(2, 7, 1)).kind, Kind::Sign);
  auto deferred_future = deferred.get_future();
  ASSERT_EQ(deferred_future.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(deferred_future.get().kind, Kind::Sign);
}

TEST_P(Backend, DeferredMessagesAreDecidedWhenTheServiceCloses) {
  Options options;
  options.max_deferral = std::chrono::hours(1);
  auto p = open(options);
  std::promise<Decision> decided;
  p->check_and_record(
      block(0, 9, 1), [&](Decision d) { decided.set_value(std::move(d)); }, Urgency::Deferred);
  p.reset();
  auto future = decided.get_future();
  ASSERT_EQ(future.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(future.get().kind, Kind::Sign);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM signed_blocks"), 1);
}

TEST_P(Backend, ReportsEveryCommittedBatchToItsObserver) {
  // What the server's commit-latency and batch-size histograms see: one call per committed transaction, the sizes
  // adding up to every message decided in one (refusals included), each with the time it took.
  std::atomic<std::uint64_t> batches{0}, messages{0}, zero_durations{0};
  Options options;
  options.on_batch_committed = [&](std::chrono::steady_clock::duration took, std::size_t size) {
    ++batches;
    messages += size;
    if (took <= std::chrono::steady_clock::duration::zero()) ++zero_durations;
  };
  {
    auto p = open(options);
    ASSERT_EQ(decide(*p, block(0, 1, 1)).kind, Kind::Sign);
    ASSERT_EQ(decide(*p, block(0, 1, 2)).kind, Kind::Refuse);  // a double proposal, decided in its transaction
    EXPECT_EQ(batches.load(), 2u);
    EXPECT_EQ(messages.load(), 2u);
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (std::uint64_t e = 1; e <= 25; ++e)
          ASSERT_EQ(decide(*p, attestation(10 + t, e - 1, e, e)).kind, Kind::Sign);
      });
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(messages.load(), 102u);
  EXPECT_GE(batches.load(), 3u);
  EXPECT_LE(batches.load(), 102u);
  EXPECT_EQ(zero_durations.load(), 0u);
}

TEST(SlashingProtection, FailsClosedWhileTheDatabaseIsLockedAndRecovers) {
  TempDir dir;
  Options options;
  options.commit_timeout = 300ms;
  auto p = open_db(dir, options);
  ASSERT_EQ(decide(*p, block(0, 1, 1)).kind, Kind::Sign);
  RawConnection intruder(dir.db());
  ASSERT_EQ(intruder.exec("BEGIN EXCLUSIVE"), SQLITE_OK);  // nobody else can write now
  auto start = std::chrono::steady_clock::now();
  auto d = decide(*p, block(0, 2, 1));
  EXPECT_EQ(d.kind, Kind::Unavailable);
  EXPECT_EQ(d.reason_code, "database");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  EXPECT_FALSE(p->healthy());
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(decide(*p, block(1, 2, 1)).kind, Kind::Unavailable);  // at once now
  EXPECT_LT(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_EQ(decide(*p, block(0, 2, 2)).kind, Kind::Unavailable);  // nothing is decided without the database
  ASSERT_EQ(intruder.exec("COMMIT"), SQLITE_OK);
  for (int i = 0; i < 100 && !p->healthy(); ++i) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(p->healthy());
  EXPECT_EQ(decide(*p, block(1, 2, 1)).kind, Kind::Sign);
  EXPECT_EQ(decide(*p, block(0, 2, 1)).kind, Kind::Sign);  // the same block, recorded this time
  RawConnection check(dir.db());
  EXPECT_EQ(check.scalar("SELECT count(*) FROM signed_blocks"), 3);
}

TEST(SlashingProtection, OneWriterAtATimeAndReadOnlyExports) {
  TempDir dir;
  auto p = open_db(dir);
  ASSERT_EQ(decide(*p, block(0, 5, 1)).kind, Kind::Sign);
  auto second = SlashingProtection::open(dir.url());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), "slashing protection database " + dir.db() + " is in use by another process");
  Options ro;
  ro.read_only = true;
  auto reader = SlashingProtection::open(dir.url(), ro);
  ASSERT_TRUE(reader) << reader.error();
  auto exported = (*reader)->export_interchange();
  ASSERT_TRUE(exported) << exported.error();
  ASSERT_EQ(exported->data.size(), 1u);
  EXPECT_EQ(exported->data[0].signed_blocks.at(0).slot, 5u);
  EXPECT_EQ(decide(**reader, block(0, 6, 1)).kind, Kind::Unavailable);
  EXPECT_FALSE((*reader)->import_interchange(interchange({})));
  EXPECT_FALSE((*reader)->prune());
  // The writer keeps going, and the reader sees its commits.
  ASSERT_EQ(decide(*p, block(0, 6, 1)).kind, Kind::Sign);
  EXPECT_EQ((*reader)->export_interchange()->data.at(0).signed_blocks.size(), 2u);
}

TEST(SlashingProtection, OpenErrors) {
  TempDir dir;
  auto bad_scheme = SlashingProtection::open("mysql://user:secret@localhost/x");
  ASSERT_FALSE(bad_scheme);
  EXPECT_NE(bad_scheme.error().find("sqlite:PATH"), std::string::npos);
  EXPECT_EQ(bad_scheme.error().find("secret"), std::string::npos) << "a password in an error";
  EXPECT_FALSE(SlashingProtection::open("sqlite:"));
  auto no_dir = SlashingProtection::open("sqlite:" + (dir.path() / "missing" / "db.sqlite").string());
  ASSERT_FALSE(no_dir);
  EXPECT_NE(no_dir.error().find("does not exist"), std::string::npos) << no_dir.error();
  Options ro;
  ro.read_only = true;
  EXPECT_FALSE(SlashingProtection::open(dir.url(), ro));  // nothing to read yet
}

TEST_P(Backend, ImportOnlySomeKeysAndReport) {
  auto p = open();
  const Bytes48 only[] = {pubkey(1)};
  auto report = p->import_interchange(
      interchange({{0, {{5, {}}}, {}}, {1, {{5, {}}, {6, {}}}, {{1, 2, {}}}}, {1, {}, {{2, 3, {}}}}}), only);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->validators, 1u);
  EXPECT_EQ(report->blocks, 2u);
  EXPECT_EQ(report->attestations, 2u);
  EXPECT_EQ(decide(*p, block(1, 6, 1)).kind, Kind::Refuse);
  EXPECT_EQ(decide(*p, block(0, 5, 1)).kind, Kind::Sign);  // validator 0 was left out
}

TEST_P(Backend, TwoServicesOnOneDatabaseNeverBothSign) {
  // PostgreSQL: two signers sharing the database. SQLite allows one writer, so there the second open must fail.
  auto first = open();
  if (!db.postgres()) {
    EXPECT_FALSE(SlashingProtection::open(db.url()));
    return;
  }
  auto second = open();
  for (std::uint64_t round = 1; round <= 20; ++round) {
    std::atomic<int> signs{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&, t] {
        auto& p = t % 2 ? *first : *second;
        // Double votes, surrounds both ways and double proposals across the two services.
        const std::uint64_t base = round * 10;
        const ProtectedMessage messages[] = {attestation(0, base, base + 5, 100 + t),
                                             attestation(0, base - 1, base + 6, 200 + t),
                                             attestation(0, base + 1, base + 4, 300 + t), block(1, base, 400 + t)};
        for (const auto& m : messages)
          if (decide(p, m).kind == Kind::Sign) ++signs;
      });
    for (auto& t : threads) t.join();
    // One attestation of the three shapes (they conflict pairwise) and one block.
    EXPECT_EQ(signs.load(), 2) << "round " << round;
  }
  EXPECT_EQ(db.scalar("SELECT count(*) FROM signed_blocks"), 20);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM signed_attestations"), 20);
}

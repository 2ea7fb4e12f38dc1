// The SQLite storage on its own: schema, encoding, merges, pruning, locking, read-only opens.
#include "../../../lib/slashing/sqlite_storage.hpp"

#include <gtest/gtest.h>

#include "slashing_test_util.hpp"

using namespace cachet;
using namespace cachet::slashing;
using namespace cachet::slashing::detail;
using cases::pubkey;
using cases::RawConnection;
using cases::root;
using cases::TempDir;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kMax = ~std::uint64_t{0};

std::unique_ptr<SqliteStorage> open_writer(const TempDir& dir) {
  auto s = SqliteStorage::open(dir.db(), false, 200ms);
  EXPECT_TRUE(s) << s.error();
  return s ? std::move(*s) : nullptr;
}

}  // namespace

TEST(SqliteStorage, U64EncodingIsAnOrderPreservingBijection) {
  const std::uint64_t values[] = {0, 1, 2, (1ULL << 63) - 1, 1ULL << 63, (1ULL << 63) + 1, kMax - 1, kMax};
  for (auto v : values) EXPECT_EQ(decode_u64(encode_u64(v)), v);
  for (std::size_t i = 1; i < std::size(values); ++i) EXPECT_LT(encode_u64(values[i - 1]), encode_u64(values[i]));
  EXPECT_EQ(encode_u64(0), INT64_MIN);
  EXPECT_EQ(encode_u64(kMax), INT64_MAX);
}

TEST(SqliteStorage, WritesAndReadsBackExtremeValues) {
  TempDir dir;
  auto s = open_writer(dir);
  WriteBatch batch;
  batch.genesis_validators_root = root(5);
  batch.validators = {{1, pubkey(1)}, {2, pubkey(2)}};
  batch.blocks = {
      {1, {kMax, root(1)}}, {1, {1ULL << 63, std::nullopt}}, {1, {0, root(2)}}, {2, {(1ULL << 63) - 1, {}}}};
  batch.attestations = {{1, {kMax - 1, kMax, root(3)}}, {1, {0, 0, std::nullopt}}, {2, {kMax, kMax - 1, root(4)}}};
  batch.import_watermarks = {{1, 0, kMax - 1, kMax}};
  ASSERT_TRUE(s->write(batch));

  auto snap = s->read({});
  ASSERT_TRUE(snap) << snap.error();
  EXPECT_EQ(snap->genesis_validators_root, root(5));
  EXPECT_EQ(snap->max_validator_id, 2);
  ASSERT_EQ(snap->validators.size(), 2u);
  const auto& v1 = snap->validators[0];
  EXPECT_EQ(v1.pubkey, pubkey(1));
  ASSERT_EQ(v1.blocks.size(), 3u);  // in unsigned order
  EXPECT_EQ(v1.blocks[0].slot, 0u);
  EXPECT_EQ(v1.blocks[0].signing_root, root(2));
  EXPECT_EQ(v1.blocks[1].slot, 1ULL << 63);
  EXPECT_FALSE(v1.blocks[1].signing_root);
  EXPECT_EQ(v1.blocks[2].slot, kMax);
  ASSERT_EQ(v1.attestations.size(), 2u);
  EXPECT_EQ(v1.attestations[1].source_epoch, kMax - 1);
  EXPECT_EQ(v1.attestations[1].target_epoch, kMax);
  EXPECT_EQ(v1.watermarks.import_min_slot, 0u);
  EXPECT_EQ(v1.watermarks.import_min_target, kMax);
  EXPECT_FALSE(v1.watermarks.pruned_max_slot);
  EXPECT_EQ(snap->validators[1].attestations[0].source_epoch, kMax);

  // One validator by pubkey; unknown pubkeys are left out.
  const Bytes48 wanted[] = {pubkey(2), pubkey(9)};
  auto one = s->read(wanted);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->validators.size(), 1u);
  EXPECT_EQ(one->validators[0].blocks[0].slot, (1ULL << 63) - 1);
}

TEST(SqliteStorage, UpsertsMergeRootsAndPruningDeletesUpToTheWatermark) {
  TempDir dir;
  auto s = open_writer(dir);
  WriteBatch first;
  first.validators = {{1, pubkey(1)}};
  first.blocks = {{1, {10, root(1)}}, {1, {11, root(1)}}, {1, {12, std::nullopt}}, {1, {40, root(1)}}};
  first.attestations = {{1, {1, 2, root(1)}}, {1, {2, 3, root(1)}}, {1, {3, 9, root(1)}}};
  ASSERT_TRUE(s->write(first));
  WriteBatch second;
  second.blocks = {{1, {10, root(1)}}, {1, {11, root(2)}}, {1, {12, root(1)}}};
  second.attestations = {{1, {1, 2, root(1)}}, {1, {2, 3, std::nullopt}}};
  second.prunes = {{1, 10, 1, 2}};
  ASSERT_TRUE(s->write(second));
  auto snap = s->read({});
  ASSERT_TRUE(snap);
  const auto& v = snap->validators.at(0);
  ASSERT_EQ(v.blocks.size(), 3u);  // slot 10 pruned
  EXPECT_EQ(v.blocks[0].slot, 11u);
  EXPECT_FALSE(v.blocks[0].signing_root);  // two roots: unknown
  EXPECT_FALSE(v.blocks[1].signing_root);  // unknown stays unknown
  ASSERT_EQ(v.attestations.size(), 2u);    // (1, 2) pruned
  EXPECT_FALSE(v.attestations[0].signing_root);
  EXPECT_EQ(v.attestations[1].signing_root, root(1));
  EXPECT_EQ(v.watermarks.pruned_max_slot, 10u);
  EXPECT_EQ(v.watermarks.pruned_max_source, 1u);
  EXPECT_EQ(v.watermarks.pruned_max_target, 2u);
  EXPECT_FALSE(v.watermarks.import_min_slot);
}

TEST(SqliteStorage, AFailingBatchWritesNothing) {
  TempDir dir;
  auto s = open_writer(dir);
  WriteBatch first;
  first.genesis_validators_root = root(1);
  ASSERT_TRUE(s->write(first));
  WriteBatch bad;
  bad.genesis_validators_root = root(2);  // differs from the stored one: the whole batch fails
  bad.validators = {{1, pubkey(1)}};
  bad.blocks = {{1, {10, root(1)}}};
  auto r = s->write(bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("genesis"), std::string::npos) << r.error();
  WriteBatch orphan;  // a row for a validator that does not exist: the foreign key fails it
  orphan.blocks = {{7, {10, root(1)}}};
  EXPECT_FALSE(s->write(orphan));
  auto snap = s->read({});
  ASSERT_TRUE(snap);
  EXPECT_TRUE(snap->validators.empty());
  EXPECT_EQ(snap->genesis_validators_root, root(1));
  EXPECT_TRUE(s->probe());  // and the connection still works
}

TEST(SqliteStorage, SchemaIsVersionedAndMigratedOnce) {
  TempDir dir;
  { auto s = open_writer(dir); }
  { auto s = open_writer(dir); }  // reopening does not migrate again
  RawConnection raw(dir.db());
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM schema_version"), 1);
  EXPECT_EQ(raw.scalar("SELECT MAX(version) FROM schema_version"), SqliteStorage::latest_schema_version());
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_master WHERE name IN ('metadata', 'validators', "
                       "'signed_blocks', 'signed_attestations', 'watermarks')"),
            5);
  // Persistent settings: WAL.
  EXPECT_EQ(raw.scalar("SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
  // A database from a newer cachet is refused, not written.
  ASSERT_EQ(raw.exec("INSERT INTO schema_version VALUES (99)"), SQLITE_OK);
  auto newer = SqliteStorage::open(dir.db(), false, 100ms);
  ASSERT_FALSE(newer);
  EXPECT_NE(newer.error().find("newer"), std::string::npos) << newer.error();
  auto newer_ro = SqliteStorage::open(dir.db(), true, 100ms);
  ASSERT_FALSE(newer_ro);
}

TEST(SqliteStorage, LockFileKeepsASecondWriterOutButNotReaders) {
  TempDir dir;
  auto s = open_writer(dir);
  auto second = SqliteStorage::open(dir.db(), false, 100ms);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), "slashing protection database " + dir.db() + " is in use by another process");
  auto reader = SqliteStorage::open(dir.db(), true, 100ms);
  ASSERT_TRUE(reader) << reader.error();
  EXPECT_TRUE((*reader)->read({}));
  EXPECT_FALSE((*reader)->write(WriteBatch{}));
  EXPECT_FALSE((*reader)->probe());
  s.reset();  // the lock goes with the writer
  EXPECT_TRUE(SqliteStorage::open(dir.db(), false, 100ms));
}

TEST(SqliteStorage, ReadOnlyOpenOfAClosedDatabase) {
  TempDir dir;
  {
    auto s = open_writer(dir);
    WriteBatch b;
    b.validators = {{1, pubkey(1)}};
    b.blocks = {{1, {3, root(3)}}};
    ASSERT_TRUE(s->write(b));
  }
  auto reader = SqliteStorage::open(dir.db(), true, 100ms);
  ASSERT_TRUE(reader) << reader.error();
  auto snap = (*reader)->read({});
  ASSERT_TRUE(snap) << snap.error();
  ASSERT_EQ(snap->validators.size(), 1u);
  EXPECT_EQ(snap->validators[0].blocks.at(0).slot, 3u);
}

TEST(SqliteStorage, OpenErrorsSayWhatIsWrong) {
  TempDir dir;
  auto missing_dir = SqliteStorage::open((dir.path() / "nope" / "x.sqlite").string(), false, 100ms);
  ASSERT_FALSE(missing_dir);
  EXPECT_NE(missing_dir.error().find("does not exist"), std::string::npos) << missing_dir.error();
  auto missing_file = SqliteStorage::open((dir.path() / "x.sqlite").string(), true, 100ms);
  ASSERT_FALSE(missing_file);
  EXPECT_NE(missing_file.error().find("does not exist"), std::string::npos) << missing_file.error();
  {
    RawConnection other((dir.path() / "other.sqlite").string());
    other.exec("CREATE TABLE t(x)");
  }
  for (bool read_only : {true, false}) {
    auto foreign = SqliteStorage::open((dir.path() / "other.sqlite").string(), read_only, 100ms);
    ASSERT_FALSE(foreign);
    EXPECT_NE(foreign.error().find("not a slashing protection database"), std::string::npos) << foreign.error();
  }
  RawConnection other((dir.path() / "other.sqlite").string());
  EXPECT_EQ(other.scalar("SELECT count(*) FROM sqlite_master"), 1);  // left as it was
}

TEST(SqliteStorage, ProbeFailsWhileAnotherConnectionHoldsTheWriteLock) {
  TempDir dir;
  auto s = open_writer(dir);
  EXPECT_TRUE(s->probe());
  RawConnection other(dir.db());
  ASSERT_EQ(other.exec("BEGIN EXCLUSIVE"), SQLITE_OK);
  EXPECT_FALSE(s->probe());
  WriteBatch b;
  b.validators = {{1, pubkey(1)}};
  EXPECT_FALSE(s->write(b));
  ASSERT_EQ(other.exec("COMMIT"), SQLITE_OK);
  EXPECT_TRUE(s->probe());
  EXPECT_TRUE(s->write(b));
}

// The SQLite storage on its own: encoding, the transaction primitives, migrations, the one-owner lock on the file
// itself (not its name), and a database file deleted or replaced under a running signer.
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
using Kind = Decision::Kind;

namespace {

constexpr std::uint64_t kMax = ~std::uint64_t{0};

std::unique_ptr<SqliteStorage> open_writer(const TempDir& dir) {
  auto s = SqliteStorage::open(dir.db(), false, 200ms);
  EXPECT_TRUE(s) << s.error();
  return s ? std::move(*s) : nullptr;
}

std::unique_ptr<Transaction> begin(Storage& s, bool write) {
  auto t = s.begin(write);
  EXPECT_TRUE(t) << t.error().message;
  return t ? std::move(*t) : nullptr;
}

}  // namespace

TEST(SqliteStorage, U64EncodingIsAnOrderPreservingBijection) {
  const std::uint64_t values[] = {0, 1, 2, (1ULL << 63) - 1, 1ULL << 63, (1ULL << 63) + 1, kMax - 1, kMax};
  for (auto v : values) EXPECT_EQ(decode_u64(encode_u64(v)), v);
  for (std::size_t i = 1; i < std::size(values); ++i) EXPECT_LT(encode_u64(values[i - 1]), encode_u64(values[i]));
  EXPECT_EQ(encode_u64(0), INT64_MIN);
  EXPECT_EQ(encode_u64(kMax), INT64_MAX);
}

TEST(SqliteStorage, PrimitivesWriteAndReadBackExtremeValues) {
  TempDir dir;
  auto s = open_writer(dir);
  {
    auto t = begin(*s, true);
    ASSERT_TRUE(t->insert_genesis_root(root(5)));
    ASSERT_TRUE(t->insert_genesis_root(root(6)));  // the first one stays
    const Bytes48 pks[] = {pubkey(1), pubkey(2)};
    auto ids = t->lock_validators(pks, true);
    ASSERT_TRUE(ids);
    const std::int64_t a = *(*ids)[0], b = *(*ids)[1];
    ASSERT_TRUE(t->insert_signed(
        std::vector<std::pair<std::int64_t, SignedBlock>>{{a, {kMax, root(1)}}, {a, {0, root(2)}}, {b, {5, {}}}},
        std::vector<std::pair<std::int64_t, SignedAttestation>>{{a, {kMax - 1, kMax, root(3)}}, {b, {0, 0, {}}}}));
    ASSERT_TRUE(t->commit());
  }
  auto t = begin(*s, false);
  EXPECT_EQ(t->genesis_root().value(), root(5));
  auto listed = t->list_validators(0, 10);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].second, pubkey(1));
  const std::int64_t ids[] = {(*listed)[0].first};
  auto rows = t->read_full(ids);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->blocks.size(), 2u);  // in unsigned order
  EXPECT_EQ(rows->blocks[0].second.slot, 0u);
  EXPECT_EQ(rows->blocks[1].second.slot, kMax);
  ASSERT_EQ(rows->attestations.size(), 1u);
  EXPECT_EQ(rows->attestations[0].second.target_epoch, kMax);
  // The relevant read finds the same-target row and the surrounding one, nothing else.
  const RelevantQuery q[] = {{ids[0], false, 0, kMax - 2, kMax}, {ids[0], true, kMax, 0, 0}};
  auto relevant = t->read_relevant(q);
  ASSERT_TRUE(relevant);
  EXPECT_EQ(relevant->attestations.size(), 1u);
  EXPECT_EQ(relevant->blocks.size(), 1u);
}

TEST(SqliteStorage, TheBackstopRefusesASecondRootAtOneTargetOrSlot) {
  TempDir dir;
  auto s = open_writer(dir);
  auto t = begin(*s, true);
  const Bytes48 pks[] = {pubkey(1)};
  const std::int64_t id = *t->lock_validators(pks, true).value()[0];
  ASSERT_TRUE(t->insert_signed({}, std::vector<std::pair<std::int64_t, SignedAttestation>>{{id, {1, 5, root(1)}}}));
  auto second = t->insert_signed({}, std::vector<std::pair<std::int64_t, SignedAttestation>>{{id, {2, 5, root(2)}}});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, DbError::Kind::Retryable);
  auto block =
      t->insert_signed(std::vector<std::pair<std::int64_t, SignedBlock>>{{id, {9, root(1)}}, {id, {9, root(2)}}}, {});
  EXPECT_FALSE(block);
}

TEST(SqliteStorage, SchemaOneIsMigratedAndItsDoubleVotesLoseTheirRoots) {
  TempDir dir;
  {
    RawConnection raw(dir.db());
    // A version-1 database as the previous cachet wrote it, with an imported double vote (two roots at target 5).
    const std::string sql =
        "CREATE TABLE schema_version(version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);"
        "CREATE TABLE metadata(id INTEGER PRIMARY KEY, genesis_validators_root BLOB NOT NULL);"
        "CREATE TABLE validators(id INTEGER PRIMARY KEY, pubkey BLOB NOT NULL UNIQUE);"
        "CREATE TABLE signed_blocks(validator_id INTEGER NOT NULL, slot INTEGER NOT NULL, "
        "signing_root BLOB, PRIMARY KEY (validator_id, slot)) WITHOUT ROWID;"
        "CREATE TABLE signed_attestations(validator_id INTEGER NOT NULL, source_epoch INTEGER NOT NULL,"
        " target_epoch INTEGER NOT NULL, signing_root BLOB,"
        " PRIMARY KEY (validator_id, target_epoch, source_epoch)) WITHOUT ROWID;"
        "CREATE TABLE watermarks(validator_id INTEGER PRIMARY KEY, import_min_slot INTEGER,"
        " import_min_source INTEGER, import_min_target INTEGER, pruned_max_slot INTEGER,"
        " pruned_max_source INTEGER, pruned_max_target INTEGER);"
        "INSERT INTO validators VALUES (1, x'" +
        to_hex(pubkey(1), false) +
        "');"
        "INSERT INTO signed_attestations VALUES (1, 1, 5, x'" +
        to_hex(root(1), false) + "'), (1, 2, 5, x'" + to_hex(root(2), false) + "');";
    ASSERT_EQ(raw.exec(sql.c_str()), SQLITE_OK);
  }
  auto s = open_writer(dir);
  ASSERT_TRUE(s);
  RawConnection raw(dir.db());
  EXPECT_EQ(raw.scalar("SELECT max(version) FROM schema_version"), SqliteStorage::latest_schema_version());
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM signed_attestations WHERE signing_root IS NULL"), 2);
  // A newer schema than this binary knows is refused, not written.
  ASSERT_EQ(raw.exec("INSERT INTO schema_version VALUES (99)"), SQLITE_OK);
  s.reset();
  auto newer = SqliteStorage::open(dir.db(), false, 100ms);
  ASSERT_FALSE(newer);
  EXPECT_NE(newer.error().find("newer"), std::string::npos) << newer.error();
  EXPECT_FALSE(SqliteStorage::open(dir.db(), true, 100ms));
}

TEST(SqliteStorage, TheLockIsOnTheFileNotItsName) {
  TempDir dir;
  auto s = open_writer(dir);
  const auto link = (dir.path() / "hard.sqlite").string();
  const auto sym = (dir.path() / "sym.sqlite").string();
  std::filesystem::create_hard_link(dir.db(), link);
  std::filesystem::create_symlink(dir.db(), sym);
  for (const auto& path : {dir.db(), link, sym}) {
    auto second = SqliteStorage::open(path, false, 100ms);
    ASSERT_FALSE(second) << path;
    EXPECT_EQ(second.error(), "slashing protection database " + path + " is in use by another process");
  }
  auto reader = SqliteStorage::open(dir.db(), true, 100ms);  // exports still work beside the signer
  ASSERT_TRUE(reader) << reader.error();
  EXPECT_TRUE((*reader)->begin(false));
  EXPECT_FALSE((*reader)->begin(true));
  EXPECT_FALSE((*reader)->probe());
  reader->reset();
  s.reset();  // the lock goes with the writer
  auto again = SqliteStorage::open(link, false, 100ms);
  EXPECT_TRUE(again) << again.error();
}

TEST(SqliteStorage, ADatabaseDeletedOrReplacedUnderTheSignerIsUnavailable) {
  for (bool replace : {false, true}) {
    TempDir dir;
    Options options;
    options.commit_timeout = 500ms;
    auto p = SlashingProtection::open(dir.url(), options);
    ASSERT_TRUE(p) << p.error();
    ASSERT_EQ(cases::decide(**p, cases::attestation(0, 1, 2, 1)).kind, Kind::Sign);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(dir.db() + suffix);
    if (replace) {
      RawConnection fresh(dir.db());  // another, empty database under the same name
      fresh.exec("CREATE TABLE x(y)");
    }
    // Neither the double vote nor anything else is signed into a file nobody will ever read again.
    auto d = cases::decide(**p, cases::attestation(0, 1, 2, 2));
    EXPECT_EQ(d.kind, Kind::Unavailable) << d.message;
    EXPECT_NE(d.message.find(replace ? "replaced" : "gone"), std::string::npos) << d.message;
    EXPECT_FALSE((*p)->healthy());
    std::this_thread::sleep_for(700ms);  // probes keep failing: it stays down
    EXPECT_FALSE((*p)->healthy());
    EXPECT_EQ(cases::decide(**p, cases::attestation(1, 1, 2, 1)).kind, Kind::Unavailable);
  }
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

TEST(SqliteStorage, ProbeAndWritesFailWhileAnotherConnectionHoldsTheWriteLock) {
  TempDir dir;
  auto s = open_writer(dir);
  EXPECT_TRUE(s->probe());
  RawConnection other(dir.db());
  ASSERT_EQ(other.exec("BEGIN EXCLUSIVE"), SQLITE_OK);
  EXPECT_FALSE(s->probe());
  auto t = s->begin(true);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, DbError::Kind::Unavailable);
  ASSERT_EQ(other.exec("COMMIT"), SQLITE_OK);
  EXPECT_TRUE(s->probe());
  EXPECT_TRUE(s->begin(true));
}

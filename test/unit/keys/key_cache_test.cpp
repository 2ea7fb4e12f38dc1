// The encrypted key cache file: round trip, mode 0600, no secret in the clear, the password bound to every
// keystore's password, tampering and corruption refused.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <cachet/keys/key_cache.hpp>
#include <cachet/keys/key_service.hpp>
#include <cachet/keys/keystore_loader.hpp>

#include "key_test_files.hpp"

using namespace cachet;
using namespace cachet::keys;
using namespace cachet::keys::test;

namespace {

crypto::KeystoreParams cheap_kdf() {
  crypto::KeystoreParams p;
  p.scrypt_n = 1 << 10;  // tests only: the signer's cache uses EIP-2335's 2^18
  return p;
}

std::vector<std::shared_ptr<const Key>> load_three(const TempDir& dir) {
  for (std::uint8_t i = 1; i <= 3; ++i) write_keystore(dir, "k" + std::to_string(i), i);
  auto loaded = load_keys({{dir.keystores(), dir.passwords(), {}, KeySource::External}}, {});
  EXPECT_EQ(loaded.keys.size(), 3u);
  return loaded.keys;
}

}  // namespace

TEST(KeyCache, DefaultCostIsEip2335s) {
  EXPECT_EQ(KeyServiceOptions{}.cache_kdf.kdf, crypto::Kdf::Scrypt);
  EXPECT_EQ(KeyServiceOptions{}.cache_kdf.scrypt_n, 1u << 18);
}

TEST(KeyCache, RoundTripsEveryKeyWithItsOrigin) {
  TempDir dir;
  auto keys = load_three(dir);
  const auto file = dir.root() / "key-cache";
  ASSERT_TRUE(write_key_cache(file, keys, cheap_kdf()));

  auto cache = KeyCache::read(file);
  ASSERT_TRUE(cache) << cache.error();
  ASSERT_TRUE(*cache);
  ASSERT_EQ((*cache)->entries().size(), 3u);
  auto secrets = (*cache)->decrypt({});
  ASSERT_TRUE(secrets) << secrets.error();
  for (std::size_t i = 0; i < 3; ++i) {
    auto key = (*cache)->key(i, *secrets);
    ASSERT_TRUE(key) << key.error();
    EXPECT_EQ((*key)->pubkey, keys[i]->pubkey);  // both sorted by path
    EXPECT_EQ((*key)->secret.to_bytes(), keys[i]->secret.to_bytes());
    EXPECT_EQ((*key)->keystore_path, keys[i]->keystore_path);
    EXPECT_EQ((*key)->password_path, keys[i]->password_path);
    EXPECT_EQ((*key)->keystore_sha256, keys[i]->keystore_sha256);
    EXPECT_EQ((*key)->password_digest.bytes, keys[i]->password_digest.bytes);
  }
}

TEST(KeyCache, IsPrivateAndHoldsNoSecretInTheClear) {
  TempDir dir;
  auto keys = load_three(dir);
  const auto file = dir.root() / "key-cache";
  ASSERT_TRUE(write_key_cache(file, keys, cheap_kdf()));
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string text = read(file);
  for (const auto& k : keys) {
    const auto secret = k->secret.to_bytes();
    EXPECT_EQ(text.find(std::string(secret.begin(), secret.end())), std::string::npos);
    EXPECT_EQ(text.find(to_hex(secret, false)), std::string::npos);
  }
  for (std::uint8_t i = 1; i <= 3; ++i) EXPECT_EQ(text.find("pw-k" + std::to_string(i)), std::string::npos);
  // A fresh salt and IV on every write.
  ASSERT_TRUE(write_key_cache(file, keys, cheap_kdf()));
  EXPECT_NE(read(file), text);
}

TEST(KeyCache, NeedsEveryKeystoresPassword) {
  TempDir dir;
  auto keys = load_three(dir);
  const auto file = dir.root() / "key-cache";
  ASSERT_TRUE(write_key_cache(file, keys, cheap_kdf()));
  write(dir.passwords() / "k2.txt", "another password\n");
  auto cache = KeyCache::read(file);
  ASSERT_TRUE(cache && *cache);
  auto secrets = (*cache)->decrypt({});
  ASSERT_FALSE(secrets);
  EXPECT_NE(secrets.error().find("checksum mismatch"), std::string::npos);
  std::filesystem::remove(dir.passwords() / "k2.txt");
  auto without = (*cache)->decrypt({});
  ASSERT_FALSE(without);
  EXPECT_NE(without.error().find("k2.txt"), std::string::npos);
}

TEST(KeyCache, RefusesEditedEntriesAndCorruptFiles) {
  TempDir dir;
  auto keys = load_three(dir);
  const auto file = dir.root() / "key-cache";
  ASSERT_TRUE(write_key_cache(file, keys, cheap_kdf()));
  // Swap two entries' pubkeys (as someone who can write the file but knows no password could).
  auto json = boost::json::parse(read(file));
  auto& entries = json.at("entries").as_array();
  std::swap(entries[0].as_object()["keystore"], entries[1].as_object()["keystore"]);
  write(file, boost::json::serialize(json));
  auto cache = KeyCache::read(file);
  ASSERT_TRUE(cache && *cache);
  auto secrets = (*cache)->decrypt({});
  ASSERT_FALSE(secrets);
  EXPECT_NE(secrets.error().find("entries are not those"), std::string::npos);

  write(file, "{\"version\":1,\"entries\":[");
  EXPECT_FALSE(KeyCache::read(file));
  std::filesystem::remove(file);
  auto none = KeyCache::read(file);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST(KeyCache, AnEmptyKeySetRemovesTheFile) {
  TempDir dir;
  auto keys = load_three(dir);
  const auto file = dir.root() / "key-cache";
  ASSERT_TRUE(write_key_cache(file, keys, cheap_kdf()));
  ASSERT_TRUE(write_key_cache(file, {}, cheap_kdf()));
  EXPECT_FALSE(std::filesystem::exists(file));
}

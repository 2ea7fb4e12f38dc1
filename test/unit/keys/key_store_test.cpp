// KeyStore: the map semantics and a concurrent find/insert/erase smoke test (run it under -fsanitize=thread too).
#include <gtest/gtest.h>

#include <atomic>
#include <cachet/keys/key_store.hpp>
#include <thread>

using namespace cachet;
using namespace cachet::keys;

namespace {

// Secret key i + 1 (a valid scalar for any small i).
std::shared_ptr<const Key> make_key(unsigned i, KeySource source = KeySource::External) {
  Bytes32 bytes{};
  bytes[31] = static_cast<std::uint8_t>(i + 1);
  bytes[30] = static_cast<std::uint8_t>((i + 1) >> 8);
  auto sk = crypto::SecretKey::from_bytes(bytes).value();
  auto pubkey = sk.public_key();
  return std::make_shared<const Key>(Key{std::move(sk), pubkey, source, "m/12381/3600/" + std::to_string(i) + "/0/0",
                                         "/keys/" + std::to_string(i) + ".json"});
}

}  // namespace

TEST(KeyStore, InsertFindEraseList) {
  KeyStore store;
  auto a = make_key(0), b = make_key(1, KeySource::Managed);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.find(a->pubkey), nullptr);
  EXPECT_TRUE(store.insert(a));
  EXPECT_TRUE(store.insert(b));
  EXPECT_FALSE(store.insert(make_key(0)));  // same pubkey: refused, the first stays
  EXPECT_FALSE(store.insert(nullptr));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.find(a->pubkey), a);
  EXPECT_TRUE(store.find(a->pubkey)->readonly());
  EXPECT_FALSE(store.find(b->pubkey)->readonly());

  auto listed = store.list();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE((listed[0] == a && listed[1] == b) || (listed[0] == b && listed[1] == a));

  auto in_use = store.find(a->pubkey);
  auto removed = store.erase(a->pubkey);
  EXPECT_EQ(removed, a);
  EXPECT_EQ(store.erase(a->pubkey), nullptr);
  EXPECT_EQ(store.find(a->pubkey), nullptr);
  EXPECT_EQ(store.size(), 1u);
  // A request still holding the key can sign with it after removal.
  std::vector<std::uint8_t> message(32, 7);
  EXPECT_TRUE(crypto::verify(in_use->pubkey, message, in_use->secret.sign(message)));
}

TEST(KeyStore, ConcurrentFindInsertErase) {
  constexpr unsigned kKeys = 64;
  std::vector<std::shared_ptr<const Key>> keys;
  for (unsigned i = 0; i < kKeys; ++i) keys.push_back(make_key(i));
  KeyStore store;
  for (unsigned i = 0; i < kKeys / 2; ++i) ASSERT_TRUE(store.insert(keys[i]));

  std::atomic<bool> stop{false};
  std::atomic<std::size_t> wrong{0};
  {
    std::vector<std::jthread> readers;
    for (int t = 0; t < 2; ++t)
      readers.emplace_back([&] {
        while (!stop.load()) {
          for (unsigned i = 0; i < kKeys / 2; ++i)  // the first half is never erased
            if (store.find(keys[i]->pubkey) != keys[i]) ++wrong;
          for (unsigned i = kKeys / 2; i < kKeys; ++i)
            if (auto k = store.find(keys[i]->pubkey); k && k != keys[i]) ++wrong;
          (void)store.list();
        }
      });
    std::jthread writer([&] {
      for (int round = 0; round < 200; ++round) {
        for (unsigned i = kKeys / 2; i < kKeys; ++i) store.insert(keys[i]);
        for (unsigned i = kKeys / 2; i < kKeys; i += 2) store.erase(keys[i]->pubkey);
      }
    });
    writer.join();
    stop = true;
  }
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_EQ(store.size(), kKeys / 2 + kKeys / 4);
}

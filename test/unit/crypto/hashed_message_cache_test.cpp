#include <gtest/gtest.h>

#include <cachet/crypto/hashed_message_cache.hpp>
#include <thread>
#include <vector>

using namespace cachet;
using namespace cachet::crypto;

namespace {
Bytes32 root_of(std::uint32_t i) {
  Bytes32 r{};
  r[0] = static_cast<std::uint8_t>(i * 37);
  r[31] = static_cast<std::uint8_t>(i);
  r[30] = static_cast<std::uint8_t>(i >> 8);
  return r;
}
SecretKey key() {
  Bytes32 sk{};
  sk[31] = 7;
  return *SecretKey::from_bytes(sk);
}
}  // namespace

TEST(HashedMessageCache, SignaturesEqualUncachedAndVerify) {
  HashedMessageCache cache(64);
  const auto sk = key();
  for (std::uint32_t i = 0; i < 10; ++i) {
    const auto root = root_of(i);
    const auto sig = sk.sign(cache.get(root));
    EXPECT_EQ(sig, sk.sign(root));
    EXPECT_EQ(sk.sign(cache.get(root)), sig);  // the cached point signs the same
    EXPECT_TRUE(verify(sk.public_key(), root, sig));
  }
  EXPECT_EQ(cache.misses(), 10u);
  EXPECT_EQ(cache.hits(), 10u);
}

TEST(HashedMessageCache, BoundedAndEvictsOldest) {
  HashedMessageCache cache(16);  // one entry per shard
  for (std::uint32_t i = 0; i < 200; ++i) cache.get(root_of(i));
  const auto misses = cache.misses();
  cache.get(root_of(199));  // the newest is still there
  EXPECT_EQ(cache.misses(), misses);
  cache.get(root_of(0));  // long evicted
  EXPECT_EQ(cache.misses(), misses + 1);
}

TEST(HashedMessageCache, DisabledAlwaysHashes) {
  HashedMessageCache cache(0);
  cache.get(root_of(1));
  cache.get(root_of(1));
  EXPECT_EQ(cache.hits(), 0u);
}

TEST(HashedMessageCache, ConcurrentUse) {
  HashedMessageCache cache(32);
  const auto sk = key();
  std::vector<std::jthread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (std::uint32_t i = 0; i < 40; ++i) {
        const auto root = root_of((i + t) % 48);
        if (sk.sign(cache.get(root)) != sk.sign(root)) ++wrong;
      }
    });
  threads.clear();
  EXPECT_EQ(wrong.load(), 0);
}

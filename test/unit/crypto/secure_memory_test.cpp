#include <gtest/gtest.h>

#include <cachet/crypto/bls.hpp>
#include <cachet/crypto/secure_memory.hpp>
#include <cstring>
#include <fstream>
#include <string>

using namespace cachet;

namespace {
// VmLck from /proc/self/status, in kB.
long locked_kb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmLck:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
}  // namespace

TEST(SecureMemory, SecretKeysLiveInLockedMemoryAndAreWipedOnFree) {
#ifdef CACHET_MLOCK_UNAVAILABLE
  GTEST_SKIP() << "sanitizer runtimes replace mlock with a no-op";
#endif
  Bytes32 sk{};
  sk[31] = 42;
  {
    auto key = crypto::SecretKey::from_bytes(sk);
    ASSERT_TRUE(key);
    EXPECT_GT(locked_kb(), 0) << "the key's page is not locked";
    EXPECT_TRUE(crypto::secure_memory_locked());
  }
  // A freed slot is wiped before it can be reused.
  void* slot = crypto::allocate_secret_slot();
  std::memset(slot, 0xab, 32);
  crypto::free_secret_slot(slot);
  const auto* bytes = static_cast<const unsigned char*>(slot);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(bytes[i], 0) << i;
}

TEST(SecureMemory, ManyKeys) {
  std::vector<crypto::SecretKey> keys;
  for (int i = 1; i <= 1000; ++i) {
    Bytes32 sk{};
    sk[30] = static_cast<std::uint8_t>(i >> 8);
    sk[31] = static_cast<std::uint8_t>(i);
    keys.push_back(*crypto::SecretKey::from_bytes(sk));
  }
  Bytes32 probe{};
  probe[31] = 1;
  EXPECT_EQ(keys[0].public_key(), crypto::SecretKey::from_bytes(probe)->public_key());
}

// lib/commit_boost: the domain, ProxyDelegation roots, secp256k1 keys and addresses, and the proxy key store on a real
// directory. Expected values come from outside Cachet (see each test).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cachet/commit_boost/ecdsa.hpp>
#include <cachet/commit_boost/proxy_key_store.hpp>
#include <cachet/commit_boost/signing_root.hpp>
#include <filesystem>
#include <random>

using namespace cachet;
using namespace cachet::commit_boost;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("cachet-cb-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

crypto::KeystoreParams cheap() {
  crypto::KeystoreParams p;
  p.scrypt_n = 16;
  return p;
}

}  // namespace

// Values from test/reference/verify_commit_boost.mjs (@chainsafe/ssz), run by hand for these fork versions.
TEST(CommitBoostDomain, MatchesTheIndependentReference) {
  EXPECT_EQ(to_hex(domain({0, 0, 0, 0})), "0x6d6d6f43f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a9");
  EXPECT_EQ(to_hex(domain({0x10, 0x00, 0x09, 0x10})),
            "0x6d6d6f43719103511efa4f1362ff2a50996cccf329cc84cb410c5e5c7d351d03");
}

TEST(CommitBoostDelegation, BlsAndAddressProxiesHashAsByteVectors) {
  // hash_tree_root of a 48-byte vector is two chunks; of a 20-byte vector one chunk: roots differ by proxy kind, and
  // both differ from the delegator alone.
  Bytes48 delegator{};
  delegator[0] = 1;
  Bytes48 bls{};
  bls[0] = 2;
  Bytes20 address{};
  address[0] = 2;
  EXPECT_NE(proxy_delegation_root(delegator, bls), proxy_delegation_root(delegator, address));
  EXPECT_NE(proxy_delegation_root(delegator, bls), proxy_delegation_root(bls, delegator));
}

// Keccak-256 of the empty string (Ethereum's well-known value, not SHA3-256's a7ffc6f8…).
TEST(CommitBoostEcdsa, KeccakIsEthereumsNotSha3) {
  EXPECT_EQ(to_hex(keccak256({})), "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

// The secret key 1 has the well-known address 0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf.
TEST(CommitBoostEcdsa, AddressOfSecretKeyOne) {
  std::array<std::uint8_t, 32> one{};
  one[31] = 1;
  auto key = EcdsaSecretKey::from_bytes(one);
  ASSERT_TRUE(key);
  EXPECT_EQ(to_hex(key->address()), "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
}

TEST(CommitBoostEcdsa, SignaturesRecoverTheAddressAndAreDeterministic) {
  auto key = EcdsaSecretKey::generate();
  ASSERT_TRUE(key);
  Bytes32 root{};
  root[5] = 9;
  const auto sig = key->sign(root);
  EXPECT_TRUE(sig[64] == 27 || sig[64] == 28);
  EXPECT_EQ(key->sign(root), sig);  // RFC 6979
  auto signer = recover_address(root, sig);
  ASSERT_TRUE(signer);
  EXPECT_EQ(*signer, key->address());
  root[0] ^= 1;
  EXPECT_NE(*recover_address(root, sig), key->address());
}

TEST(CommitBoostEcdsa, RefusesInvalidSecrets) {
  std::array<std::uint8_t, 32> zero{};
  EXPECT_FALSE(EcdsaSecretKey::from_bytes(zero));
  std::array<std::uint8_t, 32> high;
  high.fill(0xff);
  EXPECT_FALSE(EcdsaSecretKey::from_bytes(high));
}

TEST(CommitBoostProxyKeyStore, PersistsEncryptedAndReloadsPerModule) {
  TempDir dir;
  crypto::PublicKey delegator{};
  delegator[0] = 0xaa;
  crypto::PublicKey bls_pubkey;
  EcdsaAddress address;
  {
    ProxyKeyStore store(dir.path, cheap());
    auto bls = store.add_bls("mod-a", delegator, *crypto::SecretKey::generate());
    ASSERT_TRUE(bls) << bls.error();
    bls_pubkey = (*bls)->pubkey;
    auto ecdsa = store.add_ecdsa("mod-a", delegator, *EcdsaSecretKey::generate());
    ASSERT_TRUE(ecdsa) << ecdsa.error();
    address = (*ecdsa)->address();
  }
  const auto bls_file = dir.path / "mod-a" / to_hex(delegator) / "bls" / (to_hex(bls_pubkey) + ".json");
  const auto ecdsa_file = dir.path / "mod-a" / to_hex(delegator) / "ecdsa" / (to_hex(address) + ".json");
  ASSERT_TRUE(std::filesystem::exists(bls_file));
  ASSERT_TRUE(std::filesystem::exists(ecdsa_file));
  struct stat st {};
  ASSERT_EQ(::stat(ecdsa_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  ProxyKeyStore reloaded(dir.path, cheap());
  const auto report = reloaded.load();
  EXPECT_EQ(report.loaded, 2u);
  EXPECT_TRUE(report.failures.empty());
  ASSERT_NE(reloaded.find_bls("mod-a", bls_pubkey), nullptr);
  ASSERT_NE(reloaded.find_ecdsa("mod-a", address), nullptr);
  EXPECT_EQ(reloaded.find_bls("mod-b", bls_pubkey), nullptr);  // another module's proxy is not found
  EXPECT_EQ(reloaded.find_ecdsa("mod-b", address), nullptr);
  EXPECT_EQ(reloaded.delegations("mod-a", delegator).bls.size(), 1u);
  EXPECT_TRUE(reloaded.delegations("mod-b", delegator).ecdsa.empty());

  auto removed = reloaded.remove_delegator(delegator);
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 2u);
  EXPECT_EQ(reloaded.find_bls("mod-a", bls_pubkey), nullptr);
  EXPECT_FALSE(std::filesystem::exists(bls_file));
  EXPECT_FALSE(std::filesystem::exists(ecdsa_file));
}

TEST(CommitBoostProxyKeyStore, ReportsATamperedKeystore) {
  TempDir dir;
  crypto::PublicKey delegator{};
  {
    ProxyKeyStore store(dir.path, cheap());
    ASSERT_TRUE(store.add_ecdsa("m", delegator, *EcdsaSecretKey::generate()));
  }
  for (auto& e : std::filesystem::recursive_directory_iterator(dir.path))
    if (e.path().extension() == ".txt") std::filesystem::resize_file(e.path(), 3);  // a wrong password
  ProxyKeyStore reloaded(dir.path, cheap());
  const auto report = reloaded.load();
  EXPECT_EQ(report.loaded, 0u);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_NE(report.failures[0].second.find("checksum"), std::string::npos);
}

TEST(CommitBoostModuleId, OnlySafeDirectoryNames) {
  EXPECT_TRUE(is_valid_module_id("PRECONF_1-a"));
  EXPECT_FALSE(is_valid_module_id(""));
  EXPECT_FALSE(is_valid_module_id(".."));
  EXPECT_FALSE(is_valid_module_id("a/b"));
  EXPECT_FALSE(is_valid_module_id(std::string(65, 'a')));
}

// BLS against the official consensus-spec-tests `sign` vectors and the interop keys (test/data/README-crypto.md).
#include <gtest/gtest.h>

#include <cachet/crypto/bls.hpp>

#include "test_files.hpp"

using namespace cachet;
using namespace cachet::crypto;
using cachet::test::read_json;
using cachet::test::str;

namespace {

std::vector<std::uint8_t> hex(const std::string& text) { return from_hex(text).value(); }

}  // namespace

TEST(Bls, SignVectors) {
  auto vectors = read_json("bls/sign_vectors.json").as_object();
  ASSERT_EQ(vectors.size(), 10u);
  int signed_cases = 0, rejected_cases = 0;
  for (const auto& [name, test_case] : vectors) {
    SCOPED_TRACE(std::string(name));
    const auto& input = test_case.at("input");
    auto privkey = hex(str(input.at("privkey")));
    auto message = hex(str(input.at("message")));
    auto sk = SecretKey::from_bytes(privkey);
    if (test_case.at("output").is_null()) {
      EXPECT_FALSE(sk.has_value()) << "a key the spec says cannot sign was accepted";
      ++rejected_cases;
      continue;
    }
    ASSERT_TRUE(sk.has_value()) << sk.error();
    auto signature = sk->sign(message);
    EXPECT_EQ(to_hex(signature), str(test_case.at("output")));
    // Signing a pre-hashed message must give the same bytes (the server caches hash_to_g2 results).
    EXPECT_EQ(sk->sign(hash_to_g2(message)), signature);

    auto pubkey = sk->public_key();
    EXPECT_TRUE(is_valid_public_key(pubkey));
    EXPECT_TRUE(verify(pubkey, message, signature));
    auto flipped = message;
    flipped[0] ^= 0x01;
    EXPECT_FALSE(verify(pubkey, flipped, signature));
    auto bad_signature = signature;
    bad_signature[95] ^= 0x01;
    EXPECT_FALSE(verify(pubkey, message, bad_signature));
    ++signed_cases;
  }
  EXPECT_EQ(signed_cases, 9);
  EXPECT_EQ(rejected_cases, 1);
}

TEST(Bls, InteropKeys) {
  auto keys = read_json("bls/interop_keys_0_63.json").as_array();
  ASSERT_EQ(keys.size(), 64u);
  for (const auto& entry : keys) {
    SCOPED_TRACE(str(entry.at("privkey")));
    auto sk = SecretKey::from_bytes(hex(str(entry.at("privkey"))));
    ASSERT_TRUE(sk.has_value()) << sk.error();
    EXPECT_EQ(to_hex(sk->public_key()), str(entry.at("pubkey")));
    EXPECT_EQ(to_hex(sk->to_bytes()), str(entry.at("privkey")));
  }
}

TEST(Bls, RejectsBadSecretKeys) {
  EXPECT_FALSE(SecretKey::from_bytes(std::vector<std::uint8_t>(31, 1)));
  EXPECT_FALSE(SecretKey::from_bytes(std::vector<std::uint8_t>(32, 0)));
  // The group order r itself, and all-ones, are not below r.
  EXPECT_FALSE(SecretKey::from_bytes(hex("0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001")));
  EXPECT_FALSE(SecretKey::from_bytes(std::vector<std::uint8_t>(32, 0xff)));
  EXPECT_TRUE(SecretKey::from_bytes(hex("0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000")));
}

TEST(Bls, RejectsInvalidPublicKeysAndSignatures) {
  auto sk = SecretKey::from_bytes(hex("0x25295f0d1d592a90b333e26e85149708208e9f8e8bc18f6c77bd62f8ad7a6866")).value();
  std::vector<std::uint8_t> message(32, 0x42);
  auto signature = sk.sign(message);

  PublicKey infinity{};
  infinity[0] = 0xc0;  // compressed identity
  EXPECT_FALSE(is_valid_public_key(infinity));
  EXPECT_FALSE(verify(infinity, message, signature));
  PublicKey garbage;
  garbage.fill(0xab);
  EXPECT_FALSE(is_valid_public_key(garbage));

  Signature infinity_signature{};
  infinity_signature[0] = 0xc0;
  EXPECT_FALSE(verify(sk.public_key(), message, infinity_signature));

  // Another key's signature does not verify.
  auto other = SecretKey::from_bytes(hex("0x51d0b65185db6989ab0b560d6deed19c7ead0e24b9b6372cbecb1f26bdfad000")).value();
  EXPECT_FALSE(verify(other.public_key(), message, signature));
}

TEST(Bls, MoveKeepsTheKey) {
  auto sk = SecretKey::from_bytes(hex("0x25295f0d1d592a90b333e26e85149708208e9f8e8bc18f6c77bd62f8ad7a6866")).value();
  auto pubkey = sk.public_key();
  SecretKey moved = std::move(sk);
  EXPECT_EQ(moved.public_key(), pubkey);
}

TEST(Bls, Version) { EXPECT_EQ(blst_version(), "0.3.10"); }

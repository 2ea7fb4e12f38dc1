// SSZ merkleization, domains and container roots against a naive reference and the consensus-spec-tests
// ssz_static samples (test/data/ssz/samples.json).
#include "../../../lib/eth/ssz.hpp"

#include <openssl/sha.h>

#include <vector>

#include "../../../lib/eth/containers.hpp"
#include "../../../lib/eth/decode.hpp"
#include "../../../lib/eth/domain.hpp"
#include "eth_test_util.hpp"

namespace cachet::eth {
namespace {

using ssz::Root;
using test::hex;
using test::root;

Root chunk_of(std::uint8_t fill, std::size_t i) {
  Root r{};
  r.fill(fill);
  r[0] = static_cast<std::uint8_t>(i);
  return r;
}

// merkleize() exactly as the SSZ spec writes it: pad to next_pow_of_two(limit) chunks, hash pairwise.
Root naive_merkleize(std::vector<Root> chunks, std::uint64_t limit) {
  std::uint64_t width = 1;
  while (width < limit) width *= 2;
  chunks.resize(width, Root{});
  while (chunks.size() > 1) {
    std::vector<Root> next;
    for (std::size_t i = 0; i < chunks.size(); i += 2) next.push_back(ssz::hash_pair(chunks[i], chunks[i + 1]));
    chunks = std::move(next);
  }
  return chunks[0];
}

TEST(Ssz, HashPairIsSha256OfTheConcatenation) {
  Root a = chunk_of(0x11, 1), b = chunk_of(0x22, 2);
  std::uint8_t both[64];
  std::copy(a.begin(), a.end(), both);
  std::copy(b.begin(), b.end(), both + 32);
  Root expected;
  SHA256(both, sizeof both, expected.data());
  EXPECT_EQ(ssz::hash_pair(a, b), expected);
}

TEST(Ssz, ZeroHashes) {
  EXPECT_EQ(ssz::zero_hash(0), Root{});
  // sha256(64 zero bytes), the well-known zero_hashes[1].
  EXPECT_EQ(hex(ssz::zero_hash(1)), "0xf5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b");
  for (std::size_t i = 1; i <= 64; ++i)
    EXPECT_EQ(ssz::zero_hash(i), ssz::hash_pair(ssz::zero_hash(i - 1), ssz::zero_hash(i - 1)));
}

TEST(Ssz, CeilLog2) {
  EXPECT_EQ(ssz::ceil_log2(0), 0u);
  EXPECT_EQ(ssz::ceil_log2(1), 0u);
  EXPECT_EQ(ssz::ceil_log2(2), 1u);
  EXPECT_EQ(ssz::ceil_log2(3), 2u);
  EXPECT_EQ(ssz::ceil_log2(8), 3u);
  EXPECT_EQ(ssz::ceil_log2(9), 4u);
  EXPECT_EQ(ssz::ceil_log2(std::uint64_t{1} << 40), 40u);
}

TEST(Ssz, MerkleizerMatchesTheSpecDefinition) {
  for (std::size_t count = 0; count <= 17; ++count) {
    std::vector<Root> chunks;
    for (std::size_t i = 0; i < count; ++i) chunks.push_back(chunk_of(0xa5, i));
    for (std::uint64_t limit :
         {std::uint64_t{count}, std::uint64_t{16}, std::uint64_t{17}, std::uint64_t{32}, std::uint64_t{1000}}) {
      if (limit < count) continue;
      SCOPED_TRACE("count " + std::to_string(count) + " limit " + std::to_string(limit));
      ssz::Merkleizer m(limit);
      for (const Root& c : chunks) m.add(c);
      EXPECT_EQ(m.finish(), naive_merkleize(chunks, limit));
    }
  }
}

TEST(Ssz, MerkleizerPadsToDeepLimitsWithZeroHashes) {
  // A list limit of 2**40 chunks: one chunk then 40 levels of zero siblings.
  ssz::Merkleizer m(std::uint64_t{1} << 40);
  const Root c = chunk_of(7, 0);
  m.add(c);
  Root expected = c;
  for (std::size_t level = 0; level < 40; ++level) expected = ssz::hash_pair(expected, ssz::zero_hash(level));
  EXPECT_EQ(m.finish(), expected);
  EXPECT_EQ(ssz::Merkleizer(std::uint64_t{1} << 40).finish(), ssz::zero_hash(40));
}

TEST(Ssz, BasicRoots) {
  EXPECT_EQ(hex(ssz::uint64_root(119)), "0x7700000000000000000000000000000000000000000000000000000000000000");
  EXPECT_EQ(hex(ssz::uint64_root(0x0102030405060708)),
            "0x0807060504030201000000000000000000000000000000000000000000000000");
  const Bytes4 v{0xde, 0xad, 0xbe, 0xef};
  EXPECT_EQ(hex(ssz::bytes_root(v)), "0xdeadbeef00000000000000000000000000000000000000000000000000000000");
  // 96 bytes = 3 chunks, padded to 4.
  Bytes96 sig{};
  for (std::size_t i = 0; i < sig.size(); ++i) sig[i] = static_cast<std::uint8_t>(i);
  Root c0, c1, c2;
  std::copy_n(sig.begin(), 32, c0.begin());
  std::copy_n(sig.begin() + 32, 32, c1.begin());
  std::copy_n(sig.begin() + 64, 32, c2.begin());
  EXPECT_EQ(ssz::bytes_root(sig), ssz::hash_pair(ssz::hash_pair(c0, c1), ssz::hash_pair(c2, Root{})));
}

TEST(Ssz, BitlistRoots) {
  // Bitlist[2048]: 8 chunks deep. Empty list "0x01" = mix_in_length(zero tree, 0).
  const std::vector<std::uint8_t> empty{0x01};
  EXPECT_EQ(ssz::bitlist_length(empty), 0u);
  EXPECT_EQ(ssz::bitlist_root(empty, 2048), ssz::mix_in_length(ssz::zero_hash(3), 0));
  // Eight bits 0b00000101 then a delimiter byte of its own.
  const std::vector<std::uint8_t> eight{0x05, 0x01};
  EXPECT_EQ(ssz::bitlist_length(eight), 8u);
  Root chunk{};
  chunk[0] = 0x05;
  EXPECT_EQ(ssz::bitlist_root(eight, 2048), ssz::mix_in_length(naive_merkleize({chunk}, 8), 8));
  // Three bits 0b101 with the delimiter at bit 3: the delimiter is cleared before packing.
  const std::vector<std::uint8_t> three{0x0d};
  EXPECT_EQ(ssz::bitlist_length(three), 3u);
  EXPECT_EQ(ssz::bitlist_root(three, 2048), ssz::mix_in_length(naive_merkleize({chunk}, 8), 3));
  // A full Bitlist[256]: the delimiter byte must not add a second chunk.
  std::vector<std::uint8_t> full(33, 0xff);
  full[32] = 0x01;
  Root ones;
  ones.fill(0xff);
  EXPECT_EQ(ssz::bitlist_root(full, 256), ssz::mix_in_length(ones, 256));
}

TEST(Ssz, BitvectorAndUint64ListRoots) {
  const std::vector<std::uint8_t> bits{0x24};
  Root chunk{};
  chunk[0] = 0x24;
  EXPECT_EQ(ssz::bitvector_root(bits, 8), chunk);
  // List[uint64, 2048]: 4 values per chunk, 512 chunks.
  const std::vector<std::uint64_t> values{1, 2, 3, 4, 5};
  Root c0{}, c1{};
  for (int i = 0; i < 4; ++i) c0[8 * i] = static_cast<std::uint8_t>(i + 1);
  c1[0] = 5;
  EXPECT_EQ(ssz::uint64_list_root(values, 2048), ssz::mix_in_length(naive_merkleize({c0, c1}, 512), 5));
}

TEST(Domain, KnownDomains) {
  // compute_domain(DOMAIN_DEPOSIT, 0x00000001, zero root) and (DOMAIN_APPLICATION_BUILDER, 0x00000000, zero root):
  // test/data/signing_vectors (deposit_vectors.json, spec_examples_mainnet.json VALIDATOR_REGISTRATION).
  EXPECT_EQ(hex(compute_domain(kDomainDeposit, Bytes4{0, 0, 0, 1})),
            "0x0300000018ae4ccbda9538839d79bb18ca09e23e24ae8c1550f56cbb3d84b053");
  EXPECT_EQ(hex(compute_domain(kDomainApplicationBuilder, Bytes4{0, 0, 0, 0})),
            "0x00000001f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a9");
}

// test/data/ssz/samples.json: consensus-spec-tests ssz_static value/root pairs.
class SszStaticSamples : public ::testing::Test {
 protected:
  static const boost::json::array& cases() {
    static const boost::json::value samples = test::read_json("ssz/samples.json");
    return samples.at("cases").as_array();
  }
};

TEST_F(SszStaticSamples, AllCasesMatch) {
  int checked = 0;
  for (const auto& c : cases()) {
    const std::string_view type = c.at("type").as_string();
    const auto& value = c.at("value");
    const Root expected = root(c.at("root").as_string());
    SCOPED_TRACE(std::string(c.at("path").as_string()));
    if (type == "phase0.ForkData") {
      EXPECT_EQ(compute_fork_data_root(*from_hex_fixed<4>(value.at("current_version").as_string()),
                                       root(value.at("genesis_validators_root").as_string())),
                expected);
    } else if (type == "phase0.SigningData") {
      EXPECT_EQ(compute_signing_root(root(value.at("object_root").as_string()), root(value.at("domain").as_string())),
                expected);
    } else {
      ASSERT_TRUE(type.starts_with("altair.ContributionAndProof"));
      Decoder d;
      const Node top(value);
      const ContributionAndProof cp = read_contribution_and_proof(d, top, mainnet_preset());
      ASSERT_TRUE(d.ok()) << d.error().message;
      EXPECT_EQ(hash_tree_root(cp), expected);
    }
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

}  // namespace
}  // namespace cachet::eth

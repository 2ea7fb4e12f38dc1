// DEPOSIT requests of Web3Signer's acceptance tests (test/data/signing_vectors/deposit_vectors.json): published
// deposit_message_root, deposit_data_root and signature (eth2.0-deposit-cli output), derived domain/signing_root.
#include <cachet/crypto/bls.hpp>

#include "../../../lib/eth/containers.hpp"
#include "eth_test_util.hpp"

namespace cachet::eth {
namespace {

using test::hex;
using test::root;

TEST(DepositVectors, RootsAndPublishedSignatures) {
  const boost::json::value data = test::read_json("signing_vectors/deposit_vectors.json");
  int checked = 0;
  for (const auto& vector : data.at("vectors").as_array()) {
    SCOPED_TRACE(std::string(vector.at("source_file").as_string()) + " " +
                 std::string(vector.at("identifier").as_string()));
    const auto& expected = vector.at("expected");
    // DEPOSIT does not depend on the network (its fork version is in the request): any network gives the same root.
    for (const char* net : {"mainnet", "minimal"}) {
      const auto parts = compute_signing_parts(vector.at("request"), test::network(net));
      ASSERT_TRUE(parts) << parts.error().message;
      EXPECT_EQ(parts->request.type, SignType::Deposit);
      EXPECT_FALSE(parts->request.genesis_validators_root);
      EXPECT_EQ(hex(parts->object_root), std::string(expected.at("deposit_message_root").as_string()));
      EXPECT_EQ(hex(parts->domain), std::string(expected.at("domain").as_string()));
      EXPECT_EQ(hex(parts->request.signing_root), std::string(expected.at("signing_root").as_string()));

      const auto sk = crypto::SecretKey::from_bytes(*from_hex_fixed<32>(vector.at("secret_key").as_string()));
      ASSERT_TRUE(sk) << sk.error();
      const Bytes96 signature = sk->sign(parts->request.signing_root);
      EXPECT_EQ(hex(signature), std::string(expected.at("signature").as_string()));

      // DepositData = the message + that signature: the published deposit_data_root.
      const auto& d = vector.at("request").at("deposit");
      const DepositData deposit_data{*from_hex_fixed<48>(d.at("pubkey").as_string()),
                                     root(d.at("withdrawal_credentials").as_string()),
                                     std::stoull(std::string(d.at("amount").as_string())), signature};
      EXPECT_EQ(hex(hash_tree_root(deposit_data)), std::string(expected.at("deposit_data_root").as_string()));
    }
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

}  // namespace
}  // namespace cachet::eth

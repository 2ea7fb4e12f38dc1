// A Web3Signer / remote-signing-API sign request, turned into the signing root the signer must sign.
// The root is always computed here from the typed data (SSZ hash_tree_root, compute_domain, SigningData).
#pragma once

#include <boost/json/value.hpp>
#include <cachet/eth/network.hpp>
#include <cachet/util/bytes.hpp>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace cachet::eth {

enum class SignType {
  AggregationSlot,
  AggregateAndProof,
  AggregateAndProofV2,
  Attestation,
  Block,
  BlockV2,
  Deposit,
  RandaoReveal,
  VoluntaryExit,
  SyncCommitteeMessage,
  SyncCommitteeSelectionProof,
  SyncCommitteeContributionAndProof,
  ValidatorRegistration,
};
inline constexpr std::size_t kSignTypeCount = 13;
/// The API's name ("AGGREGATION_SLOT", ...).
std::string_view to_string(SignType type);

/// What slashing protection needs to know about a block (EIP-3076: slot and signing root).
struct BlockFacts {
  std::uint64_t slot;
};
/// What slashing protection needs to know about an attestation (EIP-3076: source and target epochs).
struct AttestationFacts {
  std::uint64_t source_epoch;
  std::uint64_t target_epoch;
};

struct SigningRequest {
  SignType type;
  Bytes32 signing_root;
  /// fork_info.genesis_validators_root where the type carries fork_info.
  std::optional<Bytes32> genesis_validators_root;
  std::optional<BlockFacts> block;              // BLOCK, BLOCK_V2
  std::optional<AttestationFacts> attestation;  // ATTESTATION
};

struct RequestError {
  enum class Kind {
    Invalid,       // malformed or missing field: the message names it
    RootMismatch,  // signing_root/signingRoot given and different from the computed root: names both
  };
  Kind kind = Kind::Invalid;
  std::string message;
};

/// Parses a sign request body (already JSON-parsed) and computes its signing root for `network`.
/// Integers are the API's decimal strings (plain JSON numbers are accepted too), within uint64.
std::expected<SigningRequest, RequestError> parse_signing_request(const boost::json::value& body,
                                                                  const NetworkConfig& network);

}  // namespace cachet::eth

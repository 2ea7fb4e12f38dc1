// The consensus containers a validator signs (or that are nested in one), with their hash_tree_root.
// Field order is the spec's: it is the merkle leaf order. Sources: consensus-specs phase0/beacon-chain.md
// "Containers", altair/beacon-chain.md + altair/validator.md, electra/beacon-chain.md + electra/validator.md,
// builder-specs specs/bellatrix/builder.md (ValidatorRegistrationV1).
#pragma once

#include <array>
#include <cachet/eth/network.hpp>
#include <cachet/util/bytes.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ssz.hpp"

namespace cachet::eth {

using ssz::Root;

/// A Bitvector kept inline: the largest one signed is SyncAggregate.sync_committee_bits, SYNC_COMMITTEE_SIZE = 512
/// bits on mainnet.
struct Bitvector {
  static constexpr std::size_t kMaxBytes = 64;
  std::array<std::uint8_t, kMaxBytes> bytes{};
  std::uint64_t bits = 0;  // the type's length N
  std::span<const std::uint8_t> serialized() const { return std::span(bytes).first((bits + 7) / 8); }
};

/// A Bitlist's serialized bytes, delimiter bit included (validated by the decoder).
using Bitlist = std::vector<std::uint8_t>;

struct Checkpoint {
  std::uint64_t epoch = 0;
  Root root{};
};

struct AttestationData {
  std::uint64_t slot = 0;
  std::uint64_t index = 0;
  Root beacon_block_root{};
  Checkpoint source;
  Checkpoint target;
};

struct BeaconBlockHeader {
  std::uint64_t slot = 0;
  std::uint64_t proposer_index = 0;
  Root parent_root{};
  Root state_root{};
  Root body_root{};
};

struct SignedBeaconBlockHeader {
  BeaconBlockHeader message;
  Bytes96 signature{};
};

struct ProposerSlashing {
  SignedBeaconBlockHeader signed_header_1;
  SignedBeaconBlockHeader signed_header_2;
};

struct IndexedAttestation {
  std::vector<std::uint64_t> attesting_indices;  // List[ValidatorIndex, MAX_VALIDATORS_PER_COMMITTEE]
  AttestationData data;
  Bytes96 signature{};
};

struct AttesterSlashing {
  IndexedAttestation attestation_1;
  IndexedAttestation attestation_2;
};

/// phase0 Attestation: aggregation_bits is Bitlist[MAX_VALIDATORS_PER_COMMITTEE].
struct Attestation {
  Bitlist aggregation_bits;
  AttestationData data;
  Bytes96 signature{};
};

/// Electra Attestation (EIP-7549): aggregation_bits is Bitlist[MAX_VALIDATORS_PER_COMMITTEE * MAX_COMMITTEES_PER_SLOT]
/// and committee_bits Bitvector[MAX_COMMITTEES_PER_SLOT] is appended.
struct AttestationElectra {
  Bitlist aggregation_bits;
  AttestationData data;
  Bytes96 signature{};
  Bitvector committee_bits;
};

/// AggregateAndProof: the same container before and after Electra, around the fork's Attestation (named as
/// Web3Signer's schemas do, AggregateAndProofPhase0 / AggregateAndProofElectra).
template <class AttestationType>
struct AggregateAndProofOf {
  std::uint64_t aggregator_index = 0;
  AttestationType aggregate;
  Bytes96 selection_proof{};
};
using AggregateAndProofPhase0 = AggregateAndProofOf<Attestation>;
using AggregateAndProofElectra = AggregateAndProofOf<AttestationElectra>;

struct Eth1Data {
  Root deposit_root{};
  std::uint64_t deposit_count = 0;
  Root block_hash{};
};

struct DepositMessage {
  Bytes48 pubkey{};
  Bytes32 withdrawal_credentials{};
  std::uint64_t amount = 0;
};

struct DepositData {
  Bytes48 pubkey{};
  Bytes32 withdrawal_credentials{};
  std::uint64_t amount = 0;
  Bytes96 signature{};
};

/// Deposit.proof is Vector[Bytes32, DEPOSIT_CONTRACT_TREE_DEPTH + 1]; the depth is the constant 32.
inline constexpr std::size_t kDepositProofLength = 33;
struct Deposit {
  std::array<Root, kDepositProofLength> proof{};
  DepositData data;
};

struct VoluntaryExit {
  std::uint64_t epoch = 0;
  std::uint64_t validator_index = 0;
};

struct SignedVoluntaryExit {
  VoluntaryExit message;
  Bytes96 signature{};
};

/// altair SyncAggregate: sync_committee_bits is Bitvector[SYNC_COMMITTEE_SIZE].
struct SyncAggregate {
  Bitvector sync_committee_bits;
  Bytes96 sync_committee_signature{};
};

/// phase0 BeaconBlockBody, or altair's when sync_aggregate is set (its only new field, appended last).
struct BeaconBlockBody {
  Bytes96 randao_reveal{};
  Eth1Data eth1_data;
  Bytes32 graffiti{};
  std::vector<ProposerSlashing> proposer_slashings;
  std::vector<AttesterSlashing> attester_slashings;
  std::vector<Attestation> attestations;
  std::vector<Deposit> deposits;
  std::vector<SignedVoluntaryExit> voluntary_exits;
  std::optional<SyncAggregate> sync_aggregate;
};

struct BeaconBlock {
  std::uint64_t slot = 0;
  std::uint64_t proposer_index = 0;
  Root parent_root{};
  Root state_root{};
  BeaconBlockBody body;
};

/// altair SyncCommitteeContribution: aggregation_bits is Bitvector[SYNC_COMMITTEE_SIZE // SYNC_COMMITTEE_SUBNET_COUNT].
struct SyncCommitteeContribution {
  std::uint64_t slot = 0;
  Root beacon_block_root{};
  std::uint64_t subcommittee_index = 0;
  Bitvector aggregation_bits;
  Bytes96 signature{};
};

struct ContributionAndProof {
  std::uint64_t aggregator_index = 0;
  SyncCommitteeContribution contribution;
  Bytes96 selection_proof{};
};

struct SyncAggregatorSelectionData {
  std::uint64_t slot = 0;
  std::uint64_t subcommittee_index = 0;
};

struct ValidatorRegistrationV1 {
  Bytes20 fee_recipient{};
  std::uint64_t gas_limit = 0;
  std::uint64_t timestamp = 0;
  Bytes48 pubkey{};
};

// hash_tree_root of each container. Containers holding a Bitlist or a List take the preset for its limit.
Root hash_tree_root(const Checkpoint& value);
Root hash_tree_root(const AttestationData& value);
Root hash_tree_root(const BeaconBlockHeader& value);
Root hash_tree_root(const SignedBeaconBlockHeader& value);
Root hash_tree_root(const ProposerSlashing& value);
Root hash_tree_root(const IndexedAttestation& value, const Preset& preset);
Root hash_tree_root(const AttesterSlashing& value, const Preset& preset);
Root hash_tree_root(const Attestation& value, const Preset& preset);
Root hash_tree_root(const AttestationElectra& value, const Preset& preset);
Root hash_tree_root(const Eth1Data& value);
Root hash_tree_root(const DepositMessage& value);
Root hash_tree_root(const DepositData& value);
Root hash_tree_root(const Deposit& value);
Root hash_tree_root(const VoluntaryExit& value);
Root hash_tree_root(const SignedVoluntaryExit& value);
Root hash_tree_root(const SyncAggregate& value);
Root hash_tree_root(const BeaconBlockBody& value, const Preset& preset);
Root hash_tree_root(const BeaconBlock& value, const Preset& preset);
Root hash_tree_root(const SyncCommitteeContribution& value);
Root hash_tree_root(const ContributionAndProof& value);
Root hash_tree_root(const SyncAggregatorSelectionData& value);
Root hash_tree_root(const ValidatorRegistrationV1& value);

template <class AttestationType>
Root hash_tree_root(const AggregateAndProofOf<AttestationType>& value, const Preset& preset) {
  return ssz::container_root(ssz::uint64_root(value.aggregator_index), hash_tree_root(value.aggregate, preset),
                             ssz::bytes_root(value.selection_proof));
}

}  // namespace cachet::eth

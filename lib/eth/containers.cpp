#include "containers.hpp"

namespace cachet::eth {
namespace {

using ssz::bytes_root;
using ssz::container_root;
using ssz::uint64_root;

// List[T, limit] of composite T: mix_in_length(merkleize([hash_tree_root(x) for x in value], limit), len(value)).
template <class T, class RootOf>
Root list_root(const std::vector<T>& items, std::uint64_t limit, RootOf root_of) {
  ssz::Merkleizer m(limit);
  for (const T& item : items) m.add(root_of(item));
  return ssz::mix_in_length(m.finish(), items.size());
}

}  // namespace

Root hash_tree_root(const Checkpoint& v) { return container_root(uint64_root(v.epoch), v.root); }

Root hash_tree_root(const AttestationData& v) {
  return container_root(uint64_root(v.slot), uint64_root(v.index), v.beacon_block_root, hash_tree_root(v.source),
                        hash_tree_root(v.target));
}

Root hash_tree_root(const BeaconBlockHeader& v) {
  return container_root(uint64_root(v.slot), uint64_root(v.proposer_index), v.parent_root, v.state_root, v.body_root);
}

Root hash_tree_root(const SignedBeaconBlockHeader& v) {
  return container_root(hash_tree_root(v.message), bytes_root(v.signature));
}

Root hash_tree_root(const ProposerSlashing& v) {
  return container_root(hash_tree_root(v.signed_header_1), hash_tree_root(v.signed_header_2));
}

Root hash_tree_root(const IndexedAttestation& v, const Preset& preset) {
  return container_root(ssz::uint64_list_root(v.attesting_indices, preset.max_validators_per_committee),
                        hash_tree_root(v.data), bytes_root(v.signature));
}

Root hash_tree_root(const AttesterSlashing& v, const Preset& preset) {
  return container_root(hash_tree_root(v.attestation_1, preset), hash_tree_root(v.attestation_2, preset));
}

Root hash_tree_root(const Attestation& v, const Preset& preset) {
  return container_root(ssz::bitlist_root(v.aggregation_bits, preset.max_validators_per_committee),
                        hash_tree_root(v.data), bytes_root(v.signature));
}

Root hash_tree_root(const AttestationElectra& v, const Preset& preset) {
  const std::uint64_t limit = preset.max_validators_per_committee * preset.max_committees_per_slot;
  return container_root(ssz::bitlist_root(v.aggregation_bits, limit), hash_tree_root(v.data), bytes_root(v.signature),
                        ssz::bitvector_root(v.committee_bits.serialized(), v.committee_bits.bits));
}

Root hash_tree_root(const Eth1Data& v) {
  return container_root(v.deposit_root, uint64_root(v.deposit_count), v.block_hash);
}

Root hash_tree_root(const DepositMessage& v) {
  return container_root(bytes_root(v.pubkey), v.withdrawal_credentials, uint64_root(v.amount));
}

Root hash_tree_root(const DepositData& v) {
  return container_root(bytes_root(v.pubkey), v.withdrawal_credentials, uint64_root(v.amount), bytes_root(v.signature));
}

Root hash_tree_root(const Deposit& v) {
  // Vector[Bytes32, 33]: merkleize the 33 roots (no length mix-in).
  ssz::Merkleizer proof(kDepositProofLength);
  for (const Root& node : v.proof) proof.add(node);
  return container_root(proof.finish(), hash_tree_root(v.data));
}

Root hash_tree_root(const VoluntaryExit& v) {
  return container_root(uint64_root(v.epoch), uint64_root(v.validator_index));
}

Root hash_tree_root(const SignedVoluntaryExit& v) {
  return container_root(hash_tree_root(v.message), bytes_root(v.signature));
}

Root hash_tree_root(const SyncAggregate& v) {
  return container_root(ssz::bitvector_root(v.sync_committee_bits.serialized(), v.sync_committee_bits.bits),
                        bytes_root(v.sync_committee_signature));
}

Root hash_tree_root(const BeaconBlockBody& v, const Preset& preset) {
  const Root fields[] = {
      bytes_root(v.randao_reveal),
      hash_tree_root(v.eth1_data),
      v.graffiti,
      list_root(v.proposer_slashings, preset.max_proposer_slashings,
                [](const ProposerSlashing& x) { return hash_tree_root(x); }),
      list_root(v.attester_slashings, preset.max_attester_slashings,
                [&](const AttesterSlashing& x) { return hash_tree_root(x, preset); }),
      list_root(v.attestations, preset.max_attestations,
                [&](const Attestation& x) { return hash_tree_root(x, preset); }),
      list_root(v.deposits, preset.max_deposits, [](const Deposit& x) { return hash_tree_root(x); }),
      list_root(v.voluntary_exits, preset.max_voluntary_exits,
                [](const SignedVoluntaryExit& x) { return hash_tree_root(x); }),
  };
  // phase0 has 8 fields, altair appends sync_aggregate as the 9th (which deepens the tree: 16 leaves).
  ssz::Merkleizer m(v.sync_aggregate ? 9 : 8);
  for (const Root& field : fields) m.add(field);
  if (v.sync_aggregate) m.add(hash_tree_root(*v.sync_aggregate));
  return m.finish();
}

Root hash_tree_root(const BeaconBlock& v, const Preset& preset) {
  return container_root(uint64_root(v.slot), uint64_root(v.proposer_index), v.parent_root, v.state_root,
                        hash_tree_root(v.body, preset));
}

Root hash_tree_root(const SyncCommitteeContribution& v) {
  return container_root(uint64_root(v.slot), v.beacon_block_root, uint64_root(v.subcommittee_index),
                        ssz::bitvector_root(v.aggregation_bits.serialized(), v.aggregation_bits.bits),
                        bytes_root(v.signature));
}

Root hash_tree_root(const ContributionAndProof& v) {
  return container_root(uint64_root(v.aggregator_index), hash_tree_root(v.contribution), bytes_root(v.selection_proof));
}

Root hash_tree_root(const SyncAggregatorSelectionData& v) {
  return container_root(uint64_root(v.slot), uint64_root(v.subcommittee_index));
}

Root hash_tree_root(const ValidatorRegistrationV1& v) {
  return container_root(bytes_root(v.fee_recipient), uint64_root(v.gas_limit), uint64_root(v.timestamp),
                        bytes_root(v.pubkey));
}

}  // namespace cachet::eth

// The two consensus presets (ethereum/consensus-specs presets/{mainnet,minimal}/*.yaml). Only the values that change
// the shape of a signed container are here.
#include <cachet/eth/network.hpp>

namespace cachet::eth {

const Preset& mainnet_preset() {
  // presets/mainnet/phase0.yaml, altair.yaml, electra.yaml; SYNC_COMMITTEE_SUBNET_COUNT is the altair
  // validator.md constant and DEPOSIT_CONTRACT_TREE_DEPTH the phase0 beacon-chain.md constant (same in both).
  static const Preset preset{
      .name = "mainnet",
      .slots_per_epoch = 32,
      .max_validators_per_committee = 2048,
      .max_committees_per_slot = 64,
      .sync_committee_size = 512,
      .sync_committee_subnet_count = 4,
      .max_proposer_slashings = 16,
      .max_attester_slashings = 2,
      .max_attestations = 128,
      .max_deposits = 16,
      .max_voluntary_exits = 16,
      .deposit_contract_tree_depth = 32,
      .max_attester_slashings_electra = 1,
      .max_attestations_electra = 8,
  };
  return preset;
}

const Preset& minimal_preset() {
  // Only what presets/minimal marks [customized] and changes a signed container's shape differs from mainnet:
  // phase0.yaml SLOTS_PER_EPOCH 8, MAX_COMMITTEES_PER_SLOT 4; altair.yaml SYNC_COMMITTEE_SIZE 32.
  // MAX_VALIDATORS_PER_COMMITTEE, the max-operations-per-block values and electra.yaml's MAX_ATTESTER_SLASHINGS_ELECTRA
  // 1 / MAX_ATTESTATIONS_ELECTRA 8 are the same in both presets (checked against presets/minimal/*.yaml).
  static const Preset preset = [] {
    Preset p = mainnet_preset();
    p.name = "minimal";
    p.slots_per_epoch = 8;
    p.max_committees_per_slot = 4;
    p.sync_committee_size = 32;
    return p;
  }();
  return preset;
}

}  // namespace cachet::eth

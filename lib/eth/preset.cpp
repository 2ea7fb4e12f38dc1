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
  // presets/minimal/phase0.yaml: SLOTS_PER_EPOCH 8 and MAX_COMMITTEES_PER_SLOT 4 are [customized], the
  // max-operations-per-block values equal mainnet's; presets/minimal/altair.yaml: SYNC_COMMITTEE_SIZE 32
  // [customized]; presets/minimal/electra.yaml: MAX_ATTESTER_SLASHINGS_ELECTRA 1, MAX_ATTESTATIONS_ELECTRA 8.
  static const Preset preset{
      .name = "minimal",
      .slots_per_epoch = 8,
      .max_validators_per_committee = 2048,
      .max_committees_per_slot = 4,
      .sync_committee_size = 32,
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

}  // namespace cachet::eth

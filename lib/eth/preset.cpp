// The consensus presets: ethereum/consensus-specs presets/{mainnet,minimal}/*.yaml and Gnosis Chain's
// gnosischain/specs consensus/preset/gnosis/*.yaml. Only the values that change the shape of a signed container or
// the slot -> epoch mapping are here.
#include <array>
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

const Preset& gnosis_preset() {
  // gnosischain/specs consensus/preset/gnosis/{phase0,altair,electra}.yaml (checked 2025-09 revision; the older
  // gnosischain/configs presets/gnosis/phase0.yaml says the same for phase0). Of the values above only phase0.yaml's
  // SLOTS_PER_EPOCH differs from mainnet: 16. MAX_COMMITTEES_PER_SLOT 64, MAX_VALIDATORS_PER_COMMITTEE 2048, the
  // phase0 max-operations values, altair's SYNC_COMMITTEE_SIZE 512 and electra's MAX_ATTESTER_SLASHINGS_ELECTRA 1 /
  // MAX_ATTESTATIONS_ELECTRA 8 are mainnet's. Gnosis's other differences (BASE_REWARD_FACTOR,
  // EPOCHS_PER_SYNC_COMMITTEE_PERIOD, capella's withdrawal sweep sizes, ...) change no container a signer hashes.
  static const Preset preset = [] {
    Preset p = mainnet_preset();
    p.name = "gnosis";
    p.slots_per_epoch = 16;
    return p;
  }();
  return preset;
}

namespace {
using PresetOf = const Preset& (*)();
constexpr std::array<PresetOf, 3> kPresets{mainnet_preset, minimal_preset, gnosis_preset};
}  // namespace

const Preset* find_preset(std::string_view name) {
  for (PresetOf preset : kPresets)
    if (preset().name == name) return &preset();
  return nullptr;
}

std::string preset_names() {
  std::string out;
  for (PresetOf preset : kPresets) out += (out.empty() ? "" : ", ") + preset().name;
  return out;
}

}  // namespace cachet::eth

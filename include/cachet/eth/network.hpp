// Consensus network configuration: fork schedule, genesis fork version and the preset's limits.
#pragma once

#include <cachet/util/bytes.hpp>
#include <cstdint>
#include <expected>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cachet::eth {

inline constexpr std::uint64_t kFarFutureEpoch = std::numeric_limits<std::uint64_t>::max();

enum class Fork { Phase0, Altair, Bellatrix, Capella, Deneb, Electra, Fulu };
/// The consensus-specs name: "phase0", "altair", ..., "fulu".
std::string_view to_string(Fork fork);

/// The preset values that change the shape of signed containers (consensus-specs presets/{mainnet,minimal},
/// gnosischain/specs consensus/preset/gnosis).
struct Preset {
  std::string name;  // "mainnet" | "minimal" | "gnosis"
  std::uint64_t slots_per_epoch = 32;
  std::uint64_t max_validators_per_committee = 2048;  // phase0 attestation aggregation_bits limit
  std::uint64_t max_committees_per_slot = 64;         // Electra committee_bits length
  std::uint64_t sync_committee_size = 512;
  std::uint64_t sync_committee_subnet_count = 4;  // contribution aggregation_bits = size / subnet count
  std::uint64_t max_proposer_slashings = 16, max_attester_slashings = 2, max_attestations = 128, max_deposits = 16,
                max_voluntary_exits = 16;
  std::uint64_t deposit_contract_tree_depth = 32;  // a constant, not a preset value: Deposit.proof has 33
  std::uint64_t max_attester_slashings_electra = 1, max_attestations_electra = 8;  // Electra BeaconBlockBody
};
const Preset& mainnet_preset();
const Preset& minimal_preset();
const Preset& gnosis_preset();
/// The preset a config.yaml's PRESET_BASE names, or nullptr.
const Preset* find_preset(std::string_view name);
/// "mainnet, minimal, gnosis": the PRESET_BASE values find_preset knows, for messages.
std::string preset_names();

struct ForkSchedule {
  Fork fork;
  Bytes4 version;
  std::uint64_t epoch;  // kFarFutureEpoch when not scheduled
};

struct NetworkConfig {
  std::string name;  // "mainnet", ..., or the config file path
  Preset preset;
  Bytes4 genesis_fork_version{};
  std::vector<ForkSchedule> forks;  // Phase0 (genesis) .. Fulu, in order; Phase0's version is the genesis one

  /// The version of `fork`, or nullopt when the config does not name it.
  const ForkSchedule* find(Fork fork) const;
  /// Which fork a version belongs to on this network (nullptr for an unknown version).
  const ForkSchedule* fork_of_version(const Bytes4& version) const;
};

/// The built-in network names, in the order --help and error messages list them: mainnet, sepolia, holesky, hoodi,
/// gnosis, chiado, minimal (the consensus-specs minimal config).
std::span<const std::string_view> builtin_network_names();
/// builtin_network_names() joined by ", ", for --help and error messages.
std::string builtin_network_list();

/// A built-in network by name (see builtin_network_names()). Anything else is read as a path to a consensus
/// `config.yaml` (PRESET_BASE selects the preset).
std::expected<NetworkConfig, std::string> load_network(std::string_view name_or_path);

}  // namespace cachet::eth

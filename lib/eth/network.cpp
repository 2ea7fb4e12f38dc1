// Built-in networks and loading a network from a config.yaml.
#include <cachet/eth/network.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <span>
#include <sstream>

#include "config_file.hpp"

namespace cachet::eth {
namespace {

struct BuiltinFork {
  Bytes4 version;
  std::uint64_t epoch;
};

// Phase0 (genesis, epoch 0) then Altair .. Fulu, in Fork order.
struct Builtin {
  std::string_view name;
  const Preset& (*preset)();
  std::array<BuiltinFork, 7> forks;
};

constexpr std::uint64_t kFar = kFarFutureEpoch;

// Sources (fork versions and epochs):
// - mainnet: ethereum/consensus-specs configs/mainnet.yaml.
// - sepolia: eth-clients/sepolia metadata/config.yaml (genesis .. Electra); FULU 0x90000075 @ 272640 from Lodestar's
//   sepolia network config (packages/config/src/networks) — the stored eth-clients copy predates Fulu.
// - holesky: eth-clients/holesky metadata/config.yaml (genesis .. Electra); FULU 0x07017000 @ 165120 from Lodestar's
//   holesky network config — the stored eth-clients copy predates Fulu.
// - hoodi: eth-clients/hoodi metadata/config.yaml for the versions (FULU 0x70000910 included); Electra epoch 2048
//   from eth-clients/hoodi README.md (the stored config.yaml is a pre-launch copy saying 1, Lodestar's hoodi config
//   says 2048); FULU epoch 50688 only from clients' built-in hoodi specs (the stored eth-clients copy has Fulu
//   unscheduled) — not confirmed against eth-clients itself.
// - gnosis, chiado: gnosischain/configs mainnet/config.yaml and chiado/config.yaml (PRESET_BASE 'gnosis'), the
//   revision of 2026-03-20 that schedules Fulu on Gnosis (FULU @ 1714688); Lodestar's gnosis and chiado network
//   configs (packages/config/src/chainConfig/networks) give the same versions and epochs. Chiado's config.yaml
//   still calls ELECTRA_FORK_EPOCH 948224 a "temporary stub"; Chiado forked to Electra at that epoch.
// - minimal: ethereum/consensus-specs configs/minimal.yaml (every fork unscheduled: FAR_FUTURE_EPOCH).
// The order is the one --help and the unknown-network error list.
constexpr std::array<Builtin, 7> kBuiltins{{
    {"mainnet",
     mainnet_preset,
     {{{{0x00, 0x00, 0x00, 0x00}, 0},
       {{0x01, 0x00, 0x00, 0x00}, 74240},
       {{0x02, 0x00, 0x00, 0x00}, 144896},
       {{0x03, 0x00, 0x00, 0x00}, 194048},
       {{0x04, 0x00, 0x00, 0x00}, 269568},
       {{0x05, 0x00, 0x00, 0x00}, 364032},
       {{0x06, 0x00, 0x00, 0x00}, 411392}}}},
    {"sepolia",
     mainnet_preset,
     {{{{0x90, 0x00, 0x00, 0x69}, 0},
       {{0x90, 0x00, 0x00, 0x70}, 50},
       {{0x90, 0x00, 0x00, 0x71}, 100},
       {{0x90, 0x00, 0x00, 0x72}, 56832},
       {{0x90, 0x00, 0x00, 0x73}, 132608},
       {{0x90, 0x00, 0x00, 0x74}, 222464},
       {{0x90, 0x00, 0x00, 0x75}, 272640}}}},
    {"holesky",
     mainnet_preset,
     {{{{0x01, 0x01, 0x70, 0x00}, 0},
       {{0x02, 0x01, 0x70, 0x00}, 0},
       {{0x03, 0x01, 0x70, 0x00}, 0},
       {{0x04, 0x01, 0x70, 0x00}, 256},
       {{0x05, 0x01, 0x70, 0x00}, 29696},
       {{0x06, 0x01, 0x70, 0x00}, 115968},
       {{0x07, 0x01, 0x70, 0x00}, 165120}}}},
    {"hoodi",
     mainnet_preset,
     {{{{0x10, 0x00, 0x09, 0x10}, 0},
       {{0x20, 0x00, 0x09, 0x10}, 0},
       {{0x30, 0x00, 0x09, 0x10}, 0},
       {{0x40, 0x00, 0x09, 0x10}, 0},
       {{0x50, 0x00, 0x09, 0x10}, 0},
       {{0x60, 0x00, 0x09, 0x10}, 2048},
       {{0x70, 0x00, 0x09, 0x10}, 50688}}}},
    {"gnosis",
     gnosis_preset,
     {{{{0x00, 0x00, 0x00, 0x64}, 0},
       {{0x01, 0x00, 0x00, 0x64}, 512},
       {{0x02, 0x00, 0x00, 0x64}, 385536},
       {{0x03, 0x00, 0x00, 0x64}, 648704},
       {{0x04, 0x00, 0x00, 0x64}, 889856},
       {{0x05, 0x00, 0x00, 0x64}, 1337856},
       {{0x06, 0x00, 0x00, 0x64}, 1714688}}}},
    {"chiado",
     gnosis_preset,
     {{{{0x00, 0x00, 0x00, 0x6f}, 0},
       {{0x01, 0x00, 0x00, 0x6f}, 90},
       {{0x02, 0x00, 0x00, 0x6f}, 180},
       {{0x03, 0x00, 0x00, 0x6f}, 244224},
       {{0x04, 0x00, 0x00, 0x6f}, 516608},
       {{0x05, 0x00, 0x00, 0x6f}, 948224},
       {{0x06, 0x00, 0x00, 0x6f}, 1353216}}}},
    {"minimal",
     minimal_preset,
     {{{{0x00, 0x00, 0x00, 0x01}, 0},
       {{0x01, 0x00, 0x00, 0x01}, kFar},
       {{0x02, 0x00, 0x00, 0x01}, kFar},
       {{0x03, 0x00, 0x00, 0x01}, kFar},
       {{0x04, 0x00, 0x00, 0x01}, kFar},
       {{0x05, 0x00, 0x00, 0x01}, kFar},
       {{0x06, 0x00, 0x00, 0x01}, kFar}}}},
}};

NetworkConfig from_builtin(const Builtin& b) {
  NetworkConfig config;
  config.name = std::string(b.name);
  config.preset = b.preset();
  config.genesis_fork_version = b.forks[0].version;
  for (std::size_t i = 0; i < b.forks.size(); ++i)
    config.forks.push_back({static_cast<Fork>(i), b.forks[i].version, b.forks[i].epoch});
  return config;
}

constexpr std::array<std::string_view, kBuiltins.size()> kBuiltinNames = [] {
  std::array<std::string_view, kBuiltins.size()> names{};
  for (std::size_t i = 0; i < kBuiltins.size(); ++i) names[i] = kBuiltins[i].name;
  return names;
}();

}  // namespace

std::span<const std::string_view> builtin_network_names() { return kBuiltinNames; }

std::string builtin_network_list() {
  std::string out;
  for (std::string_view name : kBuiltinNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string_view to_string(Fork fork) {
  switch (fork) {
    case Fork::Phase0:
      return "phase0";
    case Fork::Altair:
      return "altair";
    case Fork::Bellatrix:
      return "bellatrix";
    case Fork::Capella:
      return "capella";
    case Fork::Deneb:
      return "deneb";
    case Fork::Electra:
      return "electra";
    case Fork::Fulu:
      return "fulu";
  }
  return "unknown";
}

const ForkSchedule* NetworkConfig::find(Fork fork) const {
  for (const auto& f : forks)
    if (f.fork == fork) return &f;
  return nullptr;
}

const ForkSchedule* NetworkConfig::fork_of_version(const Bytes4& version) const {
  for (const auto& f : forks)
    if (f.version == version) return &f;
  return nullptr;
}

std::expected<NetworkConfig, std::string> load_network(std::string_view name_or_path) {
  for (const auto& b : kBuiltins)
    if (b.name == name_or_path) return from_builtin(b);

  const std::string path(name_or_path);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int open_error = errno;  // before building the message, whose allocations may set errno
    return std::unexpected("unknown network '" + path + "': not one of " + builtin_network_list() +
                           ", and not a readable config file (" + std::strerror(open_error) + ")");
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::unexpected("cannot read network config '" + path + "'");
  return parse_network_config(text.view(), path);
}

}  // namespace cachet::eth

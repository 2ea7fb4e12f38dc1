// Built-in networks and config.yaml loading.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "../../../lib/eth/config_file.hpp"
#include "eth_test_util.hpp"

namespace cachet::eth {
namespace {

Bytes4 v(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) { return {a, b, c, d}; }

void expect_fork(const NetworkConfig& n, Fork fork, Bytes4 version, std::uint64_t epoch) {
  const ForkSchedule* f = n.find(fork);
  ASSERT_NE(f, nullptr) << n.name << " " << to_string(fork);
  EXPECT_EQ(f->version, version) << n.name << " " << to_string(fork);
  EXPECT_EQ(f->epoch, epoch) << n.name << " " << to_string(fork);
}

TEST(Network, BuiltinNames) {
  const std::vector<std::string_view> names(builtin_network_names().begin(), builtin_network_names().end());
  EXPECT_EQ(names,
            (std::vector<std::string_view>{"mainnet", "sepolia", "holesky", "hoodi", "gnosis", "chiado", "minimal"}));
  EXPECT_EQ(builtin_network_list(), "mainnet, sepolia, holesky, hoodi, gnosis, chiado, minimal");
}

TEST(Network, EveryBuiltinLoadsWithAllForksInOrder) {
  for (std::string_view name : builtin_network_names()) {
    auto n = load_network(name);
    ASSERT_TRUE(n) << name << ": " << n.error();
    EXPECT_EQ(n->name, name);
    ASSERT_EQ(n->forks.size(), 7u) << name;
    for (std::size_t i = 0; i < n->forks.size(); ++i) {
      EXPECT_EQ(n->forks[i].fork, static_cast<Fork>(i));
      if (i > 0) {
        EXPECT_GE(n->forks[i].epoch, n->forks[i - 1].epoch) << name;
      }
    }
    EXPECT_EQ(n->forks[0].version, n->genesis_fork_version);
    EXPECT_EQ(n->forks[0].epoch, 0u);
    const std::string_view preset = name == "minimal"                      ? "minimal"
                                    : name == "gnosis" || name == "chiado" ? "gnosis"
                                                                           : "mainnet";
    EXPECT_EQ(n->preset.name, preset) << name;
  }
}

TEST(Network, MainnetSchedule) {
  const auto n = *load_network("mainnet");
  expect_fork(n, Fork::Phase0, v(0, 0, 0, 0), 0);
  expect_fork(n, Fork::Altair, v(1, 0, 0, 0), 74240);
  expect_fork(n, Fork::Bellatrix, v(2, 0, 0, 0), 144896);
  expect_fork(n, Fork::Capella, v(3, 0, 0, 0), 194048);
  expect_fork(n, Fork::Deneb, v(4, 0, 0, 0), 269568);
  expect_fork(n, Fork::Electra, v(5, 0, 0, 0), 364032);
  expect_fork(n, Fork::Fulu, v(6, 0, 0, 0), 411392);
  EXPECT_EQ(n.preset.slots_per_epoch, 32u);
  EXPECT_EQ(n.preset.sync_committee_size, 512u);
  EXPECT_EQ(n.preset.max_committees_per_slot, 64u);
}

TEST(Network, TestnetSchedules) {
  const auto sepolia = *load_network("sepolia");
  expect_fork(sepolia, Fork::Phase0, v(0x90, 0, 0, 0x69), 0);
  expect_fork(sepolia, Fork::Capella, v(0x90, 0, 0, 0x72), 56832);
  expect_fork(sepolia, Fork::Fulu, v(0x90, 0, 0, 0x75), 272640);
  const auto holesky = *load_network("holesky");
  expect_fork(holesky, Fork::Phase0, v(0x01, 0x01, 0x70, 0), 0);
  expect_fork(holesky, Fork::Deneb, v(0x05, 0x01, 0x70, 0), 29696);
  expect_fork(holesky, Fork::Fulu, v(0x07, 0x01, 0x70, 0), 165120);
  const auto hoodi = *load_network("hoodi");
  expect_fork(hoodi, Fork::Phase0, v(0x10, 0, 0x09, 0x10), 0);
  expect_fork(hoodi, Fork::Electra, v(0x60, 0, 0x09, 0x10), 2048);
  expect_fork(hoodi, Fork::Fulu, v(0x70, 0, 0x09, 0x10), 50688);
}

TEST(Network, MinimalConfigAndPreset) {
  const auto n = *load_network("minimal");
  expect_fork(n, Fork::Phase0, v(0, 0, 0, 1), 0);
  expect_fork(n, Fork::Altair, v(1, 0, 0, 1), kFarFutureEpoch);
  expect_fork(n, Fork::Fulu, v(6, 0, 0, 1), kFarFutureEpoch);
  EXPECT_EQ(n.preset.slots_per_epoch, 8u);
  EXPECT_EQ(n.preset.sync_committee_size, 32u);
  EXPECT_EQ(n.preset.max_committees_per_slot, 4u);
  EXPECT_EQ(n.preset.max_validators_per_committee, 2048u);
}

// gnosischain/configs mainnet/config.yaml and chiado/config.yaml; SLOTS_PER_EPOCH 16 from the gnosis preset
// (gnosischain/specs consensus/preset/gnosis/phase0.yaml). Every container size is mainnet's.
TEST(Network, GnosisAndChiado) {
  const auto gnosis = *load_network("gnosis");
  expect_fork(gnosis, Fork::Phase0, v(0, 0, 0, 0x64), 0);
  expect_fork(gnosis, Fork::Altair, v(1, 0, 0, 0x64), 512);
  expect_fork(gnosis, Fork::Bellatrix, v(2, 0, 0, 0x64), 385536);
  expect_fork(gnosis, Fork::Capella, v(3, 0, 0, 0x64), 648704);
  expect_fork(gnosis, Fork::Deneb, v(4, 0, 0, 0x64), 889856);
  expect_fork(gnosis, Fork::Electra, v(5, 0, 0, 0x64), 1337856);
  expect_fork(gnosis, Fork::Fulu, v(6, 0, 0, 0x64), 1714688);
  EXPECT_EQ(gnosis.genesis_fork_version, v(0, 0, 0, 0x64));

  const auto chiado = *load_network("chiado");
  expect_fork(chiado, Fork::Phase0, v(0, 0, 0, 0x6f), 0);
  expect_fork(chiado, Fork::Altair, v(1, 0, 0, 0x6f), 90);
  expect_fork(chiado, Fork::Bellatrix, v(2, 0, 0, 0x6f), 180);
  expect_fork(chiado, Fork::Capella, v(3, 0, 0, 0x6f), 244224);
  expect_fork(chiado, Fork::Deneb, v(4, 0, 0, 0x6f), 516608);
  expect_fork(chiado, Fork::Electra, v(5, 0, 0, 0x6f), 948224);
  expect_fork(chiado, Fork::Fulu, v(6, 0, 0, 0x6f), 1353216);

  for (const auto* n : {&gnosis, &chiado}) {
    EXPECT_EQ(n->preset.name, "gnosis");
    EXPECT_EQ(n->preset.slots_per_epoch, 16u) << n->name;
    const Preset& m = mainnet_preset();
    EXPECT_EQ(n->preset.max_validators_per_committee, m.max_validators_per_committee);
    EXPECT_EQ(n->preset.max_committees_per_slot, m.max_committees_per_slot);
    EXPECT_EQ(n->preset.sync_committee_size, m.sync_committee_size);
    EXPECT_EQ(n->preset.max_attestations, m.max_attestations);
    EXPECT_EQ(n->preset.max_attestations_electra, m.max_attestations_electra);
  }
}

TEST(Network, ForkOfVersion) {
  const auto n = *load_network("mainnet");
  ASSERT_NE(n.fork_of_version(v(4, 0, 0, 0)), nullptr);
  EXPECT_EQ(n.fork_of_version(v(4, 0, 0, 0))->fork, Fork::Deneb);
  EXPECT_EQ(n.fork_of_version(v(0, 0, 0, 1)), nullptr);
}

class ConfigFile : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    path_ = std::filesystem::temp_directory_path() /
            ("cachet_eth_config_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml");
    std::ofstream(path_) << text;
    return path_.string();
  }
  void TearDown() override {
    if (!path_.empty()) std::filesystem::remove(path_);
  }
  std::filesystem::path path_;
};

TEST_F(ConfigFile, LoadsAConsensusConfig) {
  const std::string path = write(R"(# A devnet
PRESET_BASE: 'minimal'
CONFIG_NAME: "devnet-1"
GENESIS_FORK_VERSION: 0x10000038   # trailing comment
ALTAIR_FORK_VERSION: 0x20000038
ALTAIR_FORK_EPOCH: 0
BELLATRIX_FORK_VERSION: "0x30000038"
BELLATRIX_FORK_EPOCH: '10'
CAPELLA_FORK_VERSION: 0x40000038
TERMINAL_TOTAL_DIFFICULTY: 115792089237316195423570985008687907853269984665640564039457584007913129638912
DEPOSIT_CONTRACT_ADDRESS: 0x4242424242424242424242424242424242424242
BLOB_SCHEDULE:
  - EPOCH: 5
    MAX_BLOBS_PER_BLOCK: 9
EMPTY_LIST: []
)");
  auto n = load_network(path);
  ASSERT_TRUE(n) << n.error();
  EXPECT_EQ(n->name, path);
  EXPECT_EQ(n->preset.name, "minimal");
  EXPECT_EQ(n->genesis_fork_version, v(0x10, 0, 0, 0x38));
  ASSERT_EQ(n->forks.size(), 4u);  // Phase0, Altair, Bellatrix, Capella: Deneb .. Fulu are not named
  expect_fork(*n, Fork::Altair, v(0x20, 0, 0, 0x38), 0);
  expect_fork(*n, Fork::Bellatrix, v(0x30, 0, 0, 0x38), 10);
  expect_fork(*n, Fork::Capella, v(0x40, 0, 0, 0x38), kFarFutureEpoch);
  EXPECT_EQ(n->find(Fork::Deneb), nullptr);
}

// The head of gnosischain/configs chiado/config.yaml as published (quoted PRESET_BASE, trailing comments).
TEST_F(ConfigFile, PresetBaseGnosis) {
  auto n = load_network(write(R"(PRESET_BASE: 'gnosis'
CONFIG_NAME: 'chiado'
GENESIS_FORK_VERSION: 0x0000006f
ALTAIR_FORK_VERSION: 0x0100006f
ALTAIR_FORK_EPOCH: 90 # Mon Oct 10 2022 12:00:00 GMT+0000
BELLATRIX_FORK_VERSION: 0x0200006f
BELLATRIX_FORK_EPOCH: 180 # Mon Oct 10 2022 14:00:00 GMT+0000
)"));
  ASSERT_TRUE(n) << n.error();
  EXPECT_EQ(n->preset.name, "gnosis");
  EXPECT_EQ(n->preset.slots_per_epoch, 16u);
  expect_fork(*n, Fork::Bellatrix, v(2, 0, 0, 0x6f), 180);
}

TEST_F(ConfigFile, PresetBaseDefaultsToMainnet) {
  auto n = load_network(write("GENESIS_FORK_VERSION: 0x00000000\n"));
  ASSERT_TRUE(n) << n.error();
  EXPECT_EQ(n->preset.name, "mainnet");
}

TEST_F(ConfigFile, ErrorsNameTheKeyAndLine) {
  struct Case {
    const char* text;
    const char* expected;  // substring of the error
  };
  const Case cases[] = {
      {"PRESET_BASE: mainnet\nGENESIS_FORK_VERSION: 0x0000\n",
       ":2: GENESIS_FORK_VERSION: expected 0x and 8 hex digits"},
      {"GENESIS_FORK_VERSION: 0x00000000\nALTAIR_FORK_VERSION: 0x01000000\nALTAIR_FORK_EPOCH: soon\n",
       ":3: ALTAIR_FORK_EPOCH: expected a decimal epoch"},
      {"GENESIS_FORK_VERSION: 0x00000000\nALTAIR_FORK_EPOCH: -1\n", ":2: ALTAIR_FORK_EPOCH: expected a decimal epoch"},
      {"GENESIS_FORK_VERSION: 0x00000000\nALTAIR_FORK_EPOCH: 18446744073709551616\n",
       "ALTAIR_FORK_EPOCH: expected a decimal epoch"},
      {"PRESET_BASE: xdai\nGENESIS_FORK_VERSION: 0x00000000\n",
       ":1: PRESET_BASE: expected one of mainnet, minimal, gnosis, got 'xdai'"},
      {"ALTAIR_FORK_VERSION: 0x01000000\n", "GENESIS_FORK_VERSION: missing"},
      {"GENESIS_FORK_VERSION: 0x00000000\nGENESIS_FORK_VERSION: 0x00000001\n", ":2: GENESIS_FORK_VERSION: given twice"},
      {"GENESIS_FORK_VERSION: 0x00000000\nthis is not yaml\n", ":2: expected `KEY: value`"},
      {"GENESIS_FORK_VERSION: 0x00000000\nDENEB_FORK_EPOCH: 5\n",
       ":2: DENEB_FORK_EPOCH: given without DENEB_FORK_VERSION"},
      {"GENESIS_FORK_VERSION: 0x00000000\nALTAIR_FORK_VERSION: 0x01000000\nALTAIR_FORK_EPOCH: 10\n"
       "BELLATRIX_FORK_VERSION: 0x02000000\nBELLATRIX_FORK_EPOCH: 5\n",
       ":5: BELLATRIX_FORK_EPOCH: epoch 5 is before the previous fork's epoch 10"},
  };
  for (const auto& c : cases) {
    auto n = parse_network_config(c.text, "test.yaml");
    ASSERT_FALSE(n) << c.text;
    EXPECT_NE(n.error().find(c.expected), std::string::npos) << n.error();
    EXPECT_TRUE(n.error().starts_with("test.yaml")) << n.error();
  }
}

TEST_F(ConfigFile, BrokenFileOnDiskNamesTheKey) {
  auto n = load_network(write("GENESIS_FORK_VERSION: 0x00000000\nCAPELLA_FORK_VERSION: capella\n"));
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().find("CAPELLA_FORK_VERSION"), std::string::npos) << n.error();
  EXPECT_NE(n.error().find(path_.string()), std::string::npos) << n.error();
}

TEST(Network, UnknownNameIsAnError) {
  auto n = load_network("no-such-network");
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().find("no-such-network"), std::string::npos);
  EXPECT_NE(n.error().find("not one of " + builtin_network_list() + ","), std::string::npos) << n.error();
}

}  // namespace
}  // namespace cachet::eth

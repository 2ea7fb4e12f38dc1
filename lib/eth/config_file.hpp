// Reading a consensus-layer `config.yaml` (the flat `KEY: value` format of consensus-specs configs/*.yaml and the
// eth-clients network repositories) into a NetworkConfig.
#pragma once

#include <cachet/eth/network.hpp>
#include <expected>
#include <string>
#include <string_view>

namespace cachet::eth {

/// Parses the text of a config.yaml. Only PRESET_BASE, GENESIS_FORK_VERSION and <FORK>_FORK_VERSION/_EPOCH are read;
/// other keys and nested values (indented or `- ` lines, e.g. BLOB_SCHEDULE) are ignored. Errors name the source, the
/// line and the key.
std::expected<NetworkConfig, std::string> parse_network_config(std::string_view text, std::string_view source);

}  // namespace cachet::eth

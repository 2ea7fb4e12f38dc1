// Shared helpers of the eth unit tests: test data under CACHET_TEST_DATA and hex conversions.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cachet/eth/network.hpp>
#include <cachet/util/bytes.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include "../../../lib/eth/signing_parts.hpp"

namespace cachet::eth::test {

inline boost::json::value read_json(const std::string& relative) {
  std::ifstream in(std::string(CACHET_TEST_DATA) + "/" + relative, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open test data " + relative);
  std::ostringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str());
}

inline Bytes32 root(std::string_view hex) {
  auto bytes = from_hex_fixed<32>(hex);
  if (!bytes) throw std::runtime_error("bad 32-byte hex in test: " + std::string(hex));
  return *bytes;
}

inline std::string hex(std::span<const std::uint8_t> bytes) { return to_hex(bytes); }

/// A built-in network, loaded once.
inline const NetworkConfig& network(std::string_view name) {
  static const std::map<std::string, NetworkConfig, std::less<>> networks = [] {
    std::map<std::string, NetworkConfig, std::less<>> all;
    for (std::string_view n : builtin_network_names()) all.emplace(n, *load_network(n));
    return all;
  }();
  return networks.find(name)->second;
}

/// Parses `json` text as a request and runs it through compute_signing_parts.
inline std::expected<SigningParts, RequestError> parts_of(std::string_view json, const NetworkConfig& net) {
  return compute_signing_parts(boost::json::parse(json), net);
}

}  // namespace cachet::eth::test

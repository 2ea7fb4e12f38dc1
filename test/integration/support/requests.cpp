#include "support/requests.hpp"

#include <boost/json/parse.hpp>
#include <cachet/eth/signing_request.hpp>
#include <stdexcept>

namespace cachet::test {
namespace {

std::string root_from_seed(std::uint64_t seed) {
  Bytes32 root{};
  for (int i = 0; i < 8; ++i) root[31 - i] = static_cast<std::uint8_t>(seed >> (8 * i));
  root[0] = 0xaa;
  return to_hex(root);
}

std::string fork_info(const std::string& gvr) {
  return R"("fork_info":{"fork":{"previous_version":"0x04000000","current_version":"0x04000000","epoch":"0"},)"
         R"("genesis_validators_root":")" +
         gvr + R"("})";
}

}  // namespace

std::string attestation_request(std::uint64_t source, std::uint64_t target, std::uint64_t block_root_seed,
                                const std::string& gvr) {
  return R"({"type":"ATTESTATION",)" + fork_info(gvr) + R"(,"attestation":{"slot":")" + std::to_string(target * 32) +
         R"(","index":"0","beacon_block_root":")" + root_from_seed(block_root_seed) + R"(","source":{"epoch":")" +
         std::to_string(source) + R"(","root":")" + root_from_seed(1000 + source) + R"("},"target":{"epoch":")" +
         std::to_string(target) + R"(","root":")" + root_from_seed(2000 + target) + R"("}}})";
}

std::string block_request(std::uint64_t slot, std::uint64_t body_seed, const std::string& gvr) {
  return R"({"type":"BLOCK_V2",)" + fork_info(gvr) + R"(,"beacon_block":{"version":"DENEB","block_header":{"slot":")" +
         std::to_string(slot) + R"(","proposer_index":"7","parent_root":")" + root_from_seed(3) +
         R"(","state_root":")" + root_from_seed(4) + R"(","body_root":")" + root_from_seed(body_seed) + R"("}}})";
}

std::string randao_request(std::uint64_t epoch) {
  return R"({"type":"RANDAO_REVEAL",)" + fork_info(kGenesisValidatorsRoot) + R"(,"randao_reveal":{"epoch":")" +
         std::to_string(epoch) + R"("}})";
}

Bytes32 signing_root_of(const std::string& request) {
  static const auto network = eth::load_network("mainnet");
  auto parsed = eth::parse_signing_request(boost::json::parse(request), *network);
  if (!parsed) throw std::runtime_error("test request does not parse: " + parsed.error().message);
  return parsed->signing_root;
}

}  // namespace cachet::test

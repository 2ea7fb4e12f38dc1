// Sign request bodies for integration tests, with the signing root the signer must compute for them.
#pragma once

#include <cachet/util/bytes.hpp>
#include <cstdint>
#include <string>

namespace cachet::test {

inline constexpr const char* kGenesisValidatorsRoot =
    "0x04700007fabc8282644aed6d1c7c9e21d38a03a0c4ba193f3afe428824b3a673";

/// An ATTESTATION request (mainnet fork versions, phase0 fork_info); `block_root_seed` varies the root.
std::string attestation_request(std::uint64_t source, std::uint64_t target, std::uint64_t block_root_seed = 0,
                                const std::string& gvr = kGenesisValidatorsRoot);
/// A BLOCK_V2 request with a DENEB block header at `slot`; `body_seed` varies the root.
std::string block_request(std::uint64_t slot, std::uint64_t body_seed = 0,
                          const std::string& gvr = kGenesisValidatorsRoot);
std::string randao_request(std::uint64_t epoch);

/// The signing root `cachet --network mainnet` computes for a request body (via the core library).
Bytes32 signing_root_of(const std::string& request);

}  // namespace cachet::test

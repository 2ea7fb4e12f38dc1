// Commit-Boost's signing domain and the roots its signer signs (Commit-Boost signer API v0.1.0; see
// ../shared/specs/commit-boost/README.md): every signature of this API, consensus or proxy, is over
// SigningData(object_root, commit_boost_domain), a domain no consensus message uses, so none can be slashable.
#pragma once

#include <cachet/util/bytes.hpp>
#include <span>

namespace cachet::commit_boost {

/// "mmoC": Commit-Boost's domain type (the builder domain's construction with another type).
inline constexpr Bytes4 kDomainType{0x6d, 0x6d, 0x6f, 0x43};

/// compute_domain(kDomainType, genesis_fork_version, zero genesis_validators_root).
Bytes32 domain(const Bytes4& genesis_fork_version);

/// hash_tree_root(SigningData{object_root, domain}).
Bytes32 signing_root(const Bytes32& object_root, const Bytes32& domain);

/// hash_tree_root(ProxyDelegation{delegator: BLSPubkey, proxy}): `proxy` is a 48-byte BLS public key or a 20-byte
/// Ethereum address (an SSZ byte vector of that length either way).
Bytes32 proxy_delegation_root(const Bytes48& delegator, std::span<const std::uint8_t> proxy);

}  // namespace cachet::commit_boost

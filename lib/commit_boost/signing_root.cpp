#include <cachet/commit_boost/signing_root.hpp>

#include "eth/domain.hpp"
#include "eth/ssz.hpp"

namespace cachet::commit_boost {

Bytes32 domain(const Bytes4& genesis_fork_version) {
  return eth::compute_domain(kDomainType, genesis_fork_version, eth::ssz::Root{});
}

Bytes32 signing_root(const Bytes32& object_root, const Bytes32& domain) {
  return eth::compute_signing_root(object_root, domain);
}

Bytes32 proxy_delegation_root(const Bytes48& delegator, std::span<const std::uint8_t> proxy) {
  return eth::ssz::container_root(eth::ssz::bytes_root(delegator), eth::ssz::bytes_root(proxy));
}

}  // namespace cachet::commit_boost

#include "domain.hpp"

#include <algorithm>

namespace cachet::eth {

ssz::Root compute_fork_data_root(const Bytes4& current_version, const ssz::Root& genesis_validators_root) {
  // ForkData(Container): current_version: Version, genesis_validators_root: Root — two chunks, one hash.
  return ssz::hash_pair(ssz::bytes_root(current_version), genesis_validators_root);
}

Domain compute_domain(const DomainType& domain_type, const Bytes4& fork_version,
                      const ssz::Root& genesis_validators_root) {
  const ssz::Root fork_data_root = compute_fork_data_root(fork_version, genesis_validators_root);
  Domain domain;
  std::copy(domain_type.begin(), domain_type.end(), domain.begin());
  std::copy_n(fork_data_root.begin(), 28, domain.begin() + 4);
  return domain;
}

ssz::Root compute_signing_root(const ssz::Root& object_root, const Domain& domain) {
  // SigningData(Container): object_root: Root, domain: Domain — two chunks, one hash.
  return ssz::hash_pair(object_root, domain);
}

}  // namespace cachet::eth

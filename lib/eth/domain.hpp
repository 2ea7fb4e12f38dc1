// Signature domains and signing roots (consensus-specs phase0/beacon-chain.md, "Helper functions" > "Misc":
// compute_fork_data_root, compute_domain, compute_signing_root; "Domain types" in "Constants").
#pragma once

#include <cachet/util/bytes.hpp>
#include <cstdint>

#include "ssz.hpp"

namespace cachet::eth {

using DomainType = Bytes4;
using Domain = Bytes32;

// phase0/beacon-chain.md "Domain types"; altair/beacon-chain.md "Domain types" (sync committee ones);
// builder-specs specs/bellatrix/builder.md "Domain types" (DOMAIN_APPLICATION_BUILDER).
inline constexpr DomainType kDomainBeaconProposer{0x00, 0x00, 0x00, 0x00};
inline constexpr DomainType kDomainBeaconAttester{0x01, 0x00, 0x00, 0x00};
inline constexpr DomainType kDomainRandao{0x02, 0x00, 0x00, 0x00};
inline constexpr DomainType kDomainDeposit{0x03, 0x00, 0x00, 0x00};
inline constexpr DomainType kDomainVoluntaryExit{0x04, 0x00, 0x00, 0x00};
inline constexpr DomainType kDomainSelectionProof{0x05, 0x00, 0x00, 0x00};
inline constexpr DomainType kDomainAggregateAndProof{0x06, 0x00, 0x00, 0x00};
inline constexpr DomainType kDomainSyncCommittee{0x07, 0x00, 0x00, 0x00};
inline constexpr DomainType kDomainSyncCommitteeSelectionProof{0x08, 0x00, 0x00, 0x00};
inline constexpr DomainType kDomainContributionAndProof{0x09, 0x00, 0x00, 0x00};
inline constexpr DomainType kDomainApplicationBuilder{0x00, 0x00, 0x00, 0x01};

/// compute_fork_data_root: hash_tree_root(ForkData(current_version, genesis_validators_root)).
ssz::Root compute_fork_data_root(const Bytes4& current_version, const ssz::Root& genesis_validators_root);

/// compute_domain: domain_type + fork_data_root[:28]. The spec's defaults (GENESIS_FORK_VERSION, Root()) are the
/// caller's to pass: DEPOSIT and VALIDATOR_REGISTRATION use a zero genesis_validators_root.
Domain compute_domain(const DomainType& domain_type, const Bytes4& fork_version,
                      const ssz::Root& genesis_validators_root = {});

/// compute_signing_root: hash_tree_root(SigningData(object_root, domain)).
ssz::Root compute_signing_root(const ssz::Root& object_root, const Domain& domain);

}  // namespace cachet::eth

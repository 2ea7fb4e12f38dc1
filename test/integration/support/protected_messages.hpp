// Blocks and attestations as slashing protection sees them, for tests that send many of them concurrently to one
// or more signers: request bodies with their signing roots, an independent EIP-3076 slashing check over whatever
// was signed, and the comparison of what was signed with a signer's export.
#pragma once

#include <cachet/slashing/interchange.hpp>
#include <cachet/util/bytes.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "support/fixtures.hpp"

namespace cachet::test {

/// One BLOCK_V2 or ATTESTATION sign request for the key `key` (an index into the test's keys).
struct ProtectedMessage {
  enum class Kind { Block, Attestation } kind;
  std::size_t key = 0;
  std::uint64_t slot = 0;                // blocks
  std::uint64_t source = 0, target = 0;  // attestations
  std::string body;                      // the request body
  Bytes32 signing_root{};                // what the signer signs for `body`

  static ProtectedMessage block(std::size_t key, std::uint64_t slot, std::uint64_t body_seed);
  static ProtectedMessage attestation(std::size_t key, std::uint64_t source, std::uint64_t target,
                                      std::uint64_t block_root_seed);
  /// "block k3 slot 17" / "attestation k3 5->9", with the root's first bytes.
  std::string describe() const;
};

/// `count` requests over `keys` keys that conflict with each other densely: blocks at few slots with two different
/// bodies each (double proposals), attestations to few targets from nearby sources with two block roots (double
/// votes, and surround votes in both directions), in random order. Deterministic for a seed.
std::vector<ProtectedMessage> conflicting_messages(std::size_t count, std::size_t keys, std::uint32_t seed);

/// Round `round` of a validator that keeps going and whose requests conflict: a block at slot `round` with one of
/// two bodies, and an attestation to target `round` from source `round - 1` or `round - 2` (which surrounds the
/// previous round's `round - 2 -> round - 1`) with one of two block roots.
std::vector<ProtectedMessage> conflicting_round(std::size_t key, std::uint64_t round, std::mt19937& rng);

/// Why EIP-3076 forbids signing both `a` and `b` ("double proposal", "double vote", "surround vote"), or empty
/// when it does not (other keys or kinds, an identical re-sign, no conflict).
std::string_view slashable_together(const ProtectedMessage& a, const ProtectedMessage& b);

/// Pairs among `signed_messages` that EIP-3076 forbids signing together: two blocks at one slot with different
/// signing roots, two attestations to one target with different roots, and an attestation that surrounds another
/// (source before and target after it). Identical re-signs are not slashable. Each pair described, one a line.
std::vector<std::string> slashable_pairs(const std::vector<ProtectedMessage>& signed_messages);

/// The messages of `signed_messages` that `history` (an export) does not hold with their slot or epochs and root.
std::vector<ProtectedMessage> missing_from(const slashing::Interchange& history,
                                           const std::vector<ProtectedMessage>& signed_messages,
                                           const std::vector<KnownKey>& keys);

}  // namespace cachet::test

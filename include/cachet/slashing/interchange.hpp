// EIP-3076 slashing protection interchange format, version 5: parsing and writing.
#pragma once

#include <cachet/util/bytes.hpp>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachet::slashing {

struct SignedBlock {
  std::uint64_t slot;
  std::optional<Bytes32> signing_root;  // EIP-3076: optional
};

struct SignedAttestation {
  std::uint64_t source_epoch;
  std::uint64_t target_epoch;
  std::optional<Bytes32> signing_root;
};

struct ValidatorHistory {
  Bytes48 pubkey;
  std::vector<SignedBlock> signed_blocks;
  std::vector<SignedAttestation> signed_attestations;
};

struct Interchange {
  Bytes32 genesis_validators_root{};
  std::vector<ValidatorHistory> data;
};

/// Parses an interchange document. Integers are decimal strings as the schema says (JSON numbers are accepted
/// too, as some clients write them); hex fields must have their exact lengths. The error names the field.
std::expected<Interchange, std::string> parse_interchange(std::string_view json);

/// Writes version 5 with integers as decimal strings; roots are omitted when unknown.
std::string serialize_interchange(const Interchange& interchange);

}  // namespace cachet::slashing

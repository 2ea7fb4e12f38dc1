// One EIP-3076 interchange test file in the public format of eth-clients/slashing-protection-interchange-tests
// (../shared/specs/slashing-interchange/README.md), read into plain structs.
#pragma once

#include <cachet/util/bytes.hpp>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace cachet::interchange_test {

struct BlockCheck {
  Bytes48 pubkey{};
  std::uint64_t slot = 0;
  Bytes32 signing_root{};
  bool should_succeed = false;           // minimal strategy (imports minified)
  bool should_succeed_complete = false;  // complete history
};

struct AttestationCheck {
  Bytes48 pubkey{};
  std::uint64_t source_epoch = 0;
  std::uint64_t target_epoch = 0;
  Bytes32 signing_root{};
  bool should_succeed = false;
  bool should_succeed_complete = false;
};

struct Step {
  bool should_succeed = true;
  bool contains_slashable_data = false;
  std::string interchange_json;  // the step's `interchange`, re-serialized, for parse_interchange
  std::vector<BlockCheck> blocks;
  std::vector<AttestationCheck> attestations;
};

struct TestFile {
  std::string name;
  Bytes32 genesis_validators_root{};
  std::vector<Step> steps;
};

/// Reads a test file (any JSON layout, indented or minified). Integers are decimal strings (JSON numbers are
/// accepted too, as older files used them). The error names the field, e.g. "steps[1].blocks[0].slot: ...".
std::expected<TestFile, std::string> parse_test_file(std::string_view json);

}  // namespace cachet::interchange_test

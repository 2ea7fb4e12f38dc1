// Interchange scenarios in the shape of the public EIP-3076 test format (steps of import + block and attestation
// attempts with a minimal and a complete expectation), written for these tests, and a runner over any engine.
#pragma once

#include <gtest/gtest.h>

#include <cachet/slashing/slashing_protection.hpp>
#include <string>
#include <vector>

namespace cachet::slashing::cases {

inline Bytes48 pubkey(unsigned i) {
  Bytes48 pk{};
  pk[0] = 0xa0;
  pk[1] = static_cast<std::uint8_t>(i >> 8);
  pk[2] = static_cast<std::uint8_t>(i);
  for (std::size_t j = 3; j < pk.size(); ++j) pk[j] = static_cast<std::uint8_t>(j * 7 + i);
  return pk;
}

/// The test format's synthetic roots: 24 zero bytes and a big-endian u64.
inline Bytes32 root(std::uint64_t v) {
  Bytes32 r{};
  for (int i = 0; i < 8; ++i) r[31 - i] = static_cast<std::uint8_t>(v >> (8 * i));
  return r;
}

struct Entry {
  unsigned validator;
  std::vector<std::pair<std::uint64_t, std::optional<std::uint64_t>>> blocks;  // slot, root
  std::vector<std::tuple<std::uint64_t, std::uint64_t, std::optional<std::uint64_t>>> attestations;
};

inline Interchange interchange(const std::vector<Entry>& entries, Bytes32 gvr = {}) {
  Interchange out{gvr, {}};
  for (const auto& e : entries) {
    ValidatorHistory v{pubkey(e.validator), {}, {}};
    for (auto [slot, r] : e.blocks) v.signed_blocks.push_back({slot, r ? std::optional(root(*r)) : std::nullopt});
    for (auto [s, t, r] : e.attestations)
      v.signed_attestations.push_back({s, t, r ? std::optional(root(*r)) : std::nullopt});
    out.data.push_back(std::move(v));
  }
  return out;
}

struct BlockTry {
  unsigned validator;
  std::uint64_t slot, root;
  bool minimal, complete;
};
struct AttTry {
  unsigned validator;
  std::uint64_t source, target, root;
  bool minimal, complete;
};
struct Step {
  Interchange import;
  bool import_succeeds = true;
  std::vector<BlockTry> blocks = {};
  std::vector<AttTry> attestations = {};
};
struct Scenario {
  std::string name;
  std::vector<Step> steps;
  Bytes32 genesis_validators_root{};
};

/// What a scenario needs from an implementation.
struct Engine {
  virtual ~Engine() = default;
  virtual bool import(const Interchange& interchange) = 0;
  virtual bool sign_block(const Bytes48& pk, std::uint64_t slot, const Bytes32& root) = 0;
  virtual bool sign_attestation(const Bytes48& pk, std::uint64_t source, std::uint64_t target, const Bytes32& root) = 0;
};

/// Runs `scenario` as the test format says. With `minified`, each import is minified first and an outcome must lie
/// between the minimal and the complete expectation (a complete history fed minified data knows only minima).
inline void run_scenario(Engine& engine, const Scenario& scenario, bool minified) {
  // "An empty slashing-protection database for the top-level genesis_validators_root": an empty import pins it.
  ASSERT_TRUE(engine.import(Interchange{scenario.genesis_validators_root, {}})) << scenario.name;
  for (std::size_t s = 0; s < scenario.steps.size(); ++s) {
    const auto& step = scenario.steps[s];
    const auto data = minified ? minify(step.import) : step.import;
    const bool imported = engine.import(data);
    ASSERT_EQ(imported, step.import_succeeds) << scenario.name << " step " << s;
    if (!imported) return;
    auto expect = [&](bool got, bool minimal, bool complete, const std::string& what) {
      if (!minified || minimal == complete) {
        EXPECT_EQ(got, complete) << scenario.name << " step " << s << " " << what;
      }
    };
    for (const auto& b : step.blocks)
      expect(engine.sign_block(pubkey(b.validator), b.slot, root(b.root)), b.minimal, b.complete,
             "block " + std::to_string(b.validator) + "/" + std::to_string(b.slot) + "/" + std::to_string(b.root));
    for (const auto& a : step.attestations)
      expect(engine.sign_attestation(pubkey(a.validator), a.source, a.target, root(a.root)), a.minimal, a.complete,
             "attestation " + std::to_string(a.validator) + "/" + std::to_string(a.source) + "/" +
                 std::to_string(a.target) + "/" + std::to_string(a.root));
  }
}

/// Cases covering each rule: single and multiple validators, repeat signing, unknown roots, out-of-order and
/// duplicate data, slashable imports (self-slashable, and slashable against the database), several imports.
inline std::vector<Scenario> scenarios() {
  std::vector<BlockTry> single_blocks{
      {0, 32, 0, false, false}, {0, 33, 0, true, true}, {0, 31, 0, false, false}, {0, 1, 0, false, false}};
  std::vector<AttTry> single_atts{{0, 3, 4, 0, false, false},
                                  {0, 14, 19, 0, false, false},
                                  {0, 15, 20, 0, false, false},
                                  {0, 16, 20, 0, false, false},
                                  {0, 15, 21, 0, true, true}};
  // Two imports, one vote surrounding the other, in either order: the same answers.
  std::vector<AttTry> surround_checks{{0, 10, 20, 0, false, false},
                                      {0, 10, 21, 0, false, false},
                                      {0, 9, 21, 0, false, false},
                                      {0, 9, 22, 0, false, false},
                                      {0, 10, 22, 0, true, true}};
  // Histories imported more than once.
  const Entry v0{0, {{2, {}}, {4, {}}, {6, {}}}, {{0, 1, {}}, {1, 2, {}}}};
  const Entry v1{1, {{8, {}}, {10, {}}, {12, {}}}, {{0, 1, {}}, {0, 3, {}}}};
  const Entry v2{2, v1.blocks, v1.attestations};
  return {
      {"import_only", {{interchange({{0, {{22, {}}}, {{0, 2, {}}}}})}}},
      {"single_block", {{interchange({{0, {{32, {}}}, {}}}), true, single_blocks}}},
      {"single_attestation", {{interchange({{0, {}, {{15, 20, {}}}}}), true, {}, single_atts}}},
      {"genesis_attestation", {{interchange({{0, {}, {{0, 0, {}}}}}), true, {}, {{0, 0, 0, 0, false, false}}}}},
      {"blocks_and_attestations_gaps",
       {{interchange({{0, {{2, {}}, {3, {}}, {10, {}}, {1200, {}}}, {{10, 11, {}}, {12, 13, {}}, {20, 24, {}}}}}),
         true,
         {{0, 1, 0, false, false},
          {0, 2, 0, false, false},
          {0, 3, 0, false, false},
          {0, 10, 0, false, false},
          {0, 1200, 0, false, false},
          {0, 4, 0, false, true},
          {0, 256, 0, false, true},
          {0, 1201, 0, true, true}},
         {{0, 9, 10, 0, false, false},
          {0, 12, 13, 0, false, false},
          {0, 11, 14, 0, false, false},
          {0, 21, 22, 0, false, false},
          {0, 10, 24, 0, false, false},
          {0, 11, 12, 0, false, true},
          {0, 20, 25, 0, true, true}}}}},
      {"three_validators",
       {{interchange({{0, {{10, {}}, {15, {}}, {20, {}}}, {{0, 1, {}}, {0, 2, {}}, {1, 3, {}}, {2, 4, {}}, {4, 5, {}}}},
                      {1, {{3, {}}, {4, {}}, {100, {}}}, {{0, 0, {}}, {0, 1, {}}, {1, 2, {}}, {2, 5, {}}, {5, 6, {}}}},
                      {2, {{10, {}}, {15, {}}, {20, {}}}, {{1, 2, {}}, {1, 3, {}}, {2, 4, {}}}}}),
         true,
         {{0, 9, 0, false, false},
          {0, 10, 0, false, false},
          {0, 21, 0, true, true},
          {0, 11, 0, false, true},
          {1, 2, 0, false, false},
          {1, 3, 0, false, false},
          {1, 0, 0, false, false},
          {1, 101, 0, true, true},
          {2, 9, 0, false, false},
          {2, 10, 0, false, false},
          {2, 22, 0, true, true}},
         {{0, 0, 5, 0, false, false},
          {0, 3, 6, 0, false, false},
          {0, 4, 6, 0, true, true},
          {0, 5, 7, 0, true, true},
          {0, 6, 8, 0, true, true},
          {1, 1, 7, 0, false, false},
          {1, 1, 4, 0, false, true},
          {1, 5, 7, 0, true, true},
          {2, 0, 0, 0, false, false},
          {2, 0, 1, 0, false, false},
          {2, 2, 5, 0, true, true}}}}},
      {"same_slot_blocks_of_different_validators",
       {{interchange({{0, {{1, 0}, {2, 0}, {3, 0}}, {}}, {1, {{1, 1}, {3, 1}}, {}}, {2, {{1, 2}, {2, 2}}, {}}})}}},
      {"wrong_genesis_validators_root", {{interchange({}, root(1)), false}}},
      {"two_imports_with_a_gap",
       {{interchange({{0, {{40, {}}}, {{2, 30, {}}}}})},
        {interchange({{0, {{50, {}}}, {{10, 50, {}}}}}),
         true,
         {{0, 41, 0, false, true},
          {0, 45, 0, false, true},
          {0, 49, 0, false, true},
          {0, 50, 0, false, false},
          {0, 51, 0, true, true}},
         {{0, 3, 31, 0, false, true}, {0, 9, 49, 0, false, true}, {0, 10, 51, 0, true, true}}}}},
      {"second_import_below_the_first",
       {{interchange({{0, {{40, {}}}, {}}})}, {interchange({{0, {{20, {}}}, {}}}), true, {{0, 20, 0, false, false}}}}},
      {"signed_then_imported_below",
       {{interchange({{0, {{0, {}}}, {}}}),
         true,
         {{0, 10, 0, true, true}, {0, 20, 0, true, true}, {0, 30, 0, true, true}}},
        {interchange({{0, {{20, {}}}, {}}}), true, {{0, 29, 0, false, true}}}}},
      {"second_import_around_the_first",
       {{interchange({{0, {{40, {}}}, {}}})},
        {interchange({{0, {{20, {}}, {50, {}}}, {}}}), true, {{0, 20, 0, false, false}, {0, 50, 0, false, false}}}}},
      {"attestation_imported_below",
       {{interchange({{0, {}, {{12, 13, {}}}}})},
        {interchange({{0, {}, {{10, 11, {}}}}}),
         true,
         {},
         {{0, 10, 14, 0, false, false},
          {0, 12, 13, 0, false, false},
          {0, 12, 14, 0, true, true},
          {0, 13, 15, 0, true, true}}}}},
      {"second_import_surrounds_first",
       {{interchange({{0, {}, {{10, 20, {}}}}})}, {interchange({{0, {}, {{9, 21, {}}}}}), true, {}, surround_checks}}},
      {"first_import_surrounds_second",
       {{interchange({{0, {}, {{9, 21, {}}}}})}, {interchange({{0, {}, {{10, 20, {}}}}}), true, {}, surround_checks}}},
      {"repeated_import",
       {{interchange({v0, v1})},
        {interchange({v0, v1}),
         true,
         {{0, 0, 0, false, false},
          {0, 3, 0, false, true},
          {0, 7, 0, true, true},
          {0, 3, 0, false, true},
          {1, 0, 0, false, false}},
         {{0, 0, 4, 0, false, false}, {1, 0, 4, 0, true, true}}}}},
      {"overlapping_validators",
       {{interchange({v0, v1})},
        {interchange({v0, v2})},
        {interchange({v1, v2}),
         true,
         {},
         {{0, 0, 4, 0, false, false}, {1, 1, 2, 0, false, false}, {2, 1, 2, 0, false, false}}}}},
      {"merge_stale_history",
       {{interchange(
            {{0, {{100, {}}}, {{12, 13, {}}}}, {1, {{101, {}}}, {{12, 13, {}}}}, {2, {{4, {}}}, {{4, 5, {}}}}})},
        {interchange({{0, {{2, {}}}, {{4, 5, {}}}}, {1, {{3, {}}}, {{3, 4, {}}}}, {2, {{102, {}}}, {{12, 13, {}}}}}),
         true,
         {{0, 100, 0, false, false},
          {1, 101, 0, false, false},
          {2, 102, 0, false, false},
          {0, 103, 0, true, true},
          {1, 104, 0, true, true},
          {2, 105, 0, true, true}},
         {{0, 12, 13, 0, false, false},
          {0, 11, 14, 0, false, false},
          {1, 12, 13, 0, false, false},
          {1, 11, 14, 0, false, false},
          {2, 12, 13, 0, false, false},
          {2, 11, 14, 0, false, false},
          {0, 12, 14, 0, true, true},
          {1, 13, 14, 0, true, true},
          {2, 13, 14, 0, true, true}}}}},
      {"source_after_target_imported", {{interchange({{0, {}, {{8, 7, {}}}}})}}},
      {"source_after_target_surrounding",
       {{interchange({{0, {}, {{5, 2, {}}}}}), true, {}, {{0, 3, 4, 0, false, false}}}}},
      {"source_after_target_surrounded",
       {{interchange({{0, {}, {{5, 2, {}}}}}), true, {}, {{0, 6, 1, 0, false, false}}}}},
      {"source_after_target_with_a_sensible_vote",
       {{interchange({{0, {}, {{5, 2, {}}, {6, 7, {}}}}}),
         true,
         {},
         {{0, 5, 8, 0, false, false}, {0, 6, 8, 0, true, true}}}}},
      {"out_of_order_blocks",
       {{interchange({{0, {{6, {}}, {5, {}}}, {}}}),
         true,
         {{0, 5, 0, false, false}, {0, 6, 0, false, false}, {0, 7, 0, true, true}}}}},
      {"out_of_order_attestations",
       {{interchange({{0, {}, {{4, 5, {}}, {3, 4, {}}}}}),
         true,
         {},
         {{0, 3, 4, 0, false, false},
          {0, 4, 5, 0, false, false},
          {0, 1, 10, 0, false, false},
          {0, 3, 3, 0, false, false}}}}},
      {"two_blocks_without_roots", {{interchange({{0, {{10, {}}, {20, {}}}, {}}}), true, {{0, 20, 0, false, false}}}}},
      {"block_attempts_at_an_unknown_root",
       {{interchange({{0, {{15, {}}, {16, {}}, {17, {}}}, {}}}),
         true,
         {{0, 16, 0, false, false}, {0, 16, 1, false, false}, {0, 16, ~0ULL, false, false}}}}},
      {"resign_block",
       {{interchange({{0, {{15, 151}, {16, 161}, {17, 171}}, {}}}),
         true,
         {{0, 15, 151, false, true},
          {0, 16, 161, false, true},
          {0, 17, 171, false, true},
          {0, 15, 152, false, false},
          {0, 15, 0, false, false},
          {0, 16, 151, false, false},
          {0, 17, 151, false, false},
          {0, 18, 151, true, true},
          {0, 14, 171, false, false}}}}},
      {"resign_attestation",
       {{interchange({{0, {}, {{5, 15, 515}}}}),
         true,
         {},
         {{0, 5, 15, 0, false, false},
          {0, 5, 15, 1, false, false},
          {0, 5, 15, 515, false, true},
          {0, 6, 15, 615, false, false},
          {0, 5, 14, 515, false, false}}}}},
      {"slashable_blocks", {{interchange({{0, {{10, 0}, {10, 11}}, {}}}), true, {{0, 10, 0, false, false}}}}},
      {"slashable_blocks_without_roots", {{interchange({{0, {{10, {}}, {10, {}}}, {}}})}}},
      {"slashable_double_vote",
       {{interchange({{0, {}, {{2, 3, 0}, {2, 3, 1}}}}),
         true,
         {},
         {{0, 2, 3, 0, false, false}, {0, 2, 3, 1, false, false}, {0, 2, 4, 0, true, true}}}}},
      {"slashable_surrounds_existing", {{interchange({{0, {}, {{2, 3, {}}, {0, 4, {}}}}})}}},
      {"slashable_surrounded_by_existing",
       {{interchange({{0, {}, {{0, 4, {}}, {2, 3, {}}}}}),
         true,
         {},
         {{0, 1, 4, 0, false, false}, {0, 1, 5, 0, false, false}, {0, 4, 5, 0, true, true}}}}},
      {"duplicate_pubkey_not_slashable",
       {{interchange({{0, {{10, {}}, {11, {}}}, {{0, 2, {}}}}, {0, {{12, {}}, {13, {}}}, {{1, 3, {}}}}}),
         true,
         {{0, 10, 0, false, false}, {0, 13, 0, false, false}, {0, 14, 0, true, true}},
         {{0, 0, 2, 0, false, false}, {0, 1, 3, 0, false, false}}}}},
      {"duplicate_pubkey_slashable_block",
       {{interchange({{0, {{10, {}}}, {{0, 2, {}}}}, {0, {{10, {}}}, {{1, 3, {}}}}}),
         true,
         {{0, 10, 0, false, false}, {0, 11, 0, true, true}}}}},
      {"duplicate_pubkey_slashable_attestation",
       {{interchange({{0, {}, {{0, 3, 3}}}, {0, {}, {{1, 2, {}}}}}),
         true,
         {},
         {{0, 0, 1, 0, false, false},
          {0, 0, 2, 0, false, false},
          {0, 0, 4, 0, false, false},
          {0, 1, 4, 0, true, true}}}}},
      {"extreme_values",
       {{interchange({{0, {{~0ULL - 2, 7}}, {{~0ULL - 5, ~0ULL - 3, 9}}}}),
         true,
         {{0, ~0ULL - 2, 7, false, true}, {0, ~0ULL - 1, 8, true, true}, {0, ~0ULL, 8, true, true}},
         {{0, ~0ULL - 5, ~0ULL - 3, 9, false, true},
          {0, ~0ULL - 4, ~0ULL - 2, 9, true, true},
          {0, ~0ULL - 6, ~0ULL, 9, false, false},
          {0, ~0ULL - 1, ~0ULL, 9, true, true}}}}},
  };
}

}  // namespace cachet::slashing::cases

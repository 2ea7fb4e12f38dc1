// The rules without a database: lib/slashing/validator_history.
#include "../../../lib/slashing/validator_history.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "scenarios.hpp"

using namespace cachet;
using namespace cachet::slashing;
using namespace cachet::slashing::detail;
using cachet::slashing::cases::pubkey;
using cachet::slashing::cases::root;

namespace {

/// Imports and signs against in-memory histories only: the rules as the database-backed service applies them.
struct MemoryEngine : cases::Engine {
  std::map<Bytes48, History> histories;
  std::optional<Bytes32> gvr;

  bool import(const Interchange& interchange) override {
    if (gvr && *gvr != interchange.genesis_validators_root) return false;
    gvr = interchange.genesis_validators_root;
    for (const auto& v : interchange.data) histories[v.pubkey].import(v.signed_blocks, v.signed_attestations);
    return true;
  }
  bool sign_block(const Bytes48& pk, std::uint64_t slot, const Bytes32& r) override {
    auto& h = histories[pk];
    auto result = h.check_block(slot, r);
    if (result.refused()) return false;
    h.add_block({slot, r});
    return true;
  }
  bool sign_attestation(const Bytes48& pk, std::uint64_t source, std::uint64_t target, const Bytes32& r) override {
    auto& h = histories[pk];
    auto result = h.check_attestation(source, target, r);
    if (result.refused()) return false;
    h.add_attestation({source, target, r});
    return true;
  }
};

History imported(std::vector<SignedBlock> blocks, std::vector<SignedAttestation> atts) {
  History h;
  h.import(blocks, atts);
  return h;
}

}  // namespace

TEST(ValidatorHistory, Scenarios) {
  for (const auto& scenario : cases::scenarios()) {
    MemoryEngine engine;
    cases::run_scenario(engine, scenario, false);
  }
}

TEST(ValidatorHistory, ScenariosMinified) {
  for (const auto& scenario : cases::scenarios()) {
    MemoryEngine engine;
    cases::run_scenario(engine, scenario, true);
  }
}

TEST(ValidatorHistory, Blocks) {
  History h;
  EXPECT_EQ(h.check_block(10, root(1)).verdict, Verdict::Safe);
  h.add_block({10, root(1)});
  EXPECT_EQ(h.check_block(10, root(1)).verdict, Verdict::Repeat);
  auto twice = h.check_block(10, root(2));
  EXPECT_EQ(twice.verdict, Verdict::DoubleBlock);
  EXPECT_EQ(reason_code(twice.verdict), "double_block");
  EXPECT_NE(twice.message.find("slot 10"), std::string::npos) << twice.message;
  // Without import watermarks, a lower slot that was never signed is not slashable.
  EXPECT_EQ(h.check_block(9, root(2)).verdict, Verdict::Safe);
  EXPECT_EQ(h.check_block(11, root(2)).verdict, Verdict::Safe);

  // An entry without a root never matches, not even the zero root.
  h.add_block({20, std::nullopt});
  EXPECT_EQ(h.check_block(20, Bytes32{}).verdict, Verdict::DoubleBlock);
  // A second record at a signed slot with another root makes the root unknown.
  h.add_block({10, root(3)});
  EXPECT_EQ(h.check_block(10, root(1)).verdict, Verdict::DoubleBlock);
  EXPECT_EQ(h.blocks().size(), 2u);
}

TEST(ValidatorHistory, Attestations) {
  History h;
  h.add_attestation({10, 20, root(1)});
  EXPECT_EQ(h.check_attestation(10, 20, root(1)).verdict, Verdict::Repeat);
  EXPECT_EQ(h.check_attestation(10, 20, root(2)).verdict, Verdict::DoubleVote);
  EXPECT_EQ(h.check_attestation(11, 20, root(1)).verdict, Verdict::DoubleVote);
  EXPECT_EQ(h.check_attestation(9, 21, root(1)).verdict, Verdict::SurroundingVote);
  EXPECT_EQ(h.check_attestation(11, 19, root(1)).verdict, Verdict::SurroundedVote);
  EXPECT_EQ(h.check_attestation(12, 11, root(1)).verdict, Verdict::SourceAfterTarget);
  EXPECT_EQ(reason_code(Verdict::SurroundingVote), "surrounding_vote");
  EXPECT_EQ(reason_code(Verdict::SurroundedVote), "surrounded_vote");
  EXPECT_EQ(reason_code(Verdict::SourceAfterTarget), "source_after_target");
  EXPECT_EQ(reason_code(Verdict::DoubleVote), "double_vote");
  EXPECT_EQ(reason_code(Verdict::Safe), "");
  // Not slashable: the same source, a lower target never signed; a target below with a lower source.
  EXPECT_EQ(h.check_attestation(10, 15, root(1)).verdict, Verdict::Safe);
  EXPECT_EQ(h.check_attestation(5, 15, root(1)).verdict, Verdict::Safe);
  // The honest next vote, and a source between.
  EXPECT_EQ(h.check_attestation(20, 21, root(1)).verdict, Verdict::Safe);
  EXPECT_EQ(h.check_attestation(10, 21, root(1)).verdict, Verdict::Safe);
  // Equal source or target is never a surround.
  EXPECT_EQ(h.check_attestation(10, 25, root(1)).verdict, Verdict::Safe);
  EXPECT_EQ(h.check_attestation(0, 10, root(1)).verdict, Verdict::Safe);
  // Source == target is allowed (the genesis vote).
  EXPECT_EQ(History{}.check_attestation(0, 0, root(1)).verdict, Verdict::Safe);
}

TEST(ValidatorHistory, ImportWatermarksAndRepeatSigning) {
  auto h = imported({{15, root(151)}, {17, std::nullopt}}, {{5, 15, root(515)}, {6, 16, std::nullopt}});
  EXPECT_EQ(h.watermarks().import_min_slot, 15u);
  EXPECT_EQ(h.watermarks().import_min_source, 5u);
  EXPECT_EQ(h.watermarks().import_min_target, 15u);
  // EIP-3076 §Conditions: at the minimum, a repeat signing is still allowed, anything else is not.
  EXPECT_EQ(h.check_block(15, root(151)).verdict, Verdict::Repeat);
  EXPECT_EQ(h.check_block(14, root(151)).verdict, Verdict::BelowWatermark);
  EXPECT_EQ(h.check_block(16, root(1)).verdict, Verdict::Safe);
  EXPECT_EQ(h.check_attestation(5, 15, root(515)).verdict, Verdict::Repeat);
  EXPECT_EQ(h.check_attestation(4, 17, root(1)).verdict, Verdict::SurroundingVote);
  EXPECT_EQ(h.check_attestation(4, 30, root(1)).verdict, Verdict::SurroundingVote);
  // The minima alone (their entries pruned away) refuse a lower source, and a target at or below.
  History below;
  below.load({}, {}, Watermarks{.import_min_source = 5, .import_min_target = 15});
  EXPECT_EQ(below.check_attestation(4, 30, root(1)).verdict, Verdict::BelowWatermark);
  EXPECT_EQ(below.check_attestation(5, 15, root(1)).verdict, Verdict::BelowWatermark);
  EXPECT_EQ(below.check_attestation(5, 16, root(1)).verdict, Verdict::Safe);
  EXPECT_EQ(reason_code(Verdict::BelowWatermark), "below_watermark");
  // A second import lowers the minima (the complete strategy's merge), never raises them.
  h.import(std::vector<SignedBlock>{{30, std::nullopt}}, std::vector<SignedAttestation>{{1, 2, std::nullopt}});
  EXPECT_EQ(h.watermarks().import_min_slot, 15u);
  EXPECT_EQ(h.watermarks().import_min_source, 1u);
  EXPECT_EQ(h.watermarks().import_min_target, 2u);
}

TEST(ValidatorHistory, PruningKeepsRefusingAndAllowsTheHonestNextMessage) {
  History h;
  // 400 epochs of honest votes and a block every 50 epochs.
  for (std::uint64_t e = 1; e <= 400; ++e) {
    ASSERT_FALSE(h.check_attestation(e - 1, e, root(e)).refused());
    h.add_attestation({e - 1, e, root(e)});
    if (e % 50 == 0) h.add_block({e * 32, root(e)});
  }
  History unpruned = h;
  auto result = h.prune(256, 32);
  EXPECT_EQ(result.attestations, 143u);  // targets 1..143 are more than 256 epochs behind 400
  EXPECT_EQ(result.blocks, 2u);          // epochs 50 and 100
  EXPECT_EQ(h.attestations().size(), 257u);
  EXPECT_EQ(h.attestations().front().target, 144u);
  EXPECT_EQ(result.max_target, 143u);
  EXPECT_EQ(result.max_source, 142u);
  EXPECT_EQ(result.max_slot, 3200u);
  EXPECT_EQ(h.watermarks().pruned_max_target, 143u);

  // Everything the unpruned history refuses is still refused; the honest next messages are allowed.
  for (std::uint64_t s = 0; s < 420; s += 3)
    for (std::uint64_t t = s; t < 420; t += 2) {
      auto before = unpruned.check_attestation(s, t, root(9999));
      auto after = h.check_attestation(s, t, root(9999));
      if (before.refused()) {
        EXPECT_TRUE(after.refused()) << s << "," << t;
      }
    }
  for (std::uint64_t slot = 0; slot < 13000; slot += 97)
    if (unpruned.check_block(slot, root(1)).refused()) {
      EXPECT_TRUE(h.check_block(slot, root(1)).refused()) << slot;
    }
  EXPECT_FALSE(h.check_attestation(400, 401, root(1)).refused());
  EXPECT_FALSE(h.check_block(401 * 32, root(1)).refused());
  EXPECT_EQ(h.check_attestation(142, 143, root(143)).verdict, Verdict::BelowWatermark);  // pruned: no repeat
  EXPECT_EQ(h.check_attestation(399, 400, root(400)).verdict, Verdict::Repeat);          // kept: repeat allowed
  EXPECT_EQ(h.check_block(3200, root(100)).verdict, Verdict::BelowWatermark);
  EXPECT_EQ(h.check_block(3100, root(1)).verdict, Verdict::BelowWatermark);  // below the pruned block

  // Nothing more to prune until newer history arrives; disabled pruning prunes nothing.
  EXPECT_EQ(h.prune(256, 32).attestations, 0u);
  EXPECT_EQ(unpruned.prune(0, 32).attestations, 0u);
  EXPECT_EQ(unpruned.prune(1000, 32).attestations, 0u);
}

TEST(ValidatorHistory, PrunedSourceWatermarkCoversOddSources) {
  // An imported vote with a high source pruned away still refuses lower sources (a surround of it).
  auto h = imported({}, {{50, 60, std::nullopt}, {10, 400, std::nullopt}});
  auto result = h.prune(100, 32);
  EXPECT_EQ(result.attestations, 1u);
  EXPECT_EQ(result.max_source, 50u);
  // (40, 401) would surround the pruned (50, 60).
  EXPECT_EQ(h.check_attestation(40, 401, root(2)).verdict, Verdict::BelowWatermark);
  EXPECT_FALSE(h.check_attestation(400, 401, root(2)).refused());
}

TEST(ValidatorHistory, ExportCarriesPrunedWatermarksAndRoundTrips) {
  History h;
  h.import(std::vector<SignedBlock>{{64, std::nullopt}}, std::vector<SignedAttestation>{{1, 2, std::nullopt}});
  for (std::uint64_t e = 3; e <= 40; ++e) {
    h.add_attestation({e - 1, e, root(e)});
    h.add_block({e * 32 + 5, root(e)});
  }
  h.add_attestation({20, 30, std::nullopt});  // an odd imported vote: source above some later ones
  h.prune(10, 32);
  auto exported = h.to_interchange(pubkey(1));
  ASSERT_FALSE(exported.signed_blocks.empty());
  EXPECT_EQ(exported.signed_blocks.front().slot, *h.watermarks().pruned_max_slot);
  EXPECT_FALSE(exported.signed_blocks.front().signing_root);
  EXPECT_EQ(exported.signed_attestations.front().source_epoch, *h.watermarks().pruned_max_source);
  EXPECT_EQ(exported.signed_attestations.front().target_epoch, *h.watermarks().pruned_max_target);

  History copy;
  copy.import(exported.signed_blocks, exported.signed_attestations);
  for (std::uint64_t s = 0; s < 50; ++s)
    for (std::uint64_t t = s; t < 50; ++t)
      for (std::uint64_t r : {t, 9999ul})
        EXPECT_EQ(h.check_attestation(s, t, root(r)).refused(), copy.check_attestation(s, t, root(r)).refused())
            << s << "," << t << "," << r;
  for (std::uint64_t slot = 0; slot < 50 * 32; ++slot)
    for (std::uint64_t r : {slot / 32, 9999ul})
      EXPECT_EQ(h.check_block(slot, root(r)).refused(), copy.check_block(slot, root(r)).refused()) << slot;
}

TEST(ValidatorHistory, AgreesWithABruteForceReference) {
  // Random histories (including imported nonsense: source > target, unknown roots) against the definitions.
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    History h;
    std::vector<SignedAttestation> all;
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
      SignedAttestation a{rng() % 20, rng() % 20, (rng() % 3) ? std::optional(root(rng() % 3)) : std::nullopt};
      h.add_attestation(a);
      all.push_back(a);
    }
    for (std::uint64_t s = 0; s < 21; ++s)
      for (std::uint64_t t = 0; t < 21; ++t)
        for (std::uint64_t r = 0; r < 3; ++r) {
          bool repeat = false, conflict = s > t;
          for (const auto& a : all) {
            const bool same_target = a.target_epoch == t;
            if (same_target && a.source_epoch == s) {
              // Repeat only if every record of this pair had this root.
              bool all_match = true;
              for (const auto& b : all)
                if (b.target_epoch == t && b.source_epoch == s && b.signing_root != root(r)) all_match = false;
              if (all_match) repeat = true;
            }
            if (same_target) conflict = true;
            if (a.source_epoch < s && t < a.target_epoch) conflict = true;
            if (s < a.source_epoch && a.target_epoch < t) conflict = true;
          }
          const bool allowed = s <= t && (repeat || !conflict);
          EXPECT_EQ(!h.check_attestation(s, t, root(r)).refused(), allowed)
              << "round " << round << " (" << s << "," << t << "," << r << ")";
        }
  }
}

TEST(ValidatorHistory, LoadMergesAndSorts) {
  History h;
  h.load(std::vector<SignedBlock>{{5, root(1)}, {3, root(1)}, {5, root(2)}},
         std::vector<SignedAttestation>{{3, 4, root(1)}, {1, 2, root(1)}, {3, 4, root(1)}},
         Watermarks{.import_min_slot = 2});
  ASSERT_EQ(h.blocks().size(), 2u);
  EXPECT_EQ(h.blocks()[0].slot, 3u);
  EXPECT_FALSE(h.blocks()[1].has_root);
  ASSERT_EQ(h.attestations().size(), 2u);
  EXPECT_TRUE(h.attestations()[1].has_root);
  EXPECT_EQ(h.check_block(2, root(9)).verdict, Verdict::BelowWatermark);
}

TEST(Minify, OneMaximumBlockAndAttestationPerValidator) {
  auto in = cases::interchange({{0, {{5, 1}, {9, 2}}, {{1, 2, 3}, {7, 4, {}}, {2, 8, 1}}},
                                {1, {}, {}},
                                {0, {{3, {}}}, {{0, 9, {}}}},
                                {2, {{1, 1}}, {}}},
                               root(77));
  auto m = minify(in);
  EXPECT_EQ(m.genesis_validators_root, root(77));
  ASSERT_EQ(m.data.size(), 3u);
  EXPECT_EQ(m.data[0].pubkey, pubkey(0));
  ASSERT_EQ(m.data[0].signed_blocks.size(), 1u);
  EXPECT_EQ(m.data[0].signed_blocks[0].slot, 9u);
  EXPECT_FALSE(m.data[0].signed_blocks[0].signing_root);
  ASSERT_EQ(m.data[0].signed_attestations.size(), 1u);
  EXPECT_EQ(m.data[0].signed_attestations[0].source_epoch, 7u);
  EXPECT_EQ(m.data[0].signed_attestations[0].target_epoch, 9u);
  EXPECT_FALSE(m.data[0].signed_attestations[0].signing_root);
  EXPECT_TRUE(m.data[1].signed_blocks.empty());
  EXPECT_TRUE(m.data[1].signed_attestations.empty());
  EXPECT_EQ(m.data[2].signed_blocks.size(), 1u);
  EXPECT_TRUE(m.data[2].signed_attestations.empty());
}

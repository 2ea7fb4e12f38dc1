// The EIP-3076 rules over one validator's complete signing history, in memory and without a database: what may be
// signed, how history merges (signing, imports, duplicates), how it is pruned into watermarks and exported.
//
// The rules (the "complete" strategy of EIP-3076 and of the public interchange tests' `should_succeed_complete`):
// - Blocks: a second block at a slot already signed is refused (double proposal) unless it is the very same block
//   (same slot, same known signing root: EIP-3076 §Conditions "except if it is a repeat signing as determined by the
//   signing_root"). An entry without a root (imported, or two conflicting roots merged) never matches.
// - Attestations: refused when source > target, for a double vote (same target, different or unknown root), when it
//   surrounds or is surrounded by a recorded one; the very same attestation (source, target, root) is allowed.
// - Low watermarks from imports (EIP-3076 §Conditions 1-3): refuse slot <= min imported slot, source < min imported
//   source, target <= min imported target (repeat signings excepted). Across several imports the minimum is taken
//   over all of them, as the public tests' complete expectations require (multiple_interchanges_*_gap: after
//   importing slot 40 and then slot 50, slot 41 may be signed). Messages this signer signed itself set no low
//   watermark: their full history is kept, so refusing double and surround votes is enough.
// - Pruned history becomes high watermarks: refuse slot <= max pruned slot, source < max pruned source or
//   target <= max pruned target. Anything passing them cannot double-vote, surround or be surrounded by a pruned
//   entry (a surround needs a smaller source than one pruned, or a smaller target than one pruned).
#pragma once

#include <cachet/slashing/interchange.hpp>
#include <cachet/util/bytes.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cachet::slashing::detail {

enum class Verdict : std::uint8_t {
  Safe,    // new: record it
  Repeat,  // the very same message is already recorded: sign again (after its record is durable)
  DoubleBlock,
  DoubleVote,
  SurroundingVote,
  SurroundedVote,
  SourceAfterTarget,
  BelowWatermark,
};

struct CheckResult {
  Verdict verdict = Verdict::Safe;
  std::string message;  // for refusals: one line naming the conflicting record
  bool refused() const { return verdict != Verdict::Safe && verdict != Verdict::Repeat; }
};

/// The Decision::reason_code of a refusal ("double_block", ...); empty for Safe and Repeat.
std::string_view reason_code(Verdict verdict);

struct Watermarks {
  // EIP-3076 §Conditions: the minima over all imported data.
  std::optional<std::uint64_t> import_min_slot, import_min_source, import_min_target;
  // The maxima over pruned history.
  std::optional<std::uint64_t> pruned_max_slot, pruned_max_source, pruned_max_target;
  bool operator==(const Watermarks&) const = default;
};

/// What one pruning pass removed: the new pruned maxima (absolute) and how many entries went.
struct PruneResult {
  std::optional<std::uint64_t> max_slot, max_source, max_target;
  std::size_t blocks = 0, attestations = 0;
};

/// One validator's unpruned history: blocks sorted by slot (one entry a slot), attestations sorted by (target,
/// source) (one entry a pair), and the watermarks. Not thread-safe: the caller holds the validator's lock.
class History {
 public:
  /// Entries as stored; `root` is meaningful only when `has_root`.
  struct Block {
    std::uint64_t slot;
    Bytes32 root;
    bool has_root;
  };
  struct Attestation {
    std::uint64_t source, target;
    Bytes32 root;
    bool has_root;
  };

  /// Replaces everything (loading from storage); the entries need not be sorted and may repeat (they merge).
  void load(std::span<const SignedBlock> blocks, std::span<const SignedAttestation> attestations,
            const Watermarks& watermarks);

  CheckResult check_block(std::uint64_t slot, const Bytes32& root) const;
  CheckResult check_attestation(std::uint64_t source, std::uint64_t target, const Bytes32& root) const;

  /// Records a message (signed, or imported). An existing entry at the same slot, or the same (source, target),
  /// keeps its root only if both roots are known and equal, otherwise the root becomes unknown: conflicting
  /// imported data keeps refusing everything either message would refuse.
  void add_block(const SignedBlock& block);
  void add_attestation(const SignedAttestation& attestation);

  /// EIP-3076 import: merges the entries and lowers the import watermarks to the minima of the imported data.
  void import(std::span<const SignedBlock> blocks, std::span<const SignedAttestation> attestations);

  /// Removes history more than `keep_epochs` epochs older than this validator's newest epoch (the greatest of its
  /// newest target and its newest block's epoch) and raises the pruned watermarks over it. Nothing when nothing
  /// is that old or keep_epochs is 0.
  PruneResult prune(std::uint64_t keep_epochs, std::uint64_t slots_per_epoch);

  /// The history as EIP-3076 entries, with the pruned watermarks as synthetic entries without roots (a block at the
  /// max pruned slot, an attestation at (max pruned source, max pruned target)) so that an importer refuses what
  /// this history refuses (EIP-3076 §Conditions: the importer refuses up to the minima, and surrounds of them).
  ValidatorHistory to_interchange(const Bytes48& pubkey) const;

  const std::vector<Block>& blocks() const { return blocks_; }
  const std::vector<Attestation>& attestations() const { return attestations_; }
  const Watermarks& watermarks() const { return watermarks_; }
  bool empty() const { return blocks_.empty() && attestations_.empty() && watermarks_ == Watermarks{}; }

 private:
  void recompute_max_source();

  std::vector<Block> blocks_;
  std::vector<Attestation> attestations_;
  Watermarks watermarks_;
  std::uint64_t max_source_ = 0;  // over attestations_ (0 when empty): the honest fast path needs source >= it
};

}  // namespace cachet::slashing::detail

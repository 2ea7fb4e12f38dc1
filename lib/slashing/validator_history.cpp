#include "validator_history.hpp"

#include <algorithm>
#include <cachet/slashing/slashing_protection.hpp>
#include <unordered_map>

namespace cachet::slashing {
namespace detail {
namespace {

std::string n(std::uint64_t v) { return std::to_string(v); }

std::string root_text(bool has_root, const Bytes32& root) {
  return has_root ? "signing root " + to_hex(root) : "unknown signing root";
}

bool same_root(bool has_root, const Bytes32& root, const std::optional<Bytes32>& other) {
  return has_root && other && root == *other;
}

void lower(std::optional<std::uint64_t>& watermark, std::uint64_t value) {
  if (!watermark || value < *watermark) watermark = value;
}

void raise(std::optional<std::uint64_t>& watermark, std::uint64_t value) {
  if (!watermark || value > *watermark) watermark = value;
}

CheckResult refuse(Verdict verdict, std::string message) { return {verdict, std::move(message)}; }

/// Room for one more entry, growing by an eighth (not doubling): a pruned history stays near its steady size, so the
/// slack per validator stays small. Amortized O(1) still.
template <class T>
void make_room(std::vector<T>& v) {
  if (v.size() == v.capacity()) v.reserve(v.size() + v.size() / 8 + 4);
}

/// After pruning, gives back memory when much more is reserved than used.
template <class T>
void trim(std::vector<T>& v) {
  if (v.capacity() > v.size() + v.size() / 4 + 8) v.shrink_to_fit();
}

}  // namespace

std::string_view reason_code(Verdict verdict) {
  switch (verdict) {
    case Verdict::DoubleBlock:
      return "double_block";
    case Verdict::DoubleVote:
      return "double_vote";
    case Verdict::SurroundingVote:
      return "surrounding_vote";
    case Verdict::SurroundedVote:
      return "surrounded_vote";
    case Verdict::SourceAfterTarget:
      return "source_after_target";
    case Verdict::BelowWatermark:
      return "below_watermark";
    case Verdict::Safe:
    case Verdict::Repeat:
      break;
  }
  return {};
}

void History::load(std::span<const SignedBlock> blocks, std::span<const SignedAttestation> attestations,
                   const Watermarks& watermarks) {
  blocks_.clear();
  attestations_.clear();
  max_source_ = 0;
  blocks_.reserve(blocks.size());
  attestations_.reserve(attestations.size());
  for (const auto& b : blocks) add_block(b);
  for (const auto& a : attestations) add_attestation(a);
  watermarks_ = watermarks;
}

CheckResult History::check_block(std::uint64_t slot, const Bytes32& root) const {
  // EIP-3076 §Conditions: a repeat signing (same slot and signing root) is allowed; any other block at a signed
  // slot is a double proposal. Entries without a root never match (§Advice for Complete Databases: a "null" root).
  auto it = std::ranges::lower_bound(blocks_, slot, {}, &Block::slot);
  if (it != blocks_.end() && it->slot == slot) {
    if (it->has_root && it->root == root) return {Verdict::Repeat, {}};
    return refuse(Verdict::DoubleBlock, "double block proposal: slot " + n(slot) + " is already signed (" +
                                            root_text(it->has_root, it->root) + ")");
  }
  // EIP-3076 §Conditions 1: refuse slot <= the minimum imported slot.
  if (watermarks_.import_min_slot && slot <= *watermarks_.import_min_slot)
    return refuse(Verdict::BelowWatermark, "block at slot " + n(slot) + " is at or below the lowest imported slot " +
                                               n(*watermarks_.import_min_slot));
  if (watermarks_.pruned_max_slot && slot <= *watermarks_.pruned_max_slot)
    return refuse(Verdict::BelowWatermark, "block at slot " + n(slot) + " is at or below the pruned history (slot " +
                                               n(*watermarks_.pruned_max_slot) + ")");
  return {};
}

CheckResult History::check_attestation(std::uint64_t source, std::uint64_t target, const Bytes32& root) const {
  // The message text is built only for a refusal: the honest path allocates nothing.
  auto vote = [&] { return "attestation (source " + n(source) + ", target " + n(target) + ")"; };
  if (source > target) return refuse(Verdict::SourceAfterTarget, vote() + ": source epoch is after target epoch");
  // The honest case: a target above every recorded one and a source no lower than any recorded source can neither
  // double-vote nor surround (a surround needs a recorded source above ours) nor be surrounded (it needs a recorded
  // target above ours). O(1).
  const bool fast = attestations_.empty() || (target > attestations_.back().target && source >= max_source_);
  if (!fast) {
    const auto lo = std::ranges::lower_bound(attestations_, target, {}, &Attestation::target);
    auto hi = lo;
    while (hi != attestations_.end() && hi->target == target) ++hi;
    // EIP-3076 §Conditions: a repeat signing (same source, target and signing root) is allowed.
    for (auto it = lo; it != hi; ++it)
      if (it->source == source && it->has_root && it->root == root) return {Verdict::Repeat, {}};
    if (lo != hi)
      return refuse(Verdict::DoubleVote, "double vote: " + vote() + " has the target of signed (source " +
                                             n(lo->source) + ", target " + n(lo->target) + ", " +
                                             root_text(lo->has_root, lo->root) + ")");
    // Surrounded: a recorded (s', t') with s' < source and t' > target.
    for (auto it = hi; it != attestations_.end(); ++it)
      if (it->source < source)
        return refuse(Verdict::SurroundedVote,
                      vote() + " is surrounded by signed (source " + n(it->source) + ", target " + n(it->target) + ")");
    // Surrounding: a recorded (s', t') with s' > source and t' < target.
    for (auto it = attestations_.begin(); it != lo; ++it)
      if (it->source > source)
        return refuse(Verdict::SurroundingVote,
                      vote() + " surrounds signed (source " + n(it->source) + ", target " + n(it->target) + ")");
  }
  // EIP-3076 §Conditions 2 and 3: refuse source < the minimum imported source, target <= the minimum imported target.
  if (watermarks_.import_min_source && source < *watermarks_.import_min_source)
    return refuse(Verdict::BelowWatermark,
                  vote() + ": source is below the lowest imported source " + n(*watermarks_.import_min_source));
  if (watermarks_.import_min_target && target <= *watermarks_.import_min_target)
    return refuse(Verdict::BelowWatermark,
                  vote() + ": target is at or below the lowest imported target " + n(*watermarks_.import_min_target));
  // Pruned history: refuse source < max pruned source and target <= max pruned target.
  if (watermarks_.pruned_max_source && source < *watermarks_.pruned_max_source)
    return refuse(Verdict::BelowWatermark,
                  vote() + ": source is below the pruned history (source " + n(*watermarks_.pruned_max_source) + ")");
  if (watermarks_.pruned_max_target && target <= *watermarks_.pruned_max_target)
    return refuse(Verdict::BelowWatermark, vote() + ": target is at or below the pruned history (target " +
                                               n(*watermarks_.pruned_max_target) + ")");
  return {};
}

void History::add_block(const SignedBlock& block) {
  make_room(blocks_);
  if (blocks_.empty() || block.slot > blocks_.back().slot) {
    blocks_.push_back({block.slot, block.signing_root.value_or(Bytes32{}), block.signing_root.has_value()});
    return;
  }
  auto it = std::ranges::lower_bound(blocks_, block.slot, {}, &Block::slot);
  if (it != blocks_.end() && it->slot == block.slot) {
    if (!same_root(it->has_root, it->root, block.signing_root)) {
      it->has_root = false;
      it->root = {};
    }
    return;
  }
  blocks_.insert(it, {block.slot, block.signing_root.value_or(Bytes32{}), block.signing_root.has_value()});
}

void History::add_attestation(const SignedAttestation& a) {
  const Attestation entry{a.source_epoch, a.target_epoch, a.signing_root.value_or(Bytes32{}),
                          a.signing_root.has_value()};
  max_source_ = std::max(max_source_, a.source_epoch);
  make_room(attestations_);
  if (attestations_.empty() || a.target_epoch > attestations_.back().target) {
    attestations_.push_back(entry);
    return;
  }
  auto key = [](const Attestation& e) { return std::pair(e.target, e.source); };
  auto it = std::ranges::lower_bound(attestations_, std::pair(a.target_epoch, a.source_epoch), {}, key);
  if (it != attestations_.end() && it->target == a.target_epoch && it->source == a.source_epoch) {
    if (!same_root(it->has_root, it->root, a.signing_root)) {
      it->has_root = false;
      it->root = {};
    }
    return;
  }
  attestations_.insert(it, entry);
}

void History::import(std::span<const SignedBlock> blocks, std::span<const SignedAttestation> attestations) {
  // Everything is kept (complete history): slashable data merges into entries that refuse everything either message
  // would refuse, which is at least as strong as raising watermarks over it, and drops nothing.
  for (const auto& b : blocks) {
    add_block(b);
    lower(watermarks_.import_min_slot, b.slot);
  }
  for (const auto& a : attestations) {
    add_attestation(a);
    lower(watermarks_.import_min_source, a.source_epoch);
    lower(watermarks_.import_min_target, a.target_epoch);
  }
}

PruneResult History::prune(std::uint64_t keep_epochs, std::uint64_t slots_per_epoch) {
  PruneResult result;
  if (keep_epochs == 0 || slots_per_epoch == 0 || (blocks_.empty() && attestations_.empty())) return result;
  std::uint64_t newest = 0;
  if (!attestations_.empty()) newest = attestations_.back().target;
  if (!blocks_.empty()) newest = std::max(newest, blocks_.back().slot / slots_per_epoch);
  if (newest <= keep_epochs) return result;
  const std::uint64_t limit = newest - keep_epochs;  // entries of an epoch below this go

  const auto old_block =
      std::ranges::find_if(blocks_, [&](const Block& b) { return b.slot / slots_per_epoch >= limit; });
  const auto old_att = std::ranges::find_if(attestations_, [&](const Attestation& a) { return a.target >= limit; });
  result.blocks = static_cast<std::size_t>(old_block - blocks_.begin());
  result.attestations = static_cast<std::size_t>(old_att - attestations_.begin());
  if (result.blocks) raise(watermarks_.pruned_max_slot, std::prev(old_block)->slot);
  if (result.attestations) {
    raise(watermarks_.pruned_max_target, std::prev(old_att)->target);
    for (auto it = attestations_.begin(); it != old_att; ++it) raise(watermarks_.pruned_max_source, it->source);
  }
  result.max_slot = watermarks_.pruned_max_slot;
  result.max_source = watermarks_.pruned_max_source;
  result.max_target = watermarks_.pruned_max_target;
  blocks_.erase(blocks_.begin(), old_block);
  attestations_.erase(attestations_.begin(), old_att);
  trim(blocks_);
  trim(attestations_);
  if (result.attestations) recompute_max_source();
  return result;
}

void History::recompute_max_source() {
  max_source_ = 0;
  for (const auto& a : attestations_) max_source_ = std::max(max_source_, a.source);
}

ValidatorHistory History::to_interchange(const Bytes48& pubkey) const {
  ValidatorHistory out{pubkey, {}, {}};
  auto root = [](bool has, const Bytes32& r) { return has ? std::optional(r) : std::nullopt; };
  if (watermarks_.pruned_max_slot) out.signed_blocks.push_back({*watermarks_.pruned_max_slot, std::nullopt});
  for (const auto& b : blocks_) out.signed_blocks.push_back({b.slot, root(b.has_root, b.root)});
  if (watermarks_.pruned_max_target)
    out.signed_attestations.push_back(
        {watermarks_.pruned_max_source.value_or(0), *watermarks_.pruned_max_target, std::nullopt});
  for (const auto& a : attestations_) out.signed_attestations.push_back({a.source, a.target, root(a.has_root, a.root)});
  return out;
}

}  // namespace detail

Interchange minify(const Interchange& interchange) {
  // EIP-3076 §Advice for Minimal Databases: per validator, the greatest slot, source and target, roots dropped.
  Interchange out{interchange.genesis_validators_root, {}};
  std::unordered_map<Bytes48, std::size_t, BytesHash> index;
  for (const auto& v : interchange.data) {
    auto [it, added] = index.try_emplace(v.pubkey, out.data.size());
    if (added) out.data.push_back({v.pubkey, {}, {}});
    auto& m = out.data[it->second];
    for (const auto& b : v.signed_blocks) {
      if (m.signed_blocks.empty()) m.signed_blocks.push_back({b.slot, std::nullopt});
      m.signed_blocks[0].slot = std::max(m.signed_blocks[0].slot, b.slot);
    }
    for (const auto& a : v.signed_attestations) {
      if (m.signed_attestations.empty())
        m.signed_attestations.push_back({a.source_epoch, a.target_epoch, std::nullopt});
      auto& ma = m.signed_attestations[0];
      ma.source_epoch = std::max(ma.source_epoch, a.source_epoch);
      ma.target_epoch = std::max(ma.target_epoch, a.target_epoch);
    }
  }
  return out;
}

}  // namespace cachet::slashing

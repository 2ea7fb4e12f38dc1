#include "history_ops.hpp"

#include <algorithm>
#include <unordered_map>

namespace cachet::slashing::detail {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};

/// Sorted, unique: the fixed order in which validators are locked.
std::vector<Bytes48> sorted_unique(std::vector<Bytes48> pubkeys) {
  std::ranges::sort(pubkeys);
  pubkeys.erase(std::unique(pubkeys.begin(), pubkeys.end()), pubkeys.end());
  return pubkeys;
}

/// `rows` grouped by validator id into Histories (History::load merges and sorts).
std::unordered_map<std::int64_t, History> histories(const Rows& rows) {
  struct Parts {
    std::vector<SignedBlock> blocks;
    std::vector<SignedAttestation> attestations;
    Watermarks watermarks;
  };
  std::unordered_map<std::int64_t, Parts> parts;
  for (const auto& [id, b] : rows.blocks) parts[id].blocks.push_back(b);
  for (const auto& [id, a] : rows.attestations) parts[id].attestations.push_back(a);
  for (const auto& [id, w] : rows.watermarks) parts[id].watermarks = w;
  std::unordered_map<std::int64_t, History> out;
  for (auto& [id, p] : parts) out[id].load(p.blocks, p.attestations, p.watermarks);
  return out;
}

/// The ids of `pubkeys` (any order) after locking them all in the fixed order.
DbResult<std::unordered_map<Bytes48, std::int64_t, BytesHash>> lock_all(Transaction& txn, std::vector<Bytes48> pubkeys,
                                                                        bool create) {
  const auto order = sorted_unique(std::move(pubkeys));
  auto ids = txn.lock_validators(order, create);
  if (!ids) return std::unexpected(ids.error());
  std::unordered_map<Bytes48, std::int64_t, BytesHash> out;
  for (std::size_t i = 0; i < order.size(); ++i)
    if ((*ids)[i]) out.emplace(order[i], *(*ids)[i]);
  return out;
}

}  // namespace

StoredHistory stored_form(std::int64_t id, const History& history) {
  StoredHistory out;
  auto root = [](bool has, const Bytes32& r) { return has ? std::optional(r) : std::nullopt; };
  for (const auto& b : history.blocks()) out.blocks.emplace_back(id, SignedBlock{b.slot, root(b.has_root, b.root)});
  const auto& all = history.attestations();  // sorted by (target, source)
  for (std::size_t i = 0; i < all.size(); ++i) {
    const bool shared_target =
        (i > 0 && all[i - 1].target == all[i].target) || (i + 1 < all.size() && all[i + 1].target == all[i].target);
    out.attestations.emplace_back(id,
                                  SignedAttestation{all[i].source, all[i].target,
                                                    shared_target ? std::nullopt : root(all[i].has_root, all[i].root)});
  }
  out.watermarks = history.watermarks();
  return out;
}

DbResult<std::vector<Decision>> decide(Transaction& txn, std::span<const ProtectedMessage* const> messages,
                                       std::optional<Bytes32>& genesis) {
  std::vector<Decision> out(messages.size());
  if (messages.empty()) return out;
  if (!genesis) {
    auto stored = txn.genesis_root();
    if (!stored) return std::unexpected(stored.error());
    if (!*stored) {
      // First use: this batch's first message names the chain (concurrent first uses elsewhere: the insert keeps
      // whichever committed first, and it is read back).
      if (auto r = txn.insert_genesis_root(messages.front()->genesis_validators_root); !r)
        return std::unexpected(r.error());
      stored = txn.genesis_root();
      if (!stored) return std::unexpected(stored.error());
      if (!*stored) return db_unavailable("the genesis validators root was not recorded");
    }
    genesis = **stored;
  }

  // Messages of another chain are refused without touching any validator.
  std::vector<Bytes48> pubkeys;
  for (const auto* m : messages)
    if (m->genesis_validators_root == *genesis) pubkeys.push_back(m->pubkey);
  auto ids = lock_all(txn, std::move(pubkeys), true);
  if (!ids) return std::unexpected(ids.error());

  std::vector<RelevantQuery> queries;
  queries.reserve(messages.size());
  for (const auto* m : messages) {
    if (m->genesis_validators_root != *genesis) continue;
    const std::int64_t id = ids->at(m->pubkey);
    std::visit(Overloaded{[&](const BlockProposal& b) {
                            queries.push_back({id, true, b.slot, 0, 0});
                          },
                          [&](const AttestationVote& a) {
                            queries.push_back({id, false, 0, a.source_epoch, a.target_epoch});
                          }},
               m->what);
  }
  auto rows = txn.read_relevant(queries);
  if (!rows) return std::unexpected(rows.error());
  auto history = histories(*rows);

  // In order: each message sees the ones before it in this batch (added to its validator's history when safe).
  std::vector<std::pair<std::int64_t, SignedBlock>> new_blocks;
  std::vector<std::pair<std::int64_t, SignedAttestation>> new_attestations;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& m = *messages[i];
    if (m.genesis_validators_root != *genesis) {
      out[i] = {Decision::Kind::Refuse, "genesis_mismatch",
                "genesis validators root " + to_hex(m.genesis_validators_root) +
                    " differs from the slashing protection database's " + to_hex(*genesis)};
      continue;
    }
    const std::int64_t id = ids->at(m.pubkey);
    auto& h = history[id];
    const CheckResult result =
        std::visit(Overloaded{[&](const BlockProposal& b) {
                                auto r = h.check_block(b.slot, m.signing_root);
                                if (r.verdict == Verdict::Safe) {
                                  const SignedBlock block{b.slot, m.signing_root};
                                  h.add_block(block);
                                  new_blocks.emplace_back(id, block);
                                }
                                return r;
                              },
                              [&](const AttestationVote& a) {
                                auto r = h.check_attestation(a.source_epoch, a.target_epoch, m.signing_root);
                                if (r.verdict == Verdict::Safe) {
                                  const SignedAttestation att{a.source_epoch, a.target_epoch, m.signing_root};
                                  h.add_attestation(att);
                                  new_attestations.emplace_back(id, att);
                                }
                                return r;
                              }},
                   m.what);
    // Safe: recorded by the insert below. Repeat: the very same message is recorded already (committed), so it may
    // be signed again (EIP-3076 §Conditions, repeat signing).
    out[i] = result.refused() ? Decision{Decision::Kind::Refuse, reason_code(result.verdict), result.message}
                              : Decision{Decision::Kind::Sign, {}, {}};
  }
  if (auto r = txn.insert_signed(new_blocks, new_attestations); !r) return std::unexpected(r.error());
  return out;
}

DbResult<std::expected<ImportReport, std::string>> import(Transaction& txn, const Interchange& interchange,
                                                          std::span<const Bytes48> only) {
  using Refusal = std::expected<ImportReport, std::string>;
  auto stored = txn.genesis_root();
  if (!stored) return std::unexpected(stored.error());
  if (!*stored) {
    if (auto r = txn.insert_genesis_root(interchange.genesis_validators_root); !r) return std::unexpected(r.error());
    stored = txn.genesis_root();
    if (!stored) return std::unexpected(stored.error());
  }
  if (!*stored || **stored != interchange.genesis_validators_root)
    return Refusal(std::unexpect, "genesis_mismatch: the interchange's genesis validators root " +
                                      to_hex(interchange.genesis_validators_root) + " differs from the database's " +
                                      to_hex(stored->value_or(Bytes32{})));

  // One group per pubkey (the format allows repeats: they merge), restricted to `only`.
  struct Group {
    std::vector<SignedBlock> blocks;
    std::vector<SignedAttestation> attestations;
  };
  std::unordered_map<Bytes48, Group, BytesHash> groups;
  ImportReport report;
  for (const auto& v : interchange.data) {
    if (!only.empty() && std::ranges::find(only, v.pubkey) == only.end()) continue;
    auto& g = groups[v.pubkey];
    g.blocks.insert(g.blocks.end(), v.signed_blocks.begin(), v.signed_blocks.end());
    g.attestations.insert(g.attestations.end(), v.signed_attestations.begin(), v.signed_attestations.end());
    report.blocks += v.signed_blocks.size();
    report.attestations += v.signed_attestations.size();
  }
  report.validators = groups.size();
  if (groups.empty()) return report;

  std::vector<Bytes48> pubkeys;
  for (const auto& [pk, g] : groups) pubkeys.push_back(pk);
  auto ids = lock_all(txn, pubkeys, true);
  if (!ids) return std::unexpected(ids.error());
  std::vector<std::int64_t> id_list;
  for (const auto& [pk, id] : *ids) id_list.push_back(id);
  auto rows = txn.read_full(id_list);
  if (!rows) return std::unexpected(rows.error());
  auto history = histories(*rows);
  for (const auto& [pk, g] : groups) {
    const std::int64_t id = ids->at(pk);
    auto& h = history[id];
    h.import(g.blocks, g.attestations);
    if (auto r = txn.replace_history(id, stored_form(id, h)); !r) return std::unexpected(r.error());
  }
  return report;
}

DbResult<std::optional<std::int64_t>> prune_some(Transaction& txn, std::int64_t after_id, std::size_t limit,
                                                 std::uint64_t keep_epochs, std::uint64_t slots_per_epoch) {
  auto listed = txn.list_validators(after_id, limit);
  if (!listed) return std::unexpected(listed.error());
  if (listed->empty()) return std::optional<std::int64_t>{};
  std::vector<Bytes48> pubkeys;
  for (const auto& [id, pk] : *listed) pubkeys.push_back(pk);
  auto ids = lock_all(txn, pubkeys, false);
  if (!ids) return std::unexpected(ids.error());
  std::vector<std::int64_t> id_list;
  for (const auto& [pk, id] : *ids) id_list.push_back(id);
  auto rows = txn.read_full(id_list);
  if (!rows) return std::unexpected(rows.error());
  for (auto& [id, h] : histories(*rows)) {
    const auto pruned = h.prune(keep_epochs, slots_per_epoch);
    if (pruned.blocks + pruned.attestations == 0) continue;
    if (auto r = txn.replace_history(id, stored_form(id, h)); !r) return std::unexpected(r.error());
  }
  return std::optional<std::int64_t>(listed->back().first);
}

DbResult<Bytes32> export_history(Transaction& txn, std::span<const Bytes48> pubkeys,
                                 const std::function<void(ValidatorHistory&&)>& visit) {
  auto stored = txn.genesis_root();
  if (!stored) return std::unexpected(stored.error());
  constexpr std::size_t kPage = 256;  // validators read at once: bounded memory for any database size
  auto emit = [&](std::span<const std::pair<std::int64_t, Bytes48>> page) -> DbResult<void> {
    std::vector<std::int64_t> ids;
    for (const auto& [id, pk] : page) ids.push_back(id);
    auto rows = txn.read_full(ids);
    if (!rows) return std::unexpected(rows.error());
    auto history = histories(*rows);
    for (const auto& [id, pk] : page) visit(history[id].to_interchange(pk));
    return {};
  };
  if (pubkeys.empty()) {
    for (std::int64_t after = 0;;) {
      auto page = txn.list_validators(after, kPage);
      if (!page) return std::unexpected(page.error());
      if (page->empty()) break;
      if (auto r = emit(*page); !r) return std::unexpected(r.error());
      after = page->back().first;
    }
  } else {
    const auto order = sorted_unique({pubkeys.begin(), pubkeys.end()});
    auto ids = txn.lock_validators(order, false);  // a read transaction: a lookup, no lock
    if (!ids) return std::unexpected(ids.error());
    std::vector<std::pair<std::int64_t, Bytes48>> known;
    for (std::size_t i = 0; i < order.size(); ++i)
      if ((*ids)[i]) known.emplace_back(*(*ids)[i], order[i]);
    for (std::size_t at = 0; at < known.size(); at += kPage)
      if (auto r = emit(std::span(known).subspan(at, std::min(kPage, known.size() - at))); !r)
        return std::unexpected(r.error());
  }
  return stored->value_or(Bytes32{});
}

}  // namespace cachet::slashing::detail

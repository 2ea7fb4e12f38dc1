// The slashing-protection operations over any Storage, written once for every backend: deciding a batch of messages
// inside the transaction that records them, importing, pruning and exporting. Each runs in the transaction it is
// given; the caller begins it, commits it, and retries it on a Retryable error.
#pragma once

#include <cachet/slashing/slashing_protection.hpp>
#include <functional>

#include "storage.hpp"

namespace cachet::slashing::detail {

/// Decides `messages` in order, as if one after another: each is checked against the database's history (read under
/// the validators' locks) and against the messages before it in the batch; the safe ones are inserted. One Decision
/// (Sign or Refuse) per message; nothing is durable until the caller commits. `genesis` is the database's recorded
/// genesis validators root when the caller already knows it (it never changes once recorded); otherwise it is read,
/// or recorded from the first message, and set.
DbResult<std::vector<Decision>> decide(Transaction& txn, std::span<const ProtectedMessage* const> messages,
                                       std::optional<Bytes32>& genesis);

/// Merges `interchange` (restricted to `only` unless empty) into the history: EIP-3076 import, slashable data kept
/// (it merges into entries that refuse everything either message would refuse) and import watermarks lowered. The
/// inner error is a refusal (another chain's genesis validators root), the outer one the database's.
DbResult<std::expected<ImportReport, std::string>> import(Transaction& txn, const Interchange& interchange,
                                                          std::span<const Bytes48> only);

/// Prunes up to `limit` validators with id > `after_id` (History::prune); the last id looked at, or nullopt when
/// there were none left.
DbResult<std::optional<std::int64_t>> prune_some(Transaction& txn, std::int64_t after_id, std::size_t limit,
                                                 std::uint64_t keep_epochs, std::uint64_t slots_per_epoch);

/// The history of `pubkeys` (empty: every validator, in id order) in a read transaction, handed to `visit` one
/// validator at a time (never the whole history twice in memory), with pruned watermarks as synthetic entries.
/// Returns the recorded genesis validators root (zero when none yet).
DbResult<Bytes32> export_history(Transaction& txn, std::span<const Bytes48> pubkeys,
                                 const std::function<void(ValidatorHistory&&)>& visit);

}  // namespace cachet::slashing::detail

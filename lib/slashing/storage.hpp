// What the slashing-protection service needs from a database, with no SQL in the rules: one consistent read of the
// history, and batches written in one transaction each. SqliteStorage implements it; a PostgreSQL backend would
// implement the same (the unsigned 64-bit values and the merge rules below are the contract).
#pragma once

#include <cachet/slashing/interchange.hpp>
#include <cachet/util/bytes.hpp>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "validator_history.hpp"

namespace cachet::slashing::detail {

/// One validator as stored. `id` is the service's own number for it (allocated in memory, unique per database).
struct StoredValidator {
  std::int64_t id = 0;
  Bytes48 pubkey{};
  std::vector<SignedBlock> blocks;
  std::vector<SignedAttestation> attestations;
  Watermarks watermarks;
};

/// What a scan says about the database as a whole.
struct ScanSummary {
  std::optional<Bytes32> genesis_validators_root;  // unset until the first import or signature
  std::int64_t max_validator_id = 0;
};

/// A scan collected (tests, small reads).
struct Snapshot : ScanSummary {
  std::vector<StoredValidator> validators;
};

/// Everything one transaction writes, applied in this order: the genesis root (if none is stored yet; a different
/// stored one fails the batch), validators (new ones; existing ids are left alone), blocks and attestations, import
/// watermarks, prunings.
struct WriteBatch {
  struct Validator {
    std::int64_t id;
    Bytes48 pubkey;
  };
  struct Block {
    std::int64_t validator_id;
    SignedBlock block;
  };
  struct Attestation {
    std::int64_t validator_id;
    SignedAttestation attestation;
  };
  /// The import minima after the import (absolute values: the service computed them from the merged history).
  struct ImportWatermarks {
    std::int64_t validator_id;
    std::optional<std::uint64_t> min_slot, min_source, min_target;
  };
  /// Raises the pruned maxima to these absolute values and deletes the pruned rows: blocks with slot <= max_slot,
  /// attestations with target <= max_target (exactly what the in-memory pruning removed: later records are above).
  struct Prune {
    std::int64_t validator_id;
    std::optional<std::uint64_t> max_slot, max_source, max_target;
  };

  std::optional<Bytes32> genesis_validators_root;
  std::vector<Validator> validators;
  /// Upserts: at an existing (validator, slot), or (validator, target, source), the stored root is kept only when
  /// both roots are known and equal, otherwise it becomes NULL (History::add_block's merge).
  std::vector<Block> blocks;
  std::vector<Attestation> attestations;
  std::vector<ImportWatermarks> import_watermarks;
  std::vector<Prune> prunes;

  bool empty() const {
    return !genesis_validators_root && validators.empty() && blocks.empty() && attestations.empty() &&
           import_watermarks.empty() && prunes.empty();
  }
};

class Storage {
 public:
  virtual ~Storage() = default;

  using Visitor = std::function<void(StoredValidator&&)>;

  /// One consistent read of `pubkeys` (empty: every validator, in id order), handing each validator to `visit` as it
  /// is read (the whole history is never held twice); unknown pubkeys are left out. Any thread.
  virtual std::expected<ScanSummary, std::string> scan(std::span<const Bytes48> pubkeys, const Visitor& visit) = 0;

  /// scan() collected into one Snapshot.
  std::expected<Snapshot, std::string> read(std::span<const Bytes48> pubkeys) {
    Snapshot out;
    auto summary = scan(pubkeys, [&](StoredValidator&& v) { out.validators.push_back(std::move(v)); });
    if (!summary) return std::unexpected(summary.error());
    static_cast<ScanSummary&>(out) = *summary;
    return out;
  }

  /// Writes `batch` in one transaction, durable when this returns success. One thread at a time (the writer).
  virtual std::expected<void, std::string> write(const WriteBatch& batch) = 0;

  /// A small write transaction: whether the database takes writes again after a failure. Writer thread only.
  virtual std::expected<void, std::string> probe() = 0;
};

}  // namespace cachet::slashing::detail

// What the slashing-protection rules need from a database: transactions with a few primitive operations, and nothing
// else. The rules themselves (validator_history.hpp) and the algorithms over these primitives (history_ops.hpp) are
// written once; SqliteStorage and PostgresStorage implement only the primitives, so every backend decides the same
// way (issue 9: "one implementation of EIP-3076 for every backend").
//
// The contract that makes several processes on one database safe: a write transaction's lock_validators() locks
// those validators until commit or rollback (PostgreSQL: transaction-scoped advisory locks; SQLite: the database's
// single writer lock), and every read after it sees everything other transactions committed for them. A decision
// read, checked and recorded under those locks cannot race another process's decision for the same validator.
//
// Unsigned 64-bit values (slots, epochs) are stored as signed 64-bit integers holding value XOR 2^63: a bijection
// that preserves order (0 -> INT64_MIN, 2^64-1 -> INT64_MAX), so comparisons and ORDER BY in SQL see the unsigned
// order in both backends.
#pragma once

#include <cachet/slashing/interchange.hpp>
#include <cachet/util/bytes.hpp>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "validator_history.hpp"

namespace cachet::slashing::detail {

constexpr std::int64_t encode_u64(std::uint64_t v) { return static_cast<std::int64_t>(v ^ (std::uint64_t{1} << 63)); }
constexpr std::uint64_t decode_u64(std::int64_t v) { return static_cast<std::uint64_t>(v) ^ (std::uint64_t{1} << 63); }

/// A failed database operation, typed by what the caller should do about it.
struct DbError {
  enum class Kind {
    Retryable,    // a serialization failure, deadlock or lost race: run the whole transaction again
    Unavailable,  // the database cannot be reached, read or written (or is not the one opened): fail closed (503)
  };
  Kind kind = Kind::Unavailable;
  std::string message;
};

template <class T>
using DbResult = std::expected<T, DbError>;

inline std::unexpected<DbError> db_unavailable(std::string message) {
  return std::unexpected(DbError{DbError::Kind::Unavailable, std::move(message)});
}
inline std::unexpected<DbError> db_retryable(std::string message) {
  return std::unexpected(DbError{DbError::Kind::Retryable, std::move(message)});
}

/// History rows as read, each with its validator's id.
struct Rows {
  std::vector<std::pair<std::int64_t, SignedBlock>> blocks;
  std::vector<std::pair<std::int64_t, SignedAttestation>> attestations;
  std::vector<std::pair<std::int64_t, Watermarks>> watermarks;
};

/// One validator's history in the form its rows are written.
struct StoredHistory {
  std::vector<std::pair<std::int64_t, SignedBlock>> blocks;
  std::vector<std::pair<std::int64_t, SignedAttestation>> attestations;
  Watermarks watermarks;
};

/// The rows that store `history` for validator `id`. Several attestations at one target (imported slashable data)
/// keep no root: the backstop allows one root a target, and an entry without a root refuses everything either
/// would.
StoredHistory stored_form(std::int64_t id, const History& history);

/// What one decision needs to read: the rows that could make `what` slashable (the rows History::check_block or
/// check_attestation would look at), and the validator's watermarks.
struct RelevantQuery {
  std::int64_t validator_id;
  bool is_block;
  std::uint64_t slot;            // blocks: the row at this slot
  std::uint64_t source, target;  // attestations: same target, or surrounding / surrounded (s, t)
};

/// One transaction. Destroying it without commit() rolls back. Not thread-safe (one caller at a time).
class Transaction {
 public:
  virtual ~Transaction() = default;

  /// The recorded genesis validators root, if any.
  virtual DbResult<std::optional<Bytes32>> genesis_root() = 0;
  /// Records `root` unless one is recorded already (then nothing changes: the caller reads it again).
  virtual DbResult<void> insert_genesis_root(const Bytes32& root) = 0;

  /// The ids of `pubkeys` (sorted, unique), in that order. In a write transaction each is locked until the end of the
  /// transaction, in this order (a fixed order: no deadlock between transactions), and an unknown pubkey gets a new
  /// row when `create` (otherwise, and in read transactions, its id is nullopt).
  virtual DbResult<std::vector<std::optional<std::int64_t>>> lock_validators(std::span<const Bytes48> pubkeys,
                                                                             bool create) = 0;
  /// Up to `limit` validators with id > `after_id`, in id order (exports, pruning).
  virtual DbResult<std::vector<std::pair<std::int64_t, Bytes48>>> list_validators(std::int64_t after_id,
                                                                                  std::size_t limit) = 0;

  /// The rows that could conflict with each query, and the watermarks of their validators (duplicates allowed).
  virtual DbResult<Rows> read_relevant(std::span<const RelevantQuery> queries) = 0;
  /// Every row of these validators.
  virtual DbResult<Rows> read_full(std::span<const std::int64_t> validator_ids) = 0;

  /// Plain INSERTs of newly signed messages, never a merge: the unique constraints ((validator, slot); (validator,
  /// target) among rows with a root) are a backstop that fails the transaction should a rule ever be bypassed.
  virtual DbResult<void> insert_signed(std::span<const std::pair<std::int64_t, SignedBlock>> blocks,
                                       std::span<const std::pair<std::int64_t, SignedAttestation>> attestations) = 0;
  /// Replaces every row and the watermarks of one validator with `history` (stored_form of what imports and pruning
  /// computed from the whole history, read under the lock).
  virtual DbResult<void> replace_history(std::int64_t validator_id, const StoredHistory& history) = 0;

  /// Durable when it returns success.
  virtual DbResult<void> commit() = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;
  /// A write transaction (locks, inserts) or a read-only one that sees one consistent snapshot (exports).
  virtual DbResult<std::unique_ptr<Transaction>> begin(bool write) = 0;
  /// A small write transaction: whether the database takes writes (again).
  virtual DbResult<void> probe() = 0;
  /// How many write transactions may usefully run at once (SQLite: 1, one writer; PostgreSQL: the pool size).
  virtual unsigned parallel_writers() const = 0;
};

}  // namespace cachet::slashing::detail

// Slashing-protection history in SQLite (C API, prepared statements, WAL with synchronous=FULL).
//
// Schema (versioned: schema_version holds every applied migration; migration 1 below creates the tables):
//   metadata(id = 1, genesis_validators_root BLOB[32])
//   validators(id INTEGER PRIMARY KEY, pubkey BLOB[48] UNIQUE)
//   signed_blocks(validator_id, slot, signing_root BLOB[32] NULL)            PRIMARY KEY (validator_id, slot)
//   signed_attestations(validator_id, source_epoch, target_epoch, signing_root NULL)
//                                                       PRIMARY KEY (validator_id, target_epoch, source_epoch)
//   watermarks(validator_id PRIMARY KEY, import_min_{slot,source,target}, pruned_max_{slot,source,target}, NULL)
// The history tables are WITHOUT ROWID, clustered on their primary keys (the indexes every query uses).
//
// Unsigned 64-bit values (slots, epochs) are stored as INTEGER holding value XOR 2^63: SQLite integers are signed
// 64-bit, and this mapping is a bijection that preserves order (0 -> INT64_MIN, 2^64-1 -> INT64_MAX), so
// comparisons, MIN/MAX and ORDER BY in SQL see the unsigned order.
//
// A writer holds an exclusive flock on PATH.lock for as long as it is open (one signer or import per database);
// a read-only open takes no lock, opens the file read-only and can only read.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "storage.hpp"

namespace cachet::slashing::detail {

/// The stored form of an unsigned 64-bit value (see above).
constexpr std::int64_t encode_u64(std::uint64_t v) { return static_cast<std::int64_t>(v ^ (std::uint64_t{1} << 63)); }
constexpr std::uint64_t decode_u64(std::int64_t v) { return static_cast<std::uint64_t>(v) ^ (std::uint64_t{1} << 63); }

class SqliteStorage final : public Storage {
 public:
  /// Opens (creating and migrating) the database at `path`; its directory must exist. `busy_timeout` bounds how
  /// long a write waits for a lock held by another connection before it fails.
  static std::expected<std::unique_ptr<SqliteStorage>, std::string> open(const std::string& path, bool read_only,
                                                                         std::chrono::milliseconds busy_timeout);
  ~SqliteStorage() override;
  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;

  std::expected<ScanSummary, std::string> scan(std::span<const Bytes48> pubkeys, const Visitor& visit) override;
  std::expected<void, std::string> write(const WriteBatch& batch) override;
  std::expected<void, std::string> probe() override;

  /// The schema version this code writes.
  static int latest_schema_version();

 private:
  struct Statements;
  SqliteStorage() = default;
  std::expected<void, std::string> open_writer(const std::string& path, std::chrono::milliseconds busy_timeout);
  std::expected<void, std::string> write_in_transaction(const WriteBatch& batch);
  std::expected<void, std::string> scan_all(const Visitor& visit);
  std::expected<void, std::string> scan_one(const Bytes48& pubkey, const Visitor& visit);

  std::string path_;
  int lock_fd_ = -1;
  sqlite3* writer_ = nullptr;  // null when read-only
  std::unique_ptr<Statements> statements_;
  std::mutex read_mutex_;
  sqlite3* reader_ = nullptr;
};

}  // namespace cachet::slashing::detail

// Slashing-protection history in SQLite (C API, prepared statements, WAL with synchronous=FULL): the embedded
// default, on the same Transaction primitives and rules as PostgreSQL.
//
// Schema (versioned: schema_version holds every applied migration):
//   metadata(id = 1, genesis_validators_root BLOB[32])
//   validators(id INTEGER PRIMARY KEY, pubkey BLOB[48] UNIQUE)
//   signed_blocks(validator_id, slot, signing_root BLOB[32] NULL)            PRIMARY KEY (validator_id, slot)
//   signed_attestations(validator_id, source_epoch, target_epoch, signing_root NULL)
//                                                       PRIMARY KEY (validator_id, target_epoch, source_epoch)
//     UNIQUE (validator_id, target_epoch) WHERE signing_root IS NOT NULL   (the double-vote backstop)
//     INDEX (validator_id, source_epoch)                                   (the surrounding-vote read)
//   watermarks(validator_id PRIMARY KEY, import_min_{slot,source,target}, pruned_max_{slot,source,target}, NULL)
// u64 values as in storage.hpp (XOR 2^63).
//
// One owner: a writer holds an exclusive flock on the database file itself (its inode, however it is named: a
// second signer reaching the file through a symlink or a hard link cannot open it, and could not share its WAL,
// which SQLite names after the path). Before every commit the path must still name that file (device and inode):
// a database deleted or replaced under a running signer is Unavailable, never written as if nothing happened. A
// read-only open takes no lock and can only read (export while the signer runs).
#pragma once

#include <sqlite3.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "storage.hpp"

namespace cachet::slashing::detail {

class SqliteStorage final : public Storage {
 public:
  /// Opens (creating and migrating) the database at `path`; its directory must exist. `busy_timeout` bounds how
  /// long a transaction waits for a lock held by another connection before it fails.
  static std::expected<std::unique_ptr<SqliteStorage>, std::string> open(const std::string& path, bool read_only,
                                                                         std::chrono::milliseconds busy_timeout);
  ~SqliteStorage() override;
  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;

  DbResult<std::unique_ptr<Transaction>> begin(bool write) override;
  DbResult<void> probe() override;
  unsigned parallel_writers() const override { return 1; }

  /// The schema version this code writes.
  static int latest_schema_version();

 private:
  struct Connection;
  class Txn;
  SqliteStorage() = default;
  std::expected<void, std::string> open_writer(const std::string& path, std::chrono::milliseconds busy_timeout);
  /// Unavailable unless the path still names the file this storage opened and locked.
  DbResult<void> check_identity() const;

  std::string path_;
  int lock_fd_ = -1;  // the database file itself, flocked (writers only)
  dev_t device_ = 0;
  ino_t inode_ = 0;
  std::mutex writer_mutex_, reader_mutex_;  // one transaction per connection at a time
  std::unique_ptr<Connection> writer_;      // null when read-only
  std::unique_ptr<Connection> reader_;
  std::unordered_map<Bytes48, std::int64_t, BytesHash> ids_;  // committed validator ids (writer_mutex_)
};

}  // namespace cachet::slashing::detail

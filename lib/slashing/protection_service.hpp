// SlashingProtection over a Storage: the in-memory index, per-validator locks and the group-commit writer.
//
// - Index: every validator's unpruned history (lib/slashing/validator_history.hpp) is loaded at open, all of it
//   (one read; a signer's first request never waits on the database). Validators live in a map sharded 64 ways,
//   each with its own mutex; the shard lock is held only to find or add a validator, never during a check.
// - check_and_record: under the validator's mutex, check; if safe, insert into the index at once (a racing
//   conflicting request for the same validator is refused) and queue the record; unlock. The writer thread takes
//   everything queued and writes it in one transaction, then calls every `done` with Sign. A repeat of a recorded
//   message queues the same record again (an idempotent upsert), so its Sign also waits for a commit.
// - Failure: a failed commit answers that batch Unavailable and marks the service unhealthy; from then on requests
//   that would need a record get Unavailable at once until a probe (every probe_interval, on the writer) or a
//   commit succeeds. Records that failed stay in the index (they keep refusing conflicts). A deadline thread answers
//   Unavailable to any caller whose commit has not happened within commit_timeout (a hung disk), and marks the
//   service unhealthy; the record may still land later, which is safe since no signature was released.
// - Imports and pruning writes run on the writer thread too (one connection, in queue order); exports wait for the
//   writer to commit what was queued before them, then read the database.
#pragma once

#include <cachet/slashing/slashing_protection.hpp>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <variant>

#include "storage.hpp"
#include "validator_history.hpp"

namespace cachet::slashing::detail {

struct ServiceConfig {
  Options options;
  /// How often an unhealthy service probes the database.
  std::chrono::milliseconds probe_interval{1000};
};

class ProtectionService final : public SlashingProtection {
 public:
  /// Loads the whole history from `storage` and starts the writer, deadline and pruning threads (none read-only).
  static std::expected<std::unique_ptr<ProtectionService>, std::string> create(std::unique_ptr<Storage> storage,
                                                                               const ServiceConfig& config);
  /// Commits what is queued, then stops the threads.
  ~ProtectionService() override;

  void check_and_record(const ProtectedMessage& message, std::move_only_function<void(Decision)> done) override;
  std::expected<ImportReport, std::string> import_interchange(const Interchange& interchange,
                                                              std::span<const Bytes48> only) override;
  std::expected<Interchange, std::string> export_interchange(std::span<const Bytes48> pubkeys) override;
  bool healthy() const override { return healthy_.load(std::memory_order_acquire); }
  std::expected<void, std::string> prune() override;

  /// Waits until everything queued before the call has been committed or has failed; false after `timeout`.
  bool flush(std::chrono::milliseconds timeout);

  struct Stats {
    std::uint64_t transactions = 0;  // group commits of signing records
    std::uint64_t records = 0;       // records in them
    std::uint64_t timeouts = 0;      // callers answered Unavailable by the deadline thread
  };
  Stats stats() const;

 private:
  struct Validator;
  struct Waiter;
  struct Record {
    std::shared_ptr<Validator> validator;
    std::variant<SignedBlock, SignedAttestation> what;
    std::shared_ptr<Waiter> waiter;
  };
  using Task = std::move_only_function<void()>;
  using Item = std::variant<Record, Task>;
  struct Shard {
    mutable std::shared_mutex mutex;
    std::unordered_map<Bytes48, std::shared_ptr<Validator>, BytesHash> validators;
  };
  static constexpr std::size_t kShards = 64;

  ProtectionService(std::unique_ptr<Storage> storage, const ServiceConfig& config);
  std::expected<void, std::string> load();
  void start();

  Shard& shard(const Bytes48& pubkey) { return shards_[pubkey[7] % kShards]; }
  std::shared_ptr<Validator> find_or_add(const Bytes48& pubkey);
  std::vector<std::shared_ptr<Validator>> all_validators() const;
  /// Records the genesis root on first use; false when `root` differs from the recorded one.
  bool accept_genesis_root(const Bytes32& root, Bytes32* recorded);

  void check_and_record_locked(const ProtectedMessage& message, const std::shared_ptr<Waiter>& waiter);
  void enqueue(Item item, std::shared_ptr<Waiter> waiter);
  /// Runs `task` on the writer thread and waits for its result.
  template <class T>
  T on_writer(std::move_only_function<T()> task);
  std::expected<void, std::string> write(WriteBatch& batch, std::span<const std::shared_ptr<Validator>> validators);
  std::expected<ImportReport, std::string> import_on_writer(const Interchange& interchange,
                                                            std::span<const Bytes48> only);

  void writer_loop();
  void commit(std::span<Record*> records);
  void deadline_loop();
  void prune_loop();

  const Options options_;
  const std::chrono::milliseconds probe_interval_;
  const std::unique_ptr<Storage> storage_;

  std::array<Shard, kShards> shards_;
  std::atomic<std::int64_t> next_id_{1};

  std::mutex genesis_mutex_;
  std::atomic<bool> genesis_known_{false};
  Bytes32 genesis_root_{};       // written once under genesis_mutex_ before genesis_known_ is set
  bool genesis_stored_ = false;  // writer thread only

  std::atomic<bool> healthy_{true};
  std::atomic<std::uint64_t> transactions_{0}, records_{0}, timeouts_{0};

  std::mutex queue_mutex_;
  std::condition_variable writer_cv_, deadline_cv_;
  std::vector<Item> queue_;
  std::deque<std::shared_ptr<Waiter>> deadlines_;  // in deadline order (one timeout for all)
  bool stopping_ = false, deadline_stop_ = false;

  std::mutex prune_mutex_;
  std::mutex prune_stop_mutex_;
  std::condition_variable prune_stop_cv_;
  bool prune_stop_ = false;

  std::thread writer_, deadline_thread_, pruner_;
};

}  // namespace cachet::slashing::detail

// SlashingProtection over a Storage: every decision is made inside the database transaction that records it.
//
// - check_and_record queues the message; writer threads (one per connection the storage can use in parallel: 1 for
//   SQLite, the pool size for PostgreSQL) take everything queued, up to kMaxBatch, and decide it in one transaction
//   (history_ops.hpp: lock the batch's validators in a fixed order, read the rows the rules need, apply the rules in
//   order, insert the safe ones, commit), then answer each caller. A signature may leave only after that commit.
//   A Deferred message does not wake a writer: it waits for an expedite(), a Now message, a full batch or
//   max_deferral, so that the records of requests queued for signing share one transaction and one disk sync.
//   Any number of processes sharing the database are safe: the locks and the reads are the database's.
// - No in-memory history: nothing here can approve a message the database has not just approved. The only early
//   answers are refusals that cannot change (another chain's genesis validators root, once the database recorded
//   its own) and Unavailable while the database is failing.
// - Errors: Retryable (serialization, deadlock, a lost race) reruns the transaction, a few times; Unavailable answers
//   the batch Unavailable and marks the service unhealthy. While unhealthy, new messages get Unavailable at once
//   until a probe (every probe_interval, from an idle writer) or a transaction succeeds; a healthy idle service
//   probes every 5 s, so that a database lost while nothing is signed shows DOWN too. A deadline thread answers
//   Unavailable to any caller not answered within commit_timeout (a hung disk or server) and marks the service
//   unhealthy; its record may land later, which is safe since no signature was released.
// - Imports, exports and pruning run on the calling thread in their own transactions, taking the same locks.
#pragma once

#include <cachet/slashing/slashing_protection.hpp>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "storage.hpp"

namespace cachet::slashing::detail {

struct ServiceConfig {
  Options options;
  /// How often an unhealthy service probes the database.
  std::chrono::milliseconds probe_interval{1000};
};

class ProtectionService final : public SlashingProtection {
 public:
  static constexpr std::size_t kMaxBatch = 1024;  // messages decided in one transaction at most

  /// Starts the writer, deadline and pruning threads (none when read-only).
  static std::expected<std::unique_ptr<ProtectionService>, std::string> create(std::unique_ptr<Storage> storage,
                                                                               const ServiceConfig& config);
  /// Decides what is queued, then stops the threads.
  ~ProtectionService() override;

  void check_and_record(const ProtectedMessage& message, std::move_only_function<void(Decision)> done,
                        Urgency urgency = Urgency::Now) override;
  void expedite() override;
  std::expected<ImportReport, std::string> import_interchange(const Interchange& interchange,
                                                              std::span<const Bytes48> only) override;
  std::expected<Interchange, std::string> export_interchange(std::span<const Bytes48> pubkeys) override;
  bool healthy() const override { return healthy_.load(std::memory_order_acquire); }
  std::expected<void, std::string> prune() override;

  /// Waits until everything queued before the call has been decided; false after `timeout`.
  bool flush(std::chrono::milliseconds timeout);

  struct Stats {
    std::uint64_t transactions = 0;  // committed decision transactions
    std::uint64_t records = 0;       // messages decided in them
    std::uint64_t timeouts = 0;      // callers answered Unavailable by the deadline thread
    std::uint64_t retries = 0;       // transactions run again after a Retryable error
  };
  Stats stats() const;

 private:
  struct Waiter;
  struct Pending {
    ProtectedMessage message;
    std::shared_ptr<Waiter> waiter;
    std::chrono::steady_clock::time_point queued_at;
    Urgency urgency;
  };

  ProtectionService(std::unique_ptr<Storage> storage, const ServiceConfig& config);
  void start();

  /// Runs `body` in a transaction (write or read) and commits, rerunning it on Retryable errors.
  template <class T, class Body>
  DbResult<T> in_transaction(bool write, Body&& body);
  void mark(bool healthy);

  void writer_loop();
  /// Under queue_mutex_: whether queued messages should be decided now (the deferral is over).
  bool batch_due(std::chrono::steady_clock::time_point now) const;
  /// Under queue_mutex_: the body of expedite().
  void expedite_locked();
  void decide_batch(std::vector<Pending>& batch);
  void deadline_loop();
  void prune_loop();

  const Options options_;
  const std::chrono::milliseconds probe_interval_;
  const std::unique_ptr<Storage> storage_;

  std::mutex genesis_mutex_;
  std::optional<Bytes32> genesis_;  // the database's, once read or recorded (it never changes)
  std::atomic<bool> genesis_known_{false};

  std::atomic<bool> healthy_{true};
  std::atomic<std::chrono::steady_clock::time_point> last_success_{std::chrono::steady_clock::now()};
  std::atomic<bool> idle_prober_{false};  // one writer probes an idle database at a time
  std::atomic<std::uint64_t> transactions_{0}, records_{0}, timeouts_{0}, retries_{0};

  std::mutex queue_mutex_;
  std::condition_variable writer_cv_, deadline_cv_, idle_cv_;
  std::deque<Pending> queue_;
  std::size_t queued_now_ = 0;                          // Now messages in queue_
  bool expedited_ = false;                              // expedite() since the last batch was taken
  std::uint64_t queued_total_ = 0, decided_total_ = 0;  // messages ever queued / taken and finished
  std::deque<std::shared_ptr<Waiter>> deadlines_;       // in deadline order (one timeout for all)
  bool stopping_ = false, deadline_stop_ = false;

  std::mutex prune_mutex_;
  std::mutex prune_stop_mutex_;
  std::condition_variable prune_stop_cv_;
  bool prune_stop_ = false;

  std::vector<std::thread> writers_;
  std::thread deadline_thread_, pruner_;
};

}  // namespace cachet::slashing::detail

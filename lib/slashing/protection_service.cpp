#include "protection_service.hpp"

#include <algorithm>
#include <cachet/util/thread_name.hpp>

#include "history_ops.hpp"

namespace cachet::slashing::detail {
namespace {

using Error = std::unexpected<std::string>;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kPruneChunk = 512;  // validators per pruning transaction: short, never holding up signing long
constexpr int kAttempts = 4;              // a transaction is run at most this often on Retryable errors
constexpr std::chrono::seconds kIdleProbeInterval{5};  // a healthy, idle service checks the database this often

Decision unavailable(const std::string& why) {
  return {Decision::Kind::Unavailable, "database", "slashing protection database unavailable: " + why};
}

}  // namespace

/// One caller's `done`, called exactly once: by a writer after its transaction, or by the deadline thread.
struct ProtectionService::Waiter {
  explicit Waiter(std::move_only_function<void(Decision)> d, Clock::time_point at) : done(std::move(d)), deadline(at) {}
  std::atomic<bool> finished{false};
  std::move_only_function<void(Decision)> done;
  const Clock::time_point deadline;

  /// True for the one caller that may answer.
  bool claim() { return !finished.exchange(true, std::memory_order_acq_rel); }
  /// After a successful claim().
  void answer(Decision decision) {
    auto callback = std::move(done);
    try {
      callback(std::move(decision));
    } catch (...) {  // the caller's exception must not take down the writer
    }
  }
  bool finish(Decision decision) {
    if (!claim()) return false;
    answer(std::move(decision));
    return true;
  }
};

ProtectionService::ProtectionService(std::unique_ptr<Storage> storage, const ServiceConfig& config)
    : options_(config.options), probe_interval_(config.probe_interval), storage_(std::move(storage)) {}

std::expected<std::unique_ptr<ProtectionService>, std::string> ProtectionService::create(
    std::unique_ptr<Storage> storage, const ServiceConfig& config) {
  try {
    std::unique_ptr<ProtectionService> service(new ProtectionService(std::move(storage), config));
    if (!config.options.read_only) service->start();
    return service;
  } catch (const std::exception& e) {
    return Error(std::string("slashing protection: ") + e.what());
  }
}

void ProtectionService::start() {
  const unsigned writers = std::max(1u, storage_->parallel_writers());
  for (unsigned i = 0; i < writers; ++i)
    writers_.emplace_back([this] {
      name_this_thread("slashing-write");
      writer_loop();
    });
  deadline_thread_ = std::thread([this] {
    name_this_thread("slashing-wait");
    deadline_loop();
  });
  if (options_.pruning_epochs_to_keep > 0)
    pruner_ = std::thread([this] {
      name_this_thread("slashing-prune");
      prune_loop();
    });
}

ProtectionService::~ProtectionService() {
  if (pruner_.joinable()) {
    {
      std::lock_guard lock(prune_stop_mutex_);
      prune_stop_ = true;
    }
    prune_stop_cv_.notify_all();
    pruner_.join();
  }
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  writer_cv_.notify_all();
  for (auto& w : writers_) w.join();
  if (deadline_thread_.joinable()) {
    {
      std::lock_guard lock(queue_mutex_);
      deadline_stop_ = true;
    }
    deadline_cv_.notify_all();
    deadline_thread_.join();
  }
}

void ProtectionService::mark(bool healthy) {
  const bool was = healthy_.exchange(healthy, std::memory_order_acq_rel);
  if (was && !healthy) {
    // Under the queue lock with a notify, so that an idle writer starts probing.
    std::lock_guard lock(queue_mutex_);
    writer_cv_.notify_all();
  }
}

template <class T, class Body>
DbResult<T> ProtectionService::in_transaction(bool write, Body&& body) {
  DbError last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (attempt > 0) retries_.fetch_add(1, std::memory_order_relaxed);
    auto txn = storage_->begin(write);
    if (!txn) {
      last = txn.error();
      if (last.kind == DbError::Kind::Retryable) continue;
      return std::unexpected(last);
    }
    DbResult<T> result = body(**txn);
    if (result) {
      if (auto committed = (*txn)->commit(); !committed) {
        last = committed.error();
        if (last.kind == DbError::Kind::Retryable) continue;
        return std::unexpected(last);
      }
      return result;
    }
    last = result.error();
    if (last.kind != DbError::Kind::Retryable) return std::unexpected(last);
  }
  return std::unexpected(
      DbError{DbError::Kind::Unavailable, "gave up after " + std::to_string(kAttempts) + " attempts: " + last.message});
}

void ProtectionService::check_and_record(const ProtectedMessage& message, std::move_only_function<void(Decision)> done,
                                         Urgency urgency) {
  std::shared_ptr<Waiter> waiter;
  try {
    waiter = std::make_shared<Waiter>(std::move(done), Clock::now() + options_.commit_timeout);
  } catch (...) {
    if (done) done(unavailable("out of memory"));
    return;
  }
  try {
    if (options_.read_only) return void(waiter->finish(unavailable("opened read-only")));
    if (genesis_known_.load(std::memory_order_acquire) && message.genesis_validators_root != *genesis_)
      return void(waiter->finish({Decision::Kind::Refuse, "genesis_mismatch",
                                  "genesis validators root " + to_hex(message.genesis_validators_root) +
                                      " differs from the slashing protection database's " + to_hex(*genesis_)}));
    if (!healthy_.load(std::memory_order_acquire))
      return void(waiter->finish(unavailable("a recent write failed; waiting for the database to recover")));
    const auto now = Clock::now();
    std::lock_guard lock(queue_mutex_);
    deadlines_.push_back(waiter);
    if (deadlines_.size() == 1) deadline_cv_.notify_one();
    queue_.push_back({message, std::move(waiter), now, urgency});
    ++queued_total_;
    if (urgency == Urgency::Now) ++queued_now_;
    // A Deferred message alone does not wake a writer (that is the point); the first one queued starts the
    // max_deferral clock, which a sleeping writer only learns of when woken.
    if (urgency == Urgency::Now || queue_.size() == 1 || queue_.size() >= kMaxBatch) writer_cv_.notify_one();
  } catch (const std::exception& e) {
    if (waiter) waiter->finish(unavailable(e.what()));  // no-op if already answered
  }
}

void ProtectionService::expedite() {
  std::lock_guard lock(queue_mutex_);
  expedite_locked();
}

void ProtectionService::expedite_locked() {
  if (queue_.empty() || expedited_) return;
  expedited_ = true;
  writer_cv_.notify_one();
}

bool ProtectionService::batch_due(Clock::time_point now) const {
  return !queue_.empty() && (queued_now_ > 0 || expedited_ || stopping_ || queue_.size() >= kMaxBatch ||
                             now >= queue_.front().queued_at + options_.max_deferral);
}

void ProtectionService::writer_loop() {
  std::vector<Pending> batch;
  Clock::time_point last_probe{};
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      auto ready = [&] { return stopping_ || batch_due(Clock::now()); };
      if (healthy_.load()) {
        if (!ready()) {
          // Idle and healthy: a probe now and then, so that /healthcheck says DOWN for a database that went away
          // while nothing was being signed (not only once a block or attestation fails). With Deferred messages
          // only, wake when the oldest one's deferral ends; any wake-up goes round the loop again, so that a
          // deferral that began while this writer slept gets its own deadline.
          auto until = Clock::now() + kIdleProbeInterval;
          if (!queue_.empty()) until = std::min(until, queue_.front().queued_at + options_.max_deferral);
          const bool timed_out = writer_cv_.wait_until(lock, until) == std::cv_status::timeout;
          if (ready()) {
            // decide the batch below
          } else if (timed_out && queue_.empty() && healthy_.load() &&
                     Clock::now() - last_success_.load() >= kIdleProbeInterval && !idle_prober_.exchange(true)) {
            lock.unlock();
            if (!storage_->probe()) mark(false);
            idle_prober_.store(false);
            continue;
          } else {
            continue;
          }
        }
      } else if (Clock::now() - last_probe < probe_interval_) {
        // Unhealthy: probe at once (a stall that has passed costs no extra second of refusals), then every
        // probe_interval.
        writer_cv_.wait_until(lock, last_probe + probe_interval_, ready);
      }
      if (queue_.empty()) {
        if (stopping_) return;
        lock.unlock();
        if (!healthy_.load()) {
          last_probe = Clock::now();
          if (storage_->probe()) mark(true);
        }
        continue;
      }
      const std::size_t n = std::min(queue_.size(), kMaxBatch);
      for (std::size_t i = 0; i < n; ++i) {
        if (queue_.front().urgency == Urgency::Now) --queued_now_;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      expedited_ = false;
    }
    decide_batch(batch);
    {
      std::lock_guard lock(queue_mutex_);
      decided_total_ += batch.size();
      idle_cv_.notify_all();
    }
    batch.clear();
  }
}

void ProtectionService::decide_batch(std::vector<Pending>& batch) {
  // Callers already answered by the deadline thread are still decided: their records may land, harmlessly.
  std::vector<const ProtectedMessage*> messages;
  messages.reserve(batch.size());
  for (const auto& p : batch) messages.push_back(&p.message);
  std::optional<Bytes32> genesis, learned;
  if (genesis_known_.load(std::memory_order_acquire)) genesis = genesis_;
  const auto started = Clock::now();
  auto decided = in_transaction<std::vector<Decision>>(true, [&](Transaction& txn) {
    learned = genesis;  // a retry starts from what is known, not from a rolled-back first use
    return decide(txn, messages, learned);
  });
  if (!decided) {
    mark(false);
    for (auto& p : batch) p.waiter->finish(unavailable(decided.error().message));
    return;
  }
  // Committed: the recorded root is known for good.
  if (learned && !genesis_known_.load(std::memory_order_acquire)) {
    std::lock_guard lock(genesis_mutex_);
    if (!genesis_known_.load(std::memory_order_relaxed)) {
      genesis_ = learned;
      genesis_known_.store(true, std::memory_order_release);
    }
  }
  mark(true);
  const auto committed = Clock::now();
  last_success_.store(committed);
  transactions_.fetch_add(1, std::memory_order_relaxed);
  records_.fetch_add(batch.size(), std::memory_order_relaxed);
  if (options_.on_batch_committed) options_.on_batch_committed(committed - started, batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].waiter->finish(std::move((*decided)[i]));
}

void ProtectionService::deadline_loop() {
  std::unique_lock lock(queue_mutex_);
  for (;;) {
    while (!deadlines_.empty() && deadlines_.front()->finished.load(std::memory_order_acquire)) deadlines_.pop_front();
    if (deadline_stop_) return;
    if (deadlines_.empty()) {
      deadline_cv_.wait(lock);
      continue;
    }
    auto front = deadlines_.front();
    if (front->deadline > Clock::now()) {
      deadline_cv_.wait_until(lock, front->deadline);
      continue;
    }
    deadlines_.pop_front();
    // The transaction is late (a hung disk or server): fail closed now; later requests fail at once until a
    // transaction or a probe succeeds. Unhealthy before the caller hears of it (its retry is answered at once).
    if (front->claim()) {
      healthy_.store(false, std::memory_order_release);
      timeouts_.fetch_add(1, std::memory_order_relaxed);
      writer_cv_.notify_all();
      lock.unlock();
      front->answer(unavailable("no commit within " + std::to_string(options_.commit_timeout.count()) + " ms"));
      lock.lock();
    }
  }
}

bool ProtectionService::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(queue_mutex_);
  const std::uint64_t target = queued_total_;
  expedite_locked();  // Deferred messages too: a flush does not wait for their deferral to end
  return idle_cv_.wait_for(lock, timeout, [&] { return decided_total_ >= target; });
}

std::expected<ImportReport, std::string> ProtectionService::import_interchange(const Interchange& interchange,
                                                                               std::span<const Bytes48> only) {
  if (options_.read_only) return Error("the slashing protection database is open read-only");
  try {
    std::string refusal;
    auto result = in_transaction<ImportReport>(true, [&](Transaction& txn) -> DbResult<ImportReport> {
      auto r = import(txn, interchange, only);
      if (!r) return std::unexpected(r.error());
      if (!*r) {
        // A refusal: nothing to commit. Reported as an error that is not retried.
        refusal = r->error();
        return db_unavailable(refusal);
      }
      return **r;
    });
    if (!result) return Error(refusal.empty() ? "slashing protection database: " + result.error().message : refusal);
    return *result;
  } catch (const std::exception& e) {
    return Error(std::string("import failed: ") + e.what());
  }
}

std::expected<Interchange, std::string> ProtectionService::export_interchange(std::span<const Bytes48> pubkeys) {
  try {
    // Every Sign answered before this call was committed before it was answered: the snapshot holds it.
    Interchange out;
    auto result = in_transaction<Bytes32>(false, [&](Transaction& txn) {
      out.data.clear();
      return export_history(txn, pubkeys, [&](ValidatorHistory&& v) { out.data.push_back(std::move(v)); });
    });
    if (!result) return Error("slashing protection database: " + result.error().message);
    out.genesis_validators_root = *result;
    return out;
  } catch (const std::exception& e) {
    return Error(std::string("export failed: ") + e.what());
  }
}

std::expected<void, std::string> ProtectionService::prune() {
  if (options_.read_only) return Error("the slashing protection database is open read-only");
  if (options_.pruning_epochs_to_keep == 0) return {};
  try {
    std::lock_guard serial(prune_mutex_);
    for (std::int64_t after = 0;;) {
      auto last = in_transaction<std::optional<std::int64_t>>(true, [&](Transaction& txn) {
        return prune_some(txn, after, kPruneChunk, options_.pruning_epochs_to_keep, options_.slots_per_epoch);
      });
      if (!last) return Error("pruning: " + last.error().message);
      if (!*last) return {};
      after = **last;
    }
  } catch (const std::exception& e) {
    return Error(std::string("pruning failed: ") + e.what());
  }
}

void ProtectionService::prune_loop() {
  std::unique_lock lock(prune_stop_mutex_);
  while (!prune_stop_cv_.wait_for(lock, options_.pruning_interval, [&] { return prune_stop_; })) {
    lock.unlock();
    (void)prune();  // a failed transaction changes nothing; the next interval tries again
    lock.lock();
  }
}

ProtectionService::Stats ProtectionService::stats() const {
  return {transactions_.load(), records_.load(), timeouts_.load(), retries_.load()};
}

}  // namespace cachet::slashing::detail

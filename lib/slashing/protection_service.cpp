#include "protection_service.hpp"

#include <algorithm>
#include <future>
#include <unordered_set>

namespace cachet::slashing::detail {
namespace {

using Error = std::unexpected<std::string>;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kPruneChunk = 512;  // validators per pruning transaction: short, never holding up signing long

Decision unavailable(const std::string& why) {
  return {Decision::Kind::Unavailable, "database", "slashing protection database unavailable: " + why};
}

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};

}  // namespace

struct ProtectionService::Validator {
  Validator(std::int64_t id_, const Bytes48& pubkey_) : id(id_), pubkey(pubkey_) {}
  const std::int64_t id;
  const Bytes48 pubkey;
  std::atomic<bool> stored{false};  // its row is in the database
  std::mutex mutex;
  History history;  // guarded by mutex
};

/// One caller's `done`, called exactly once: by the writer after its commit, or by the deadline thread.
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
    if (!config.options.read_only) {
      if (auto loaded = service->load(); !loaded) return Error(loaded.error());
      service->start();
    }
    return service;
  } catch (const std::exception& e) {
    return Error(std::string("slashing protection: ") + e.what());
  }
}

std::expected<void, std::string> ProtectionService::load() {
  auto summary = storage_->scan({}, [&](StoredValidator&& stored) {
    auto v = std::make_shared<Validator>(stored.id, stored.pubkey);
    v->stored = true;
    v->history.load(stored.blocks, stored.attestations, stored.watermarks);
    shard(stored.pubkey).validators.emplace(stored.pubkey, std::move(v));
  });
  if (!summary) return Error(summary.error());
  if (summary->genesis_validators_root) {
    genesis_root_ = *summary->genesis_validators_root;
    genesis_known_ = true;
    genesis_stored_ = true;
  }
  next_id_ = summary->max_validator_id + 1;
  return {};
}

void ProtectionService::start() {
  writer_ = std::thread([this] { writer_loop(); });
  deadline_thread_ = std::thread([this] { deadline_loop(); });
  if (options_.pruning_epochs_to_keep > 0) pruner_ = std::thread([this] { prune_loop(); });
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
  if (writer_.joinable()) {
    {
      std::lock_guard lock(queue_mutex_);
      stopping_ = true;
    }
    writer_cv_.notify_all();
    writer_.join();
  }
  if (deadline_thread_.joinable()) {
    {
      std::lock_guard lock(queue_mutex_);
      deadline_stop_ = true;
    }
    deadline_cv_.notify_all();
    deadline_thread_.join();
  }
}

std::shared_ptr<ProtectionService::Validator> ProtectionService::find_or_add(const Bytes48& pubkey) {
  auto& s = shard(pubkey);
  {
    std::shared_lock lock(s.mutex);
    if (auto it = s.validators.find(pubkey); it != s.validators.end()) return it->second;
  }
  std::unique_lock lock(s.mutex);
  auto& slot = s.validators[pubkey];
  if (!slot) slot = std::make_shared<Validator>(next_id_.fetch_add(1), pubkey);
  return slot;
}

std::vector<std::shared_ptr<ProtectionService::Validator>> ProtectionService::all_validators() const {
  std::vector<std::shared_ptr<Validator>> out;
  for (const auto& s : shards_) {
    std::shared_lock lock(s.mutex);
    for (const auto& [pk, v] : s.validators) out.push_back(v);
  }
  return out;
}

bool ProtectionService::accept_genesis_root(const Bytes32& root, Bytes32* recorded) {
  if (!genesis_known_.load(std::memory_order_acquire)) {
    std::lock_guard lock(genesis_mutex_);
    if (!genesis_known_.load(std::memory_order_relaxed)) {
      genesis_root_ = root;  // first use: recorded durably with the next commit
      genesis_known_.store(true, std::memory_order_release);
    }
  }
  if (recorded) *recorded = genesis_root_;
  return genesis_root_ == root;
}

void ProtectionService::check_and_record(const ProtectedMessage& message,
                                         std::move_only_function<void(Decision)> done) {
  std::shared_ptr<Waiter> waiter;
  try {
    waiter = std::make_shared<Waiter>(std::move(done), Clock::now() + options_.commit_timeout);
  } catch (...) {
    if (done) done(unavailable("out of memory"));
    return;
  }
  try {
    check_and_record_locked(message, waiter);
  } catch (const std::exception& e) {
    waiter->finish(unavailable(e.what()));  // no-op if already answered
  }
}

void ProtectionService::check_and_record_locked(const ProtectedMessage& message,
                                                const std::shared_ptr<Waiter>& waiter) {
  if (options_.read_only) return void(waiter->finish(unavailable("opened read-only")));
  Bytes32 recorded;
  if (!accept_genesis_root(message.genesis_validators_root, &recorded))
    return void(waiter->finish({Decision::Kind::Refuse, "genesis_mismatch",
                                "genesis validators root " + to_hex(message.genesis_validators_root) +
                                    " differs from the slashing protection database's " + to_hex(recorded)}));
  auto validator = find_or_add(message.pubkey);
  std::unique_lock lock(validator->mutex);
  auto& history = validator->history;
  std::variant<SignedBlock, SignedAttestation> what;
  const CheckResult result =
      std::visit(Overloaded{[&](const BlockProposal& b) {
                              what = SignedBlock{b.slot, message.signing_root};
                              return history.check_block(b.slot, message.signing_root);
                            },
                            [&](const AttestationVote& a) {
                              what = SignedAttestation{a.source_epoch, a.target_epoch, message.signing_root};
                              return history.check_attestation(a.source_epoch, a.target_epoch, message.signing_root);
                            }},
                 message.what);
  if (result.refused()) {
    lock.unlock();
    return void(waiter->finish({Decision::Kind::Refuse, reason_code(result.verdict), result.message}));
  }
  if (!healthy_.load(std::memory_order_acquire)) {
    lock.unlock();
    return void(waiter->finish(unavailable("a recent write failed; waiting for the database to recover")));
  }
  // Safe: into the index now, so that a racing conflicting request is refused. Repeat: the entry is there, but
  // perhaps not committed yet (or its commit failed): write it again and answer after that commit.
  if (result.verdict == Verdict::Safe)
    std::visit(Overloaded{[&](const SignedBlock& b) { history.add_block(b); },
                          [&](const SignedAttestation& a) { history.add_attestation(a); }},
               what);
  // Queued under the validator's lock: the queue holds this validator's records in the index's order (pruning
  // relies on it).
  enqueue(Record{validator, what, waiter}, waiter);
}

void ProtectionService::enqueue(Item item, std::shared_ptr<Waiter> waiter) {
  std::lock_guard lock(queue_mutex_);
  if (waiter) {
    deadlines_.push_back(std::move(waiter));
    if (deadlines_.size() == 1) deadline_cv_.notify_one();
  }
  queue_.push_back(std::move(item));
  writer_cv_.notify_one();
}

void ProtectionService::writer_loop() {
  std::vector<Item> items;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      auto ready = [&] { return stopping_ || !queue_.empty(); };
      if (healthy_.load()) {
        writer_cv_.wait(lock, [&] { return ready() || !healthy_.load(); });
      } else {
        writer_cv_.wait_for(lock, probe_interval_, ready);
      }
      if (queue_.empty()) {
        if (stopping_) return;
        lock.unlock();
        if (!healthy_.load() && storage_->probe()) healthy_.store(true, std::memory_order_release);
        continue;
      }
      items.swap(queue_);
    }
    std::vector<Record*> group;
    for (auto& item : items) {
      if (auto* record = std::get_if<Record>(&item)) {
        group.push_back(record);
        continue;
      }
      commit(group);
      group.clear();
      std::get<Task>(item)();
    }
    commit(group);
    items.clear();
  }
}

void ProtectionService::commit(std::span<Record*> records) {
  if (records.empty()) return;
  WriteBatch batch;
  std::vector<std::shared_ptr<Validator>> validators;
  for (const auto* r : records) {
    validators.push_back(r->validator);
    std::visit(Overloaded{[&](const SignedBlock& b) {
                            batch.blocks.push_back({r->validator->id, b});
                          },
                          [&](const SignedAttestation& a) {
                            batch.attestations.push_back({r->validator->id, a});
                          }},
               r->what);
  }
  auto written = write(batch, validators);
  if (written) {
    transactions_.fetch_add(1, std::memory_order_relaxed);
    records_.fetch_add(records.size(), std::memory_order_relaxed);
  }
  for (auto* r : records)
    r->waiter->finish(written ? Decision{Decision::Kind::Sign, {}, {}} : unavailable(written.error()));
}

std::expected<void, std::string> ProtectionService::write(WriteBatch& batch,
                                                          std::span<const std::shared_ptr<Validator>> validators) {
  // Writer thread only. Adds the genesis root and the validators not stored yet, writes, and keeps health.
  if (!genesis_stored_ && genesis_known_.load(std::memory_order_acquire)) batch.genesis_validators_root = genesis_root_;
  std::unordered_set<std::int64_t> added;
  for (const auto& v : validators)
    if (!v->stored.load(std::memory_order_relaxed) && added.insert(v->id).second)
      batch.validators.push_back({v->id, v->pubkey});
  if (batch.empty()) return {};
  auto written = storage_->write(batch);
  if (!written) {
    healthy_.store(false, std::memory_order_release);
    return written;
  }
  healthy_.store(true, std::memory_order_release);
  if (batch.genesis_validators_root) genesis_stored_ = true;
  for (const auto& v : validators) v->stored.store(true, std::memory_order_relaxed);
  return {};
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
    // The commit is late (a hung or very slow disk): fail closed now; later requests fail at once until the
    // writer commits or a probe succeeds. Unhealthy before the caller hears of it (its retry is answered at once),
    // and under the queue lock with a notify, so that an idle writer starts probing.
    if (front->claim()) {
      healthy_.store(false, std::memory_order_release);
      timeouts_.fetch_add(1, std::memory_order_relaxed);
      writer_cv_.notify_one();
      lock.unlock();
      front->answer(unavailable("no commit within " + std::to_string(options_.commit_timeout.count()) + " ms"));
      lock.lock();
    }
  }
}

template <class T>
T ProtectionService::on_writer(std::move_only_function<T()> task) {
  auto promise = std::make_shared<std::promise<T>>();
  auto result = promise->get_future();
  enqueue(Task([promise, task = std::move(task)]() mutable { promise->set_value(task()); }), nullptr);
  return result.get();
}

bool ProtectionService::flush(std::chrono::milliseconds timeout) {
  if (options_.read_only) return true;
  auto promise = std::make_shared<std::promise<void>>();
  auto done = promise->get_future();
  enqueue(Task([promise] { promise->set_value(); }), nullptr);
  return done.wait_for(timeout) == std::future_status::ready;
}

std::expected<ImportReport, std::string> ProtectionService::import_interchange(const Interchange& interchange,
                                                                               std::span<const Bytes48> only) {
  if (options_.read_only) return Error("the slashing protection database is open read-only");
  try {
    return on_writer<std::expected<ImportReport, std::string>>([&] { return import_on_writer(interchange, only); });
  } catch (const std::exception& e) {
    return Error(std::string("import failed: ") + e.what());
  }
}

std::expected<ImportReport, std::string> ProtectionService::import_on_writer(const Interchange& interchange,
                                                                             std::span<const Bytes48> only) {
  Bytes32 recorded;
  if (!accept_genesis_root(interchange.genesis_validators_root, &recorded))
    return Error("genesis_mismatch: the interchange's genesis validators root " +
                 to_hex(interchange.genesis_validators_root) + " differs from the database's " + to_hex(recorded));
  // One entry per pubkey (the format allows repeats: they merge), restricted to `only`.
  struct Group {
    std::shared_ptr<Validator> validator;
    std::vector<SignedBlock> blocks;
    std::vector<SignedAttestation> attestations;
  };
  std::vector<Group> groups;
  std::unordered_map<Bytes48, std::size_t, BytesHash> index;
  ImportReport report;
  for (const auto& v : interchange.data) {
    if (!only.empty() && std::ranges::find(only, v.pubkey) == only.end()) continue;
    auto [it, added] = index.try_emplace(v.pubkey, groups.size());
    if (added) groups.push_back({find_or_add(v.pubkey), {}, {}});
    auto& g = groups[it->second];
    g.blocks.insert(g.blocks.end(), v.signed_blocks.begin(), v.signed_blocks.end());
    g.attestations.insert(g.attestations.end(), v.signed_attestations.begin(), v.signed_attestations.end());
    report.blocks += v.signed_blocks.size();
    report.attestations += v.signed_attestations.size();
  }
  report.validators = groups.size();

  // The validators stay locked from the merge until the index is updated: no request for them is checked against
  // a history that lacks the import. Only this thread ever holds more than one validator lock.
  std::vector<std::unique_lock<std::mutex>> locks;
  std::vector<std::shared_ptr<Validator>> validators;
  std::vector<History> merged;
  WriteBatch batch;
  for (auto& g : groups) {
    locks.emplace_back(g.validator->mutex);
    validators.push_back(g.validator);
    merged.push_back(g.validator->history);
    merged.back().import(g.blocks, g.attestations);
    const auto& w = merged.back().watermarks();
    for (const auto& b : g.blocks) batch.blocks.push_back({g.validator->id, b});
    for (const auto& a : g.attestations) batch.attestations.push_back({g.validator->id, a});
    batch.import_watermarks.push_back({g.validator->id, w.import_min_slot, w.import_min_source, w.import_min_target});
  }
  if (auto written = write(batch, validators); !written) return Error(written.error());
  for (std::size_t i = 0; i < groups.size(); ++i) groups[i].validator->history = std::move(merged[i]);
  return report;
}

std::expected<Interchange, std::string> ProtectionService::export_interchange(std::span<const Bytes48> pubkeys) {
  try {
    // Every Sign decision made before this call is committed; what was queued before it is written first.
    if (!flush(options_.commit_timeout)) return Error("the slashing protection database did not commit in time");
    std::vector<Bytes48> wanted(pubkeys.begin(), pubkeys.end());
    std::ranges::sort(wanted);
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    Interchange out;
    auto summary = storage_->scan(wanted, [&](StoredValidator&& v) {
      History h;
      h.load(v.blocks, v.attestations, v.watermarks);
      out.data.push_back(h.to_interchange(v.pubkey));
    });
    if (!summary) return Error(summary.error());
    out.genesis_validators_root = summary->genesis_validators_root.value_or(Bytes32{});
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
    auto write_chunk = [&](std::vector<std::pair<std::shared_ptr<Validator>, WriteBatch::Prune>>& chunk) {
      auto result = on_writer<std::expected<void, std::string>>([&]() -> std::expected<void, std::string> {
        // A validator whose records never committed has no rows to prune (its watermarks stay in memory).
        WriteBatch batch;
        for (const auto& [v, p] : chunk)
          if (v->stored.load(std::memory_order_relaxed)) batch.prunes.push_back(p);
        return write(batch, {});
      });
      chunk.clear();
      return result;
    };
    std::vector<std::pair<std::shared_ptr<Validator>, WriteBatch::Prune>> chunk;
    for (const auto& v : all_validators()) {
      PruneResult pruned;
      {
        // Brief: the in-memory pruning of one validator. The database follows in the chunk's transaction; until
        // then it holds more history than memory, which is safe.
        std::lock_guard lock(v->mutex);
        pruned = v->history.prune(options_.pruning_epochs_to_keep, options_.slots_per_epoch);
      }
      if (pruned.blocks + pruned.attestations == 0) continue;
      chunk.push_back({v, {v->id, pruned.max_slot, pruned.max_source, pruned.max_target}});
      if (chunk.size() >= kPruneChunk)
        if (auto r = write_chunk(chunk); !r) return r;
    }
    if (!chunk.empty()) return write_chunk(chunk);
    return {};
  } catch (const std::exception& e) {
    return Error(std::string("pruning failed: ") + e.what());
  }
}

void ProtectionService::prune_loop() {
  std::unique_lock lock(prune_stop_mutex_);
  while (!prune_stop_cv_.wait_for(lock, options_.pruning_interval, [&] { return prune_stop_; })) {
    lock.unlock();
    (void)prune();  // a failure marks the service unhealthy; the next interval tries again
    lock.lock();
  }
}

ProtectionService::Stats ProtectionService::stats() const {
  return {transactions_.load(), records_.load(), timeouts_.load()};
}

}  // namespace cachet::slashing::detail

#include <algorithm>
#include <cachet/keys/key_cache.hpp>
#include <cachet/keys/key_service.hpp>
#include <cachet/util/thread_name.hpp>
#include <unordered_map>
#include <unordered_set>

namespace cachet::keys {

namespace {

// Sets a flag for the duration of a load, so /healthcheck can say keys are loading.
struct LoadingFlag {
  std::atomic<bool>& flag;
  explicit LoadingFlag(std::atomic<bool>& f) : flag(f) { flag = true; }
  ~LoadingFlag() { flag = false; }
};

std::size_t failures_of(const LoadReport& report, KeySource source) {
  return static_cast<std::size_t>(
      std::ranges::count_if(report.failures, [&](const LoadFailure& f) { return f.source == source; }));
}

}  // namespace

KeyService::KeyService(KeyStore& store, KeyServiceOptions options) : store_(store), options_(std::move(options)) {
  if (!options_.managed_dir.empty()) managed_.emplace(options_.managed_dir);
  reload_thread_ = std::jthread([this](std::stop_token stop) {
    name_this_thread("cachet-reload");
    reload_loop(stop);
  });
}

KeyService::~KeyService() {
  reload_thread_.request_stop();
  reload_cv_.notify_all();
}

std::vector<std::shared_ptr<const Key>> KeyService::current_keys() const {
  std::lock_guard lock(key_set_mutex());
  auto keys = store_.list();
  for (auto& k : keys)
    if (auto latest = latest_.find(k->pubkey); latest != latest_.end()) k = latest->second;
  return keys;
}

std::mutex& KeyService::key_set_mutex() const { return managed_ ? managed_->key_set_mutex() : own_key_set_mutex_; }

LoadReport KeyService::load() {
  LoadingFlag flag(loading_);
  KnownKeys known;
  std::optional<KeyCache> cache;
  std::string cache_problem;
  if (cache_enabled()) {
    auto read = KeyCache::read(options_.cache_file);
    if (!read)
      cache_problem = "is unreadable (" + read.error() + ")";
    else
      cache = std::move(*read);
    if (cache) known.cache = &*cache;
  }
  LoadOptions load = options_.load;
  load.counters = &counters_;
  auto loaded = load_keys(options_.directories, load, known);
  if (cache_problem.empty()) cache_problem = loaded.report.cache_problem;
  {
    std::lock_guard lock(key_set_mutex());
    store_.apply({}, loaded.keys);
  }
  external_failures_ = failures_of(loaded.report, KeySource::External);
  managed_failures_ = failures_of(loaded.report, KeySource::Managed);
  if (options_.on_key_set_changed) options_.on_key_set_changed();

  // Rewritten when it does not hold exactly the keys now loaded (new, changed or removed files, or no usable cache).
  if (cache_enabled()) {
    const bool unchanged = cache && loaded.report.cache_problem.empty() &&
                           loaded.report.from_cache == cache->entries().size() &&
                           loaded.report.from_cache == loaded.keys.size();
    if (!cache_problem.empty() && options_.on_cache_problem)
      options_.on_cache_problem("the key cache " + cache_problem + "; it is rebuilt");
    if (!unchanged)
      if (auto saved = save_cache(); !saved && options_.on_cache_problem)
        options_.on_cache_problem("the key cache could not be written: " + saved.error());
  }
  return std::move(loaded.report);
}

std::expected<void, std::string> KeyService::save_cache() {
  if (!cache_enabled()) return {};
  std::lock_guard lock(cache_mutex_);
  return write_key_cache(options_.cache_file, current_keys(), options_.cache_kdf);
}

void KeyService::request_reload() {
  {
    std::lock_guard lock(reload_mutex_);
    reload_pending_ = true;
  }
  reload_cv_.notify_all();
}

ReloadStatus KeyService::reload_status() const {
  std::lock_guard lock(reload_mutex_);
  ReloadStatus s = last_reload_;
  if (reload_pending_ || reload_running_) s.state = ReloadState::Running;
  return s;
}

LoadingStatus KeyService::loading() const {
  return {loading_.load(), counters_.done.load(std::memory_order_relaxed),
          counters_.total.load(std::memory_order_relaxed)};
}

std::size_t KeyService::failure_count() const { return external_failures_ + managed_failures_; }

void KeyService::reload_loop(std::stop_token stop) {
  std::unique_lock lock(reload_mutex_);
  while (reload_cv_.wait(lock, stop, [this] { return reload_pending_; })) {
    reload_pending_ = false;
    reload_running_ = true;
    lock.unlock();
    reload_once();
    lock.lock();
    reload_running_ = false;
  }
}

void KeyService::reload_once() {
  LoadingFlag flag(loading_);
  std::vector<KeyDirectory> external;
  for (const auto& d : options_.directories)
    if (d.source == KeySource::External) external.push_back(d);

  KnownKeys known;
  for (auto& k : current_keys())
    if (k->source == KeySource::External) known.in_memory.push_back(std::move(k));
  LoadOptions load = options_.load;
  load.nice = options_.reload_nice;
  load.counters = &counters_;
  load.on_progress = nullptr;  // the start-up progress line; a reload logs its outcome
  auto loaded = load_keys(external, load, known);

  ReloadStatus status;
  status.failed = loaded.report.failures.size();
  // A directory that cannot be listed (gone, unreadable) must not read as "every key removed".
  for (const auto& f : loaded.report.failures)
    for (const auto& d : external)
      if (f.path == d.keystores) status.error = d.keystores.string() + ": " + f.reason;
  if (!status.error.empty()) {
    status.state = ReloadState::Failed;
  } else {
    std::lock_guard lock(key_set_mutex());
    std::unordered_map<crypto::PublicKey, std::shared_ptr<const Key>, BytesHash> old_external;
    std::unordered_set<crypto::PublicKey, BytesHash> managed_pubkeys, kept;
    for (auto& k : store_.list()) {
      if (k->source == KeySource::External)
        old_external.emplace(k->pubkey, std::move(k));
      else
        managed_pubkeys.insert(k->pubkey);
    }
    std::vector<std::shared_ptr<const Key>> added;
    for (auto& k : loaded.keys) {
      if (managed_pubkeys.contains(k->pubkey)) continue;  // imported through the keymanager: that one stays
      kept.insert(k->pubkey);
      auto old = old_external.find(k->pubkey);
      if (old == old_external.end()) {
        ++status.added;
        latest_.erase(k->pubkey);
        added.push_back(std::move(k));
      } else if (auto latest = latest_.find(k->pubkey);
                 latest != latest_.end() ? latest->second != k : old->second != k) {
        // A changed file with the same pubkey holds the same secret (the pubkey determines it): the object that
        // signs stays, so a request in flight never sees its key replaced; only the file's identity is updated.
        ++status.changed;
        latest_[k->pubkey] = std::move(k);
      }
    }
    std::vector<crypto::PublicKey> removed;
    for (const auto& [pubkey, key] : old_external)
      if (!kept.contains(pubkey)) {
        removed.push_back(pubkey);
        latest_.erase(pubkey);
      }
    status.removed = removed.size();
    store_.apply(removed, added);
    status.state = ReloadState::Completed;
    external_failures_ = status.failed;
  }
  if (options_.on_reloaded) options_.on_reloaded(loaded.report);
  if (status.added + status.removed + status.changed > 0) {
    if (options_.on_key_set_changed) options_.on_key_set_changed();
    if (auto saved = save_cache(); !saved && options_.on_cache_problem)
      options_.on_cache_problem("the key cache could not be written: " + saved.error());
  }
  std::lock_guard lock(reload_mutex_);
  last_reload_ = std::move(status);
}

ImportResult KeyService::import(std::string_view keystore_json, std::string_view password) {
  if (!managed_) return {ImportResult::Status::Error, "the keymanager API is disabled", std::nullopt};
  auto result = managed_->import(keystore_json, password, store_, options_.load.limits);
  if (result.status == ImportResult::Status::Imported && options_.on_key_set_changed) options_.on_key_set_changed();
  return result;
}

DeleteResult KeyService::remove(const crypto::PublicKey& pubkey) {
  if (!managed_) return {DeleteResult::Status::NotFound, {}};
  auto result = managed_->remove(pubkey, store_);
  if (result.status == DeleteResult::Status::Deleted && options_.on_key_set_changed) options_.on_key_set_changed();
  return result;
}

}  // namespace cachet::keys

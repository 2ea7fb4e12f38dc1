// The signer's keys over their lifetime: the start-up load of every key directory (with the encrypted key cache),
// reloads of the external directories (POST /reload, SIGHUP) in the background, and keymanager imports and deletes,
// all keeping the key cache in step. Signing only ever reads the KeyStore, which each change swaps atomically.
#pragma once

#include <atomic>
#include <cachet/keys/keystore_loader.hpp>
#include <cachet/keys/managed_keystores.hpp>
#include <condition_variable>
#include <expected>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace cachet::keys {

struct KeyServiceOptions {
  /// Loaded in this order (external first): of two files with the same pubkey the first wins. Only the external
  /// ones are rescanned by a reload.
  std::vector<KeyDirectory> directories;
  /// Where keymanager imports are kept (also listed in `directories` as Managed); empty: no keymanager.
  std::filesystem::path managed_dir;
  /// The key cache file; empty: no cache.
  std::filesystem::path cache_file;
  /// The cache's KDF: EIP-2335's default (scrypt n = 2^18); cheaper only in tests.
  crypto::KeystoreParams cache_kdf;
  /// Threads, limits, progress and metrics callbacks of the start-up load; reloads use them at `reload_nice`.
  LoadOptions load;
  int reload_nice = 10;
  /// After every reload (from the reload thread): its report, to log and count.
  std::function<void(const LoadReport&)> on_reloaded;
  /// After the key set changed (reload, import, delete): to refresh gauges.
  std::function<void()> on_key_set_changed;
  /// Any problem with the key cache (never fatal: the keystores decide), to log.
  std::function<void(const std::string&)> on_cache_problem;
};

enum class ReloadState { Idle, Running, Completed, Failed };

struct ReloadStatus {
  ReloadState state = ReloadState::Idle;
  std::size_t added = 0, removed = 0, changed = 0, failed = 0;
  std::string error;  // for Failed
};

/// Keystores loading now (start-up or reload), for /healthcheck.
struct LoadingStatus {
  bool loading = false;
  std::size_t done = 0, total = 0;
};

class KeyService {
 public:
  KeyService(KeyStore& store, KeyServiceOptions options);
  ~KeyService();
  KeyService(const KeyService&) = delete;
  KeyService& operator=(const KeyService&) = delete;

  /// Start-up: every directory, taking what the key cache holds for unchanged files (one KDF), decrypting the rest
  /// in parallel; then rewrites the cache if anything changed. Blocks the caller.
  LoadReport load();

  /// Rescans the external directories in the background: new files are loaded, removed files' keys stop signing,
  /// changed files are reloaded; the key set is swapped atomically. A request while one runs is coalesced into one
  /// more run after it, never a second one at the same time.
  void request_reload();
  ReloadStatus reload_status() const;
  LoadingStatus loading() const;
  /// Keystores that failed in the latest load of each directory.
  std::size_t failure_count() const;

  /// Keymanager: null when no managed directory was given.
  const ManagedKeystores* managed() const { return managed_ ? &*managed_ : nullptr; }
  /// Decrypts on the caller's thread (the KDF), then persists and activates the key. The key cache is not
  /// rewritten here: call save_cache() once a batch is done.
  ImportResult import(std::string_view keystore_json, std::string_view password);
  /// Stops the key signing at once and removes its files; call save_cache() before answering.
  DeleteResult remove(const crypto::PublicKey& pubkey);

  /// Rewrites the key cache from the current key set (one KDF), durably; nothing when the cache is off.
  std::expected<void, std::string> save_cache();
  bool cache_enabled() const { return !options_.cache_file.empty(); }

 private:
  void reload_loop(std::stop_token stop);
  void reload_once();
  std::mutex& key_set_mutex() const;
  /// The store's keys, each with its file's latest identity (see latest_).
  std::vector<std::shared_ptr<const Key>> current_keys() const;

  KeyStore& store_;
  KeyServiceOptions options_;
  std::optional<ManagedKeystores> managed_;
  mutable std::mutex own_key_set_mutex_;
  // External keys whose file changed without changing the key: the store keeps the object that signs (a sign in
  // flight checks that its key is still the one stored), this holds the one decrypted from the new file, whose path
  // and content hash the next reload and the key cache need. Guarded by key_set_mutex().
  std::unordered_map<crypto::PublicKey, std::shared_ptr<const Key>, BytesHash> latest_;
  std::mutex cache_mutex_;  // one cache write at a time, each from a fresh snapshot of the key set

  LoadCounters counters_;
  std::atomic<bool> loading_{false};
  std::atomic<std::size_t> external_failures_{0}, managed_failures_{0};

  mutable std::mutex reload_mutex_;  // guards the fields below
  std::condition_variable_any reload_cv_;
  bool reload_pending_ = false;
  bool reload_running_ = false;
  ReloadStatus last_reload_;
  std::jthread reload_thread_;  // last: started after everything it uses
};

}  // namespace cachet::keys

// Loads EIP-2335 keystores from directories, decrypting in parallel, reusing keys already decrypted (from a previous
// load or the key cache) when their file has not changed.
#pragma once

#include <atomic>
#include <cachet/crypto/keystore.hpp>
#include <cachet/keys/key_store.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace cachet::keys {

class KeyCache;

struct LoadFailure {
  std::filesystem::path path;
  std::string reason;
  KeySource source = KeySource::External;  // of the directory it was found in
};

struct LoadProgress {
  std::size_t done = 0, total = 0;
  double rate_per_second = 0;  // keystores done per second so far
  std::chrono::seconds eta{0};
};

/// A directory of keystores `NAME.json`, with passwords `passwords/NAME.txt` or one `password_file` for all.
struct KeyDirectory {
  std::filesystem::path keystores;
  std::filesystem::path passwords;
  std::filesystem::path password_file;  // when set, `passwords` is not used
  KeySource source = KeySource::External;
};

/// Files done and in total of the load in progress, for a health check (updated as each file finishes).
struct LoadCounters {
  std::atomic<std::size_t> done{0}, total{0};
};

struct LoadOptions {
  KeySource source = KeySource::External;  // for load_keystore_directory
  unsigned threads = 0;                    // 0: all cores
  int nice = 0;                            // > 0 lowers the decrypting threads' priority (reloads while signing)
  crypto::KeystoreLimits limits;
  std::chrono::milliseconds progress_interval{5000};
  // Called on the calling thread every interval while loading, and once more when all are done (if there were any).
  std::function<void(const LoadProgress&)> on_progress;
  // Each successful decryption's time in seconds (metrics); called from the worker threads, so it must be thread-safe.
  std::function<void(double seconds)> on_decrypted;
  LoadCounters* counters = nullptr;
};

struct LoadReport {
  std::size_t loaded = 0;      // keys in the result
  std::size_t duplicates = 0;  // a pubkey already loaded from an earlier path (logged, not an error for the others)
  std::size_t decrypted = 0;   // keystores whose KDF ran
  std::size_t from_cache = 0;  // keys taken from the key cache (one KDF for all of them)
  std::size_t reused = 0;      // keys already in memory whose file had not changed
  std::vector<LoadFailure> failures;  // in path order
  std::string cache_problem;          // why the key cache was not used, when it was not ("" otherwise)
  std::chrono::milliseconds elapsed{0};
};

/// Keys already decrypted that a load may reuse for an unchanged file (same path, same content).
struct KnownKeys {
  std::vector<std::shared_ptr<const Key>> in_memory;
  const KeyCache* cache = nullptr;
};

struct LoadedKeys {
  std::vector<std::shared_ptr<const Key>> keys;  // no two with the same pubkey: the first path in order wins
  LoadReport report;
};

/// Every keystore of `directories` (in the order given, each sorted by path). A bad file is recorded with its path
/// and reason and skipped; the rest load. Which of two files with the same pubkey wins never depends on timing: the
/// first in that order.
LoadedKeys load_keys(const std::vector<KeyDirectory>& directories, const LoadOptions& options,
                     const KnownKeys& known = {});

/// One directory into `store` (keys whose pubkey `store` already holds count as duplicates).
LoadReport load_keystore_directory(const std::filesystem::path& keystores_dir,
                                   const std::filesystem::path& passwords_dir, KeyStore& store,
                                   const LoadOptions& options = {});

}  // namespace cachet::keys

// Loads EIP-2335 keystores from a directory at start-up, decrypting in parallel.
#pragma once

#include <cachet/crypto/keystore.hpp>
#include <cachet/keys/key_store.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace cachet::keys {

struct LoadFailure {
  std::filesystem::path path;
  std::string reason;
};

struct LoadProgress {
  std::size_t done = 0, total = 0;
  double rate_per_second = 0;  // keystores decrypted per second so far
  std::chrono::seconds eta{0};
};

struct LoadOptions {
  KeySource source = KeySource::External;
  unsigned threads = 0;  // 0: all cores
  crypto::KeystoreLimits limits;
  std::chrono::milliseconds progress_interval{5000};
  // Called on the calling thread every interval while loading, and once more when all are done (if there were any).
  std::function<void(const LoadProgress&)> on_progress;
  // Each successful decryption's time in seconds (metrics); called from the worker threads, so it must be thread-safe.
  std::function<void(double seconds)> on_decrypted;
};

struct LoadReport {
  std::size_t loaded = 0;
  std::size_t duplicates = 0;  // a pubkey already in the store (logged, not an error for the others)
  std::vector<LoadFailure> failures;
  std::chrono::milliseconds elapsed{0};
};

/// Every `NAME.json` in `keystores_dir` with its password in `passwords_dir/NAME.txt` (one trailing newline
/// stripped; "\r\n" too). A bad file is recorded with its path and reason and skipped; the rest load.
LoadReport load_keystore_directory(const std::filesystem::path& keystores_dir,
                                   const std::filesystem::path& passwords_dir, KeyStore& store,
                                   const LoadOptions& options = {});

}  // namespace cachet::keys

// The signer's keys: one in-memory map shared by every thread of the process.
#pragma once

#include <cachet/crypto/bls.hpp>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace cachet::keys {

enum class KeySource { External, Managed };  // --keystores-path (read-only) or keymanager-imported

struct Key {
  crypto::SecretKey secret;
  crypto::PublicKey pubkey;
  KeySource source = KeySource::External;
  std::string derivation_path;
  std::string keystore_path;  // file it was loaded from, for logs and deletion
  bool readonly() const { return source == KeySource::External; }
};

/// Thread-safe map pubkey -> key. Lookups are O(1) and never block each other; a key removed while a request
/// is signing with it stays alive until that request drops its reference.
class KeyStore {
 public:
  std::shared_ptr<const Key> find(const crypto::PublicKey& pubkey) const;
  /// false (and nothing changes) when the pubkey is already present.
  bool insert(std::shared_ptr<const Key> key);
  /// The removed key, or null when absent.
  std::shared_ptr<const Key> erase(const crypto::PublicKey& pubkey);
  std::vector<std::shared_ptr<const Key>> list() const;
  std::size_t size() const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<crypto::PublicKey, std::shared_ptr<const Key>, BytesHash> keys_;
};

}  // namespace cachet::keys

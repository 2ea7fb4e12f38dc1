// The signer's keys: one in-memory map shared by every thread of the process.
#pragma once

#include <cachet/crypto/bls.hpp>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cachet::keys {

enum class KeySource { External, Managed };  // --keystores-path (read-only) or keymanager-imported

/// SHA-256 of a keystore's password: enough to derive the key cache's password later without keeping the password
/// (or reading its file again). Wiped on destruction like the secret it guards.
struct PasswordDigest {
  Bytes32 bytes{};
  PasswordDigest() = default;
  explicit PasswordDigest(std::string_view password);
  PasswordDigest(const PasswordDigest&) = default;
  PasswordDigest& operator=(const PasswordDigest&) = default;
  ~PasswordDigest() { secure_wipe(bytes.data(), bytes.size()); }
};

struct Key {
  crypto::SecretKey secret;
  crypto::PublicKey pubkey;
  KeySource source = KeySource::External;
  std::string derivation_path;
  std::string keystore_path;  // file it was loaded from, for logs and deletion
  // Where the key came from, so that a reload or the key cache can tell an unchanged file from a changed one.
  std::string password_path;  // the password file it was decrypted with
  Bytes32 keystore_sha256{};  // of the keystore file's content
  PasswordDigest password_digest;
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
  /// Erases `removed` and inserts or replaces `added` under one lock: a reader sees the set before or after, and a
  /// key replaced by a new copy of itself is never missing.
  void apply(const std::vector<crypto::PublicKey>& removed, const std::vector<std::shared_ptr<const Key>>& added);
  std::vector<std::shared_ptr<const Key>> list() const;
  std::size_t size() const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<crypto::PublicKey, std::shared_ptr<const Key>, BytesHash> keys_;
};

}  // namespace cachet::keys

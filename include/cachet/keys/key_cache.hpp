// The encrypted key cache (`<data-dir>/key-cache`): the secret keys of every loaded keystore under one KDF, so that a
// restart with thousands of scrypt keystores pays for one scrypt instead of one each (Lighthouse's validator client
// does the same). Never plaintext on disk; never weaker than the keystores it holds.
//
// The file is JSON: {"version": 1, "entries": [...], "crypto": EIP-2335 crypto object}. Each entry names a keystore
// file (path and SHA-256 of its content), the password file it was decrypted with, its pubkey, derivation path and
// source; none of that is secret. The crypto object's plaintext is SHA-256 of the entries (so they cannot be
// edited without notice) followed by the 32-byte secret of each entry in order. Its password is derived from the
// passwords of every entry's keystore (hex of SHA-256 over "cachet-key-cache-v1" and each password's SHA-256), so
// opening the cache takes every one of them, and guessing one costs a full scrypt, as for its keystore.
#pragma once

#include <cachet/crypto/keystore.hpp>
#include <cachet/keys/key_store.hpp>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cachet::keys {

struct KeyCacheEntry {
  std::string keystore_path;
  std::string password_path;
  Bytes32 keystore_sha256{};
  crypto::PublicKey pubkey{};
  std::string derivation_path;
  KeySource source = KeySource::External;
};

/// The decrypted secrets of a cache, in entry order; wiped on destruction.
class KeyCacheSecrets {
 public:
  KeyCacheSecrets(std::string plaintext, std::vector<PasswordDigest> digests)
      : plaintext_(std::move(plaintext)), digests_(std::move(digests)) {}
  KeyCacheSecrets(KeyCacheSecrets&&) = default;
  KeyCacheSecrets& operator=(KeyCacheSecrets&&) = delete;
  ~KeyCacheSecrets();
  std::span<const std::uint8_t, 32> secret(std::size_t i) const;
  const PasswordDigest& password_digest(std::size_t i) const { return digests_[i]; }
  std::size_t size() const { return plaintext_.size(); }
  const std::uint8_t* bytes() const { return reinterpret_cast<const std::uint8_t*>(plaintext_.data()); }

 private:
  std::string plaintext_;  // SHA-256 of the entries, then 32 bytes a secret
  std::vector<PasswordDigest> digests_;
};

/// A cache file read and parsed, not yet decrypted.
class KeyCache {
 public:
  /// Parses `path` (no KDF yet). nullopt when there is no file; an error when it is unreadable or malformed.
  static std::expected<std::optional<KeyCache>, std::string> read(const std::filesystem::path& path);

  const std::vector<KeyCacheEntry>& entries() const { return entries_; }

  /// One KDF, its password derived from every entry's password file (so it fails when one is gone or changed).
  /// Checks that the entries are those the secrets were written with.
  std::expected<KeyCacheSecrets, std::string> decrypt(const crypto::KeystoreLimits& limits) const;

  /// Entry `i` as a key; an error when its secret does not derive the entry's pubkey (checked for every cached key,
  /// as for a keystore).
  std::expected<std::shared_ptr<const Key>, std::string> key(std::size_t i, const KeyCacheSecrets& secrets) const;

 private:
  std::vector<KeyCacheEntry> entries_;
  std::string crypto_json_;
};

/// Writes `keys` (sorted by keystore path) durably to `path`, mode 0600, with a fresh salt and IV; with no keys the
/// file is removed. `kdf` is EIP-2335's default (scrypt n = 2^18) except in tests.
std::expected<void, std::string> write_key_cache(const std::filesystem::path& path,
                                                 std::vector<std::shared_ptr<const Key>> keys,
                                                 const crypto::KeystoreParams& kdf = {});

}  // namespace cachet::keys

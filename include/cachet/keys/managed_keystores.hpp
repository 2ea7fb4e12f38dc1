// Keystores imported at run time through the keymanager API, kept in `<data-dir>/keystores/` so that they
// survive restarts: `0x<pubkey>.json` with its password in `0x<pubkey>.txt`, both 0600, written durably.
#pragma once

#include <cachet/crypto/keystore.hpp>
#include <cachet/keys/key_store.hpp>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace cachet::keys {

struct ImportResult {
  enum class Status { Imported, Duplicate, Error };
  Status status;
  std::string message;                      // why, for Error (never secrets)
  std::optional<crypto::PublicKey> pubkey;  // when known
};

struct DeleteResult {
  enum class Status { Deleted, NotFound, Error };
  Status status;
  std::string message;
};

class ManagedKeystores {
 public:
  explicit ManagedKeystores(std::filesystem::path dir) : dir_(std::move(dir)) {}
  const std::filesystem::path& dir() const { return dir_; }

  /// Decrypts (the caller's thread does the KDF work), then persists and activates the key. The key signs only
  /// once its files are durably on disk; if writing fails the key is not active and the result is Error.
  ImportResult import(std::string_view keystore_json, std::string_view password, KeyStore& store,
                      const crypto::KeystoreLimits& limits) const;

  /// Stops the key signing at once, then removes its files durably. Read-only (external) keys are refused.
  DeleteResult remove(const crypto::PublicKey& pubkey, KeyStore& store) const;

  /// Held while a key is activated or deleted; a reload holds it while it swaps the key set, so that an import and a
  /// reload never both add the same pubkey.
  std::mutex& key_set_mutex() const { return mutex_; }

 private:
  std::filesystem::path keystore_file(const crypto::PublicKey& pubkey) const;
  std::filesystem::path password_file(const crypto::PublicKey& pubkey) const;

  std::filesystem::path dir_;
  // Persist-and-activate and delete are short critical sections (file writes, no KDF) so that two requests for
  // the same key cannot both write its files.
  mutable std::mutex mutex_;
};

}  // namespace cachet::keys

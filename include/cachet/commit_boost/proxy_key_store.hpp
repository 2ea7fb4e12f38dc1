// Commit-Boost proxy keys: generated for a module and a consensus (validator) key, kept encrypted and durable under
// `<dir>/<module>/0x<consensus pubkey>/{bls,ecdsa}/0x<proxy>.json` (an EIP-2335 keystore; ECDSA secrets in the same
// container with an empty `pubkey`) with its random password in `0x<proxy>.txt`, both 0600, written durably (temp
// file, fsync, rename, fsync of the directory). A module sees only the proxies it generated.
#pragma once

#include <cachet/commit_boost/ecdsa.hpp>
#include <cachet/crypto/bls.hpp>
#include <cachet/crypto/keystore.hpp>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cachet::commit_boost {

enum class Scheme { Bls, Ecdsa };

struct BlsProxy {
  std::string module;
  crypto::PublicKey delegator;
  crypto::PublicKey pubkey;
  crypto::SecretKey secret;
};

struct EcdsaProxy {
  std::string module;
  crypto::PublicKey delegator;
  EcdsaSecretKey secret;
  const EcdsaAddress& address() const { return secret.address(); }
};

/// One consensus key's proxies as a module sees them.
struct Delegations {
  std::vector<crypto::PublicKey> bls;
  std::vector<EcdsaAddress> ecdsa;
};

struct ProxyLoadReport {
  std::size_t loaded = 0;
  std::vector<std::pair<std::filesystem::path, std::string>> failures;  // file, reason (never secrets)
};

/// Module ids become directory names: 1 to 64 of [A-Za-z0-9_-].
bool is_valid_module_id(std::string_view module);

class ProxyKeyStore {
 public:
  /// `params`: the KDF of new keystores (EIP-2335's scrypt cost by default); `limits`: what loading accepts.
  ProxyKeyStore(std::filesystem::path dir, crypto::KeystoreParams params = {}, crypto::KeystoreLimits limits = {});
  const std::filesystem::path& dir() const { return dir_; }

  /// Decrypts every proxy keystore under the directory (at start-up); a file that fails is reported and skipped.
  ProxyLoadReport load();

  /// Writes the proxy durably, then makes it usable; on an error nothing is usable and the message says why.
  std::expected<std::shared_ptr<const BlsProxy>, std::string> add_bls(std::string_view module,
                                                                      const crypto::PublicKey& delegator,
                                                                      crypto::SecretKey secret);
  std::expected<std::shared_ptr<const EcdsaProxy>, std::string> add_ecdsa(std::string_view module,
                                                                          const crypto::PublicKey& delegator,
                                                                          EcdsaSecretKey secret);

  /// The module's proxy; null when it has none by that key (another module's proxy included).
  std::shared_ptr<const BlsProxy> find_bls(std::string_view module, const crypto::PublicKey& pubkey) const;
  std::shared_ptr<const EcdsaProxy> find_ecdsa(std::string_view module, const EcdsaAddress& address) const;

  /// The module's proxies of `delegator` (empty lists when none).
  Delegations delegations(std::string_view module, const crypto::PublicKey& delegator) const;

  /// Stops every proxy of `delegator` (all modules) at once, then removes their files durably; how many were removed,
  /// or why not all could be.
  std::expected<std::size_t, std::string> remove_delegator(const crypto::PublicKey& delegator);

  std::size_t size() const;

 private:
  std::filesystem::path key_dir(std::string_view module, const crypto::PublicKey& delegator, Scheme scheme) const;
  /// Encrypts with a fresh random password (KDF cost: params_), then persists; the password is wiped on every path.
  std::expected<void, std::string> encrypt_and_persist(
      const std::filesystem::path& dir, const std::string& name,
      const std::function<std::expected<std::string, std::string>(std::string_view password)>& encrypt) const;
  /// Writes `name`.txt (the password) then `name`.json durably: a keystore never exists without its password.
  static std::expected<void, std::string> persist(const std::filesystem::path& dir, const std::string& name,
                                                  std::string_view keystore_json, std::string_view password);

  std::filesystem::path dir_;
  crypto::KeystoreParams params_;
  crypto::KeystoreLimits limits_;
  mutable std::mutex mutex_;
  // Keyed by (module, proxy id) so that a lookup by another module finds nothing.
  std::map<std::pair<std::string, crypto::PublicKey>, std::shared_ptr<const BlsProxy>, std::less<>> bls_;
  std::map<std::pair<std::string, EcdsaAddress>, std::shared_ptr<const EcdsaProxy>, std::less<>> ecdsa_;
};

}  // namespace cachet::commit_boost

// The Commit-Boost signer's operations (signer API v0.1.0), without HTTP: consensus signatures through the signing
// service (sign_unprotected_root: Commit-Boost's domain can never be a slashable consensus message), proxy
// signatures with the module's own proxy keys, and proxy generation with its delegation signed by the validator key.
// Every root signed here is SigningData(object_root, Commit-Boost's domain); no other domain is reachable.
#pragma once

#include <cachet/commit_boost/proxy_key_store.hpp>
#include <cachet/commit_boost/signing_root.hpp>
#include <cachet/keys/key_store.hpp>
#include <cachet/signing/signing_service.hpp>
#include <variant>
#include <vector>

namespace cachet::commit_boost {

enum class Status { Ok, NotFound, Failed };

struct Signed {
  Status status = Status::Failed;
  std::vector<std::uint8_t> signature;  // 96 bytes (BLS) or 65 (ECDSA) when Ok
  std::string message;                  // why not, for the client (never secrets)
};

struct SignedDelegation {
  Status status = Status::Failed;
  crypto::PublicKey delegator{};
  std::vector<std::uint8_t> proxy;  // 48-byte BLS public key or 20-byte address
  crypto::Signature signature{};
  std::string message;
};

struct ConsensusKeyProxies {
  crypto::PublicKey consensus;
  Delegations proxies;
};

class CommitBoostSigner {
 public:
  /// The references outlive the signer.
  CommitBoostSigner(signing::SigningService& signing, const keys::KeyStore& keys, ProxyKeyStore& proxies,
                    const Bytes4& genesis_fork_version);

  const Bytes32& domain() const { return domain_; }

  /// Every consensus key, with the proxies `module` generated for it.
  std::vector<ConsensusKeyProxies> pubkeys(std::string_view module) const;

  Signed sign_consensus(const crypto::PublicKey& pubkey, const Bytes32& object_root);
  Signed sign_proxy_bls(std::string_view module, const crypto::PublicKey& proxy, const Bytes32& object_root) const;
  Signed sign_proxy_ecdsa(std::string_view module, const EcdsaAddress& proxy, const Bytes32& object_root) const;

  /// Generates a proxy for `module` and `delegator`, stores it durably, and signs ProxyDelegation{delegator, proxy}
  /// with the validator key. Costs one keystore encryption (the KDF): call it off the I/O threads.
  SignedDelegation generate_proxy(std::string_view module, const crypto::PublicKey& delegator, Scheme scheme);

  /// Removes every proxy `delegator` delegated to (all modules), when the validator key is deleted; how many.
  std::expected<std::size_t, std::string> remove_proxies(const crypto::PublicKey& delegator) {
    return proxies_.remove_delegator(delegator);
  }

 private:
  // A proxy signs only while the validator key that delegated to it is loaded (a deleted validator's proxies are
  // removed too; this closes the window between the two).
  bool delegator_loaded(const crypto::PublicKey& delegator) const { return keys_.find(delegator) != nullptr; }

  signing::SigningService& signing_;
  const keys::KeyStore& keys_;
  ProxyKeyStore& proxies_;
  Bytes32 domain_;
};

}  // namespace cachet::commit_boost

#include <cachet/commit_boost/commit_boost_signer.hpp>

namespace cachet::commit_boost {
namespace {

Signed not_found(std::string message) { return Signed{Status::NotFound, {}, std::move(message)}; }

template <std::size_t N>
std::vector<std::uint8_t> bytes_of(const std::array<std::uint8_t, N>& a) {
  return {a.begin(), a.end()};
}

}  // namespace

CommitBoostSigner::CommitBoostSigner(signing::SigningService& signing, const keys::KeyStore& keys,
                                     ProxyKeyStore& proxies, const Bytes4& genesis_fork_version)
    : signing_(signing), keys_(keys), proxies_(proxies), domain_(commit_boost::domain(genesis_fork_version)) {}

std::vector<ConsensusKeyProxies> CommitBoostSigner::pubkeys(std::string_view module) const {
  std::vector<ConsensusKeyProxies> out;
  for (const auto& key : keys_.list()) out.push_back({key->pubkey, proxies_.delegations(module, key->pubkey)});
  return out;
}

Signed CommitBoostSigner::sign_consensus(const crypto::PublicKey& pubkey, const Bytes32& object_root) {
  auto out = signing_.sign_unprotected_root(pubkey, signing_root(object_root, domain_));
  if (out.status != signing::SignStatus::Ok) return not_found("unknown consensus signer: " + to_hex(pubkey));
  return Signed{Status::Ok, bytes_of(out.signature), {}};
}

Signed CommitBoostSigner::sign_proxy_bls(std::string_view module, const crypto::PublicKey& proxy,
                                         const Bytes32& object_root) const {
  auto key = proxies_.find_bls(module, proxy);
  if (!key || !delegator_loaded(key->delegator)) return not_found("unknown proxy signer: " + to_hex(proxy));
  const auto root = signing_root(object_root, domain_);
  return Signed{Status::Ok, bytes_of(key->secret.sign(root)), {}};
}

Signed CommitBoostSigner::sign_proxy_ecdsa(std::string_view module, const EcdsaAddress& proxy,
                                           const Bytes32& object_root) const {
  auto key = proxies_.find_ecdsa(module, proxy);
  if (!key || !delegator_loaded(key->delegator)) return not_found("unknown proxy signer: " + to_hex(proxy));
  return Signed{Status::Ok, bytes_of(key->secret.sign(signing_root(object_root, domain_))), {}};
}

SignedDelegation CommitBoostSigner::generate_proxy(std::string_view module, const crypto::PublicKey& delegator,
                                                   Scheme scheme) {
  SignedDelegation out;
  out.delegator = delegator;
  if (!delegator_loaded(delegator)) {
    out.status = Status::NotFound;
    out.message = "unknown consensus signer: " + to_hex(delegator);
    return out;
  }
  if (scheme == Scheme::Bls) {
    auto secret = crypto::SecretKey::generate();
    if (!secret) return out.message = secret.error(), out;
    auto added = proxies_.add_bls(module, delegator, std::move(*secret));
    if (!added) return out.message = "could not store the proxy key: " + added.error(), out;
    out.proxy = bytes_of((*added)->pubkey);
  } else {
    auto secret = EcdsaSecretKey::generate();
    if (!secret) return out.message = secret.error(), out;
    auto added = proxies_.add_ecdsa(module, delegator, std::move(*secret));
    if (!added) return out.message = "could not store the proxy key: " + added.error(), out;
    out.proxy = bytes_of((*added)->address());
  }
  auto signed_delegation =
      signing_.sign_unprotected_root(delegator, signing_root(proxy_delegation_root(delegator, out.proxy), domain_));
  if (signed_delegation.status != signing::SignStatus::Ok) {
    out.status = Status::NotFound;
    out.message = "unknown consensus signer: " + to_hex(delegator);
    return out;
  }
  out.status = Status::Ok;
  out.signature = signed_delegation.signature;
  return out;
}

}  // namespace cachet::commit_boost

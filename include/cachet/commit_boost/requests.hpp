// The bodies of Commit-Boost's POST routes (signer API v0.1.0), read strictly: JSON (depth ≤ 8) objects whose keys
// are 0x-prefixed hex of exact lengths. Errors name the field. Shared by the HTTP handler and the fuzz target.
#pragma once

#include <cachet/commit_boost/ecdsa.hpp>
#include <cachet/commit_boost/proxy_key_store.hpp>
#include <cachet/crypto/bls.hpp>
#include <expected>
#include <string>
#include <string_view>

namespace cachet::commit_boost {

/// POST /signer/v1/request_signature: {"type", "pubkey" (consensus) or "proxy", "object_root"}.
struct SignRequest {
  enum class Kind { Consensus, ProxyBls, ProxyEcdsa };
  Kind kind = Kind::Consensus;
  crypto::PublicKey pubkey{};  // Consensus: the validator key; ProxyBls: the proxy key
  EcdsaAddress address{};      // ProxyEcdsa
  Bytes32 object_root{};
};

/// POST /signer/v1/generate_proxy_key: {"pubkey", "scheme": "bls" | "ecdsa"}.
struct GenerateProxyRequest {
  crypto::PublicKey delegator{};
  Scheme scheme = Scheme::Bls;
};

std::expected<SignRequest, std::string> parse_sign_request(std::string_view body);
std::expected<GenerateProxyRequest, std::string> parse_generate_proxy_request(std::string_view body);

}  // namespace cachet::commit_boost

// What the request handlers share: the keys, the network, the signing pool and start-up facts.
#pragma once

#include <atomic>
#include <cachet/crypto/hashed_message_cache.hpp>
#include <cachet/crypto/keystore.hpp>
#include <cachet/eth/network.hpp>
#include <cachet/keys/key_service.hpp>
#include <cachet/keys/key_store.hpp>
#include <cachet/keys/managed_keystores.hpp>
#include <cachet/signing/signing_service.hpp>
#include <cachet/slashing/slashing_protection.hpp>
#include <cstddef>

#include "server/metrics.hpp"
#include "server/work_pool.hpp"

namespace cachet::server {

/// Recounts cachet_keys_loaded{source} after keys were added or removed.
inline void refresh_key_gauges(Metrics& metrics, const keys::KeyStore& keys) {
  std::int64_t external = 0, managed_keys = 0;
  for (const auto& k : keys.list()) ++(k->readonly() ? external : managed_keys);
  metrics.keys_loaded[0].set(external);
  metrics.keys_loaded[1].set(managed_keys);
}

struct CommitBoostApi;

struct SignerContext {
  keys::KeyStore& keys;
  const eth::NetworkConfig& network;
  WorkPool& pool;
  Metrics& metrics;
  /// The signing workflow (key, root, slashing protection, hash-to-curve cache, BLS) every sign route calls.
  signing::SigningService& signing;
  /// Loading, reloading, importing and deleting keys (/reload, /healthcheck, the keymanager API).
  keys::KeyService* key_service = nullptr;

  /// Null when slashing protection is disabled.
  slashing::SlashingProtection* slashing = nullptr;

  // Keymanager API (null `managed` when disabled); its bearer token also guards /reload when set.
  const keys::ManagedKeystores* managed = nullptr;
  WorkPool* import_pool = nullptr;
  std::string api_token;
  /// Why the token file is at risk (readable by others), shown on /healthcheck; empty when it is not.
  std::string token_file_warning;
  crypto::KeystoreLimits keystore_limits;

  /// The Commit-Boost signer API (null unless --commit-boost-api-enabled).
  CommitBoostApi* commit_boost = nullptr;

  void refresh_key_gauges() { server::refresh_key_gauges(metrics, keys); }
};

}  // namespace cachet::server

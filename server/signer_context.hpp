// What the request handlers share: the keys, the network, the signing pool and start-up facts.
#pragma once

#include <atomic>
#include <cachet/eth/network.hpp>
#include <cachet/keys/key_store.hpp>
#include <cstddef>

#include "server/signing_pool.hpp"

namespace cachet::server {

struct SignerContext {
  keys::KeyStore& keys;
  const eth::NetworkConfig& network;
  SigningPool& pool;
  /// Keystores that failed to load at start-up (reported by /healthcheck).
  std::atomic<std::size_t> key_load_failures{0};
};

}  // namespace cachet::server

// Start-up of the Commit-Boost signer API (--commit-boost-api-enabled): module secrets, proxy keys, the signer.
#pragma once

#include <cachet/commit_boost/commit_boost_signer.hpp>
#include <expected>
#include <memory>
#include <string>

#include "server/commit_boost_handler.hpp"
#include "server/signer_context.hpp"
#include "tools/options.hpp"

namespace cachet::tools {

/// What the API needs for as long as the server runs.
struct CommitBoostService {
  std::unique_ptr<commit_boost::ProxyKeyStore> proxies;
  std::unique_ptr<commit_boost::CommitBoostSigner> signer;
  std::unique_ptr<server::ModuleAuthenticator> auth;
  std::unique_ptr<server::CommitBoostApi> api;
};

/// Null when the API is off; otherwise sets `context.commit_boost`. The error is for `fail`.
std::expected<std::unique_ptr<CommitBoostService>, std::string> start_commit_boost(
    const Options& opt, server::SignerContext& context, const keys::KeyStore& keys, signing::SigningService& signing,
    server::WorkPool& signing_pool, server::WorkPool& background_pool, const crypto::KeystoreLimits& limits);

}  // namespace cachet::tools

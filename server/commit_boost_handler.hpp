// The Commit-Boost signer API v0.1.0 (../shared/specs/commit-boost/signer-api-v0.1.0.yml) on the signing listener,
// when --commit-boost-api-enabled: a thin adapter over commit_boost::CommitBoostSigner (lib/commit_boost).
#pragma once

#include <cachet/commit_boost/commit_boost_signer.hpp>
#include <string_view>

#include "server/commit_boost_auth.hpp"
#include "server/http_server.hpp"
#include "server/metrics.hpp"
#include "server/work_pool.hpp"

namespace cachet::server {

struct CommitBoostApi {
  commit_boost::CommitBoostSigner& signer;
  ModuleAuthenticator& auth;
  /// BLS and ECDSA signing (short) run on the signing pool; proxy generation (a keystore KDF) on the background pool.
  WorkPool& signing_pool;
  WorkPool& background_pool;
  Metrics& metrics;
};

inline constexpr std::string_view kCommitBoostPrefix = "/signer/v1/";

/// Routes /signer/v1/* and /status; `target` without its query.
void handle_commit_boost(CommitBoostApi& api, std::string_view target, Request&& request, Reply reply);

/// For the keymanager DELETE of a validator key: removes its proxy keys (every module); what to report.
std::string delete_commit_boost_proxies(CommitBoostApi& api, const crypto::PublicKey& delegator);

}  // namespace cachet::server

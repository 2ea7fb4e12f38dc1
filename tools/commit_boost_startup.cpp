#include "tools/commit_boost_startup.hpp"

#include <spdlog/spdlog.h>

namespace cachet::tools {

std::expected<std::unique_ptr<CommitBoostService>, std::string> start_commit_boost(
    const Options& opt, server::SignerContext& context, const keys::KeyStore& keys, signing::SigningService& signing,
    server::WorkPool& signing_pool, server::WorkPool& background_pool, const crypto::KeystoreLimits& limits) {
  if (!opt.commit_boost_enabled) return nullptr;
  if (opt.data_dir.empty()) return std::unexpected("--commit-boost-api-enabled needs --data-dir (for proxy keys)");
  if (opt.commit_boost_jwt_secrets_file.empty())
    return std::unexpected("--commit-boost-api-enabled needs --commit-boost-jwt-secrets-file");
  auto secrets = server::load_module_secrets(opt.commit_boost_jwt_secrets_file);
  if (!secrets) return std::unexpected("--commit-boost-jwt-secrets-file: " + secrets.error());

  auto service = std::make_unique<CommitBoostService>();
  crypto::KeystoreParams params;
  params.scrypt_n = opt.commit_boost_proxy_scrypt_n;
  params.description = "commit-boost proxy key";
  service->proxies = std::make_unique<commit_boost::ProxyKeyStore>(std::filesystem::path(opt.data_dir) / "proxy-keys",
                                                                   std::move(params), limits);
  auto report = service->proxies->load();
  for (const auto& [path, reason] : report.failures) spdlog::error("proxy key {}: {}", path.string(), reason);
  service->signer = std::make_unique<commit_boost::CommitBoostSigner>(signing, keys, *service->proxies,
                                                                      context.network.genesis_fork_version);
  service->auth = std::make_unique<server::ModuleAuthenticator>(
      std::move(*secrets), opt.commit_boost_jwt_auth_fail_limit,
      std::chrono::seconds(opt.commit_boost_jwt_auth_fail_timeout_seconds));
  service->api = std::make_unique<server::CommitBoostApi>(
      server::CommitBoostApi{*service->signer, *service->auth, signing_pool, background_pool, context.metrics});
  std::vector<std::string> modules;
  for (const auto& [module, secret] : service->auth->secrets()) modules.push_back(module);
  context.metrics.register_commit_boost_modules(modules);
  context.commit_boost = service->api.get();
  spdlog::info("commit-boost signer API enabled: {} module(s), {} proxy key(s) loaded ({} failed), domain {}",
               service->auth->module_count(), report.loaded, report.failures.size(), to_hex(service->signer->domain()));
  return service;
}

}  // namespace cachet::tools

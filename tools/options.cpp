#include "tools/options.hpp"

#include <cachet/eth/network.hpp>
#include <cstdio>
#include <filesystem>
#include <limits>

namespace cachet::tools {
namespace {

// Every numeric flag goes through this: plain decimal digits only (CLI11 would otherwise read "-1" through strtoull
// as 2^64-1, and "0x10" or "010" in another base), then the value within [min, max]. A failure exits with 2 and one
// line naming the flag.
template <class T>
CLI::Validator in_range(T min, T max) {
  CLI::Validator digits(
      [](std::string& value) -> std::string {
        if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos) return {};
        return "'" + value + "' is not a non-negative decimal integer";
      },
      "UINT");
  return digits & CLI::Range(min, max);
}

}  // namespace

void add_signer_options(CLI::App& app, Options& opt) {
  app.add_option("--host", opt.host, "Address the signing API listens on")->capture_default_str();
  app.add_option("--port", opt.port, "Port of the signing API")
      ->capture_default_str()
      ->check(in_range<std::uint16_t>(0, 65535));  // 0: any free port
  app.add_option("--metrics-host", opt.metrics_host, "Address of the Prometheus metrics listener")
      ->capture_default_str();
  app.add_option("--metrics-port", opt.metrics_port, "Port of the Prometheus metrics listener")
      ->capture_default_str()
      ->check(in_range<std::uint16_t>(0, 65535));  // 0: any free port
  app.add_option("--log-level", opt.log_level, "trace, debug, info, warning, error, critical or off (any case)")
      ->capture_default_str();
  app.add_option("--log-format", opt.log_format, "text or json")->capture_default_str();
  app.add_option("--data-dir", opt.data_dir, "Directory for the signer's own state");
  app.add_option("--keystores-path", opt.keystores_path, "Directory of EIP-2335 keystores (NAME.json), read-only");
  app.add_option("--keystores-passwords-path", opt.keystores_passwords_path,
                 "Directory of keystore passwords (NAME.txt for NAME.json)");
  app.add_option("--keystores-password-file", opt.keystores_password_file,
                 "One password file for every keystore of --keystores-path")
      ->excludes("--keystores-passwords-path");
  app.add_option("--key-cache-enabled", opt.key_cache_enabled,
                 "Keep the decrypted keys in one encrypted file <data-dir>/key-cache (one KDF at start-up)")
      ->capture_default_str();
  // Tests only: the cache's scrypt cost (EIP-2335's 2^18 otherwise), so that a test run does not pay 0.8 s a write.
  app.add_option("--key-cache-scrypt-n", opt.key_cache_scrypt_n)->group("")->check(in_range(2ULL, 1ULL << 20));
  app.add_option("--workers", opt.workers, "Signing threads (default: all cores)")->check(in_range(1u, 1024u));
  app.add_option("--network", opt.network, eth::builtin_network_list() + ", or a consensus config.yaml")
      ->capture_default_str();
  app.add_option("--keystore-max-scrypt-n", opt.keystore_max_scrypt_n,
                 "Largest scrypt cost n a keystore may ask for (memory is 128*n*r bytes)")
      ->capture_default_str()
      ->check(in_range<std::uint64_t>(2, std::uint64_t{1} << 24));
  app.add_option("--max-queued-requests", opt.max_queued_requests,
                 "Sign requests queued or in progress before new ones get 503 with Retry-After")
      ->capture_default_str()
      ->check(in_range<std::size_t>(1, std::size_t{1} << 24));

  app.add_option("--keymanager-api-enabled", opt.keymanager_enabled,
                 "Serve the keymanager API (/eth/v1/keystores) when --data-dir is given")
      ->capture_default_str();
  app.add_option("--keymanager-token-file", opt.keymanager_token_file,
                 "Bearer token file for the keymanager API (default <data-dir>/api-token.txt, created at first start)");

  app.add_option("--slashing-protection-enabled", opt.slashing_protection_enabled,
                 "Refuse slashable blocks and attestations (EIP-3076); =false only for tests")
      ->capture_default_str();
  app.add_option("--slashing-protection-db-url", opt.slashing_protection_db_url,
                 "Slashing protection database: sqlite:PATH (default sqlite:<data-dir>/slashing-protection.sqlite) "
                 "or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB (shared by several signers)");
  app.add_option("--slashing-protection-db-pool-size", opt.slashing_protection_db_pool_size,
                 "PostgreSQL connections (decision transactions that may run at once)")
      ->capture_default_str()
      ->check(in_range(1u, 256u));
  app.add_option("--slashing-protection-db-timeout-ms", opt.slashing_protection_db_timeout_ms,
                 "Longest wait for the slashing database (connect, statement, commit) before blocks and "
                 "attestations answer 503")
      ->capture_default_str()
      ->check(in_range(10u, 600000u));
  app.add_option("--slashing-protection-pruning-epochs-to-keep", opt.slashing_protection_pruning_epochs_to_keep,
                 "Epochs of history kept behind each validator's newest; older history becomes low watermarks "
                 "(0: never prune)")
      ->capture_default_str()
      ->check(in_range<std::uint64_t>(0, std::uint64_t{1} << 32));

  app.add_flag("--commit-boost-api-enabled", opt.commit_boost_enabled,
               "Serve the Commit-Boost signer API (/signer/v1/*, /status); needs --data-dir and a JWT secrets file");
  app.add_option("--commit-boost-jwt-secrets-file", opt.commit_boost_jwt_secrets_file,
                 "Commit-Boost modules' JWT secrets, lines MODULE_ID=SECRET");
  app.add_option("--commit-boost-jwt-auth-fail-limit", opt.commit_boost_jwt_auth_fail_limit,
                 "Failed Commit-Boost authentications from one address before it is refused (429)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000000u));
  app.add_option("--commit-boost-jwt-auth-fail-timeout-seconds", opt.commit_boost_jwt_auth_fail_timeout_seconds,
                 "How long such an address is refused after its last failure")
      ->capture_default_str()
      ->check(CLI::Range(1u, 86400u));
  app.add_option("--commit-boost-proxy-keystore-scrypt-n", opt.commit_boost_proxy_scrypt_n,
                 "scrypt cost of new proxy keystores (EIP-2335's 2^18; lower only for tests)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{2}, std::uint64_t{1} << 20));

  app.add_option("--tls-cert-file", opt.tls_cert_file,
                 "PEM certificate chain for TLS on the signing API (with --tls-key-file)");
  app.add_option("--tls-key-file", opt.tls_key_file, "PEM private key of --tls-cert-file (mode 0600)");
  app.add_option("--tls-client-ca-file", opt.tls_client_ca_file,
                 "Mutual TLS: accept clients with a certificate issued by these PEM CA certificates");
  app.add_option(
      "--tls-known-clients-file", opt.tls_known_clients_file,
      "Mutual TLS: accept clients whose certificate's SHA-256 fingerprint is listed (lines NAME FINGERPRINT)");
  app.add_option("--http-host-allowlist", opt.http_host_allowlist,
                 "Host header names served (comma-separated, * for any); others get 403")
      ->capture_default_str();
  app.add_option("--max-connections", opt.max_connections,
                 "Connections open at once on the signing API; a new one replaces the oldest idle one")
      ->capture_default_str()
      ->check(in_range<std::size_t>(1, std::size_t{1} << 20));
  app.add_option("--max-connections-per-ip", opt.max_connections_per_ip,
                 "Connections open at once from one client address; a new one replaces that address's oldest idle one")
      ->capture_default_str()
      ->check(in_range<std::size_t>(1, std::size_t{1} << 20));
  app.add_option("--request-timeout-seconds", opt.request_timeout_seconds,
                 "A TLS handshake, and a request from its first byte, must arrive within this")
      ->capture_default_str()
      ->check(in_range(1u, 3600u));
  app.add_option("--idle-timeout-seconds", opt.idle_timeout_seconds,
                 "A kept-alive connection without a new request is closed after this")
      ->capture_default_str()
      ->check(in_range(1u, 86400u));
  app.add_option("--shutdown-grace-seconds", opt.shutdown_grace_seconds,
                 "On SIGTERM/SIGINT, requests already arriving may finish within this before the process exits")
      ->capture_default_str()
      ->check(in_range(0u, 3600u));
}

std::optional<std::string> slashing_db_url(const Options& opt) {
  if (!opt.slashing_protection_db_url.empty()) return opt.slashing_protection_db_url;
  if (!opt.data_dir.empty())
    return "sqlite:" + (std::filesystem::path(opt.data_dir) / "slashing-protection.sqlite").string();
  return std::nullopt;
}

slashing::Options slashing_options(const Options& opt, std::uint64_t slots_per_epoch) {
  slashing::Options so;
  so.pruning_epochs_to_keep = opt.slashing_protection_pruning_epochs_to_keep;
  so.slots_per_epoch = slots_per_epoch;
  so.commit_timeout = std::chrono::milliseconds(opt.slashing_protection_db_timeout_ms);
  so.database_pool_size = opt.slashing_protection_db_pool_size;
  return so;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "cachet: error: %s\n", message.c_str());
  return 2;
}

}  // namespace cachet::tools

// The `cachet` command line: the signer's flags (compatible with py3signer's) and the subcommands.
#pragma once

#include <CLI/CLI.hpp>
#include <cachet/slashing/slashing_protection.hpp>
#include <cstdint>
#include <optional>
#include <string>

namespace cachet::tools {

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string metrics_host = "127.0.0.1";
  std::uint16_t metrics_port = 8081;
  std::string log_level = "info";
  std::string log_format = "text";
  std::string data_dir;
  std::string keystores_path;
  std::string keystores_passwords_path;
  std::string keystores_password_file;  // one password for every keystore of --keystores-path
  bool key_cache_enabled = true;
  std::uint64_t key_cache_scrypt_n = 1ULL << 18;  // hidden: tests only (EIP-2335's default cost otherwise)
  unsigned workers = 0;
  std::string network = "mainnet";
  std::uint64_t keystore_max_scrypt_n = 1ULL << 18;
  std::size_t max_queued_requests = 4096;
  bool keymanager_enabled = true;
  std::string keymanager_token_file;
  bool slashing_protection_enabled = true;
  std::string slashing_protection_db_url;  // default sqlite:<data-dir>/slashing-protection.sqlite
  std::uint64_t slashing_protection_pruning_epochs_to_keep = 256;
  unsigned slashing_protection_db_pool_size = 4;
  unsigned slashing_protection_db_timeout_ms = 2000;
  // Transport security and connection limits (README "Transport security").
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  std::string tls_known_clients_file;
  std::string http_host_allowlist = "localhost,127.0.0.1";
  std::size_t max_connections = 1024;
  std::size_t max_connections_per_ip = 256;
  unsigned request_timeout_seconds = 30;
  unsigned idle_timeout_seconds = 120;
  unsigned shutdown_grace_seconds = 5;  // SIGTERM: requests already arriving may finish within this
  // Commit-Boost signer API (README "Commit-Boost").
  bool commit_boost_enabled = false;
  std::string commit_boost_jwt_secrets_file;
  unsigned commit_boost_jwt_auth_fail_limit = 3;
  unsigned commit_boost_jwt_auth_fail_timeout_seconds = 300;
  std::uint64_t commit_boost_proxy_scrypt_n = 1ULL << 18;
};

/// Adds the signer's flags to `app`.
void add_signer_options(CLI::App& app, Options& opt);

/// The slashing database URL the flags name: --slashing-protection-db-url, else <data-dir>'s SQLite file;
/// nullopt when neither is given.
std::optional<std::string> slashing_db_url(const Options& opt);

/// The slashing::Options the flags name (pool size, timeout, pruning); `slots_per_epoch` from the network.
slashing::Options slashing_options(const Options& opt, std::uint64_t slots_per_epoch);

/// Runs the signer until SIGTERM/SIGINT; the process exit code.
int run_signer(const Options& opt);

/// Prints "cachet: error: MESSAGE" (one line) and returns the exit code for a usage or start-up error.
int fail(const std::string& message);

}  // namespace cachet::tools

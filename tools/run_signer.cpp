// The signer process: load keys, open the slashing database, serve the API until SIGTERM/SIGINT; SIGHUP reloads keys.
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cachet/crypto/bls.hpp>
#include <cachet/crypto/secure_memory.hpp>
#include <cachet/eth/network.hpp>
#include <cachet/keys/key_service.hpp>
#include <cachet/signing/signing_service.hpp>
#include <cachet/slashing/slashing_protection.hpp>
#include <cachet/util/cpu.hpp>
#include <cachet/util/durable_file.hpp>
#include <cachet/util/thread_name.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "server/api.hpp"
#include "server/api_token.hpp"
#include "server/http_server.hpp"
#include "server/logging.hpp"
#include "server/signer_context.hpp"
#include "server/tls_context.hpp"
#include "server/work_pool.hpp"
#include "tools/commit_boost_startup.hpp"
#include "tools/options.hpp"

namespace cachet::tools {

namespace asio = boost::asio;

namespace {

// SIGHUP (`systemctl reload`, a closed terminal, a stray `kill -HUP`) must never take the signer, and every
// validator with it, offline: it reloads the keystores (as POST /reload does), and is otherwise harmless.
class HangupHandler {
 public:
  HangupHandler(asio::io_context& io, std::function<void()> on_hangup)
      : signals_(io, SIGHUP), on_hangup_(std::move(on_hangup)) {
    wait();
  }
  void cancel() {
    boost::system::error_code ignored;
    signals_.cancel(ignored);
  }

 private:
  void wait() {
    signals_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      on_hangup_();
      wait();
    });
  }
  asio::signal_set signals_;
  std::function<void()> on_hangup_;
};

// Each connection is a file descriptor: raise the soft limit to the hard one, and say so when the connection limits
// still do not fit (beyond it accepting fails and new clients wait in the kernel's backlog).
void raise_open_file_limit(std::size_t connections) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  constexpr std::size_t kOtherFiles = 128;  // keystores being read, the database, the metrics listener, logs
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < connections + kOtherFiles)
    spdlog::warn("open file limit {} is below --max-connections {} + {}: raise it (systemd: LimitNOFILE=)",
                 limit.rlim_cur, connections, kOtherFiles);
}

}  // namespace

int run_signer(const Options& opt) {
  // Until the handler below is installed, a SIGHUP during start-up must not end the process either.
  std::signal(SIGHUP, SIG_IGN);
  auto level = server::parse_log_level(opt.log_level);
  if (!level) return fail("--log-level: " + level.error());
  auto format = server::parse_log_format(opt.log_format);
  if (!format) return fail("--log-format: " + format.error());
  if (opt.keystores_path.empty() != (opt.keystores_passwords_path.empty() && opt.keystores_password_file.empty()))
    return fail("--keystores-path needs --keystores-passwords-path or --keystores-password-file, and they need it");
  server::setup_logging(*level, *format);
  raise_open_file_limit(opt.max_connections + 64);

  auto network = eth::load_network(opt.network);
  if (!network) return fail("--network: " + network.error());

  // Transport: checked before any keystore is decrypted, so a bad flag fails fast.
  auto allowlist = server::HostAllowlist::parse(opt.http_host_allowlist);
  if (!allowlist) return fail("--http-host-allowlist: " + allowlist.error());
  std::unique_ptr<server::TlsContext> tls;
  const server::TlsOptions tls_options{opt.tls_cert_file, opt.tls_key_file, opt.tls_client_ca_file,
                                       opt.tls_known_clients_file};
  if (!(tls_options.cert_file + tls_options.key_file + tls_options.client_ca_file + tls_options.known_clients_file)
           .empty()) {
    auto created = server::TlsContext::create(tls_options);
    if (!created) return fail(created.error());
    tls = std::move(*created);
    if (auto warning = server::key_file_permission_warning(opt.tls_key_file)) spdlog::warn("{}", *warning);
    std::string clients;
    if (!opt.tls_client_ca_file.empty()) clients = "issued by " + opt.tls_client_ca_file;
    if (tls->known_client_count() > 0)
      clients += (clients.empty() ? "" : " or ") + std::to_string(tls->known_client_count()) +
                 " known client(s) from " + opt.tls_known_clients_file;
    spdlog::info("TLS on the signing API with {}; client certificates: {}", opt.tls_cert_file,
                 clients.empty() ? "not asked for" : clients);
  }
  if (allowlist->allows_any()) spdlog::warn("--http-host-allowlist=*: any Host header is served");

  const unsigned cores = usable_cores();  // what taskset/cpusets allow, not every CPU of the machine
  const unsigned workers = opt.workers ? opt.workers : cores;

  server::Metrics metrics;
  keys::KeyStore keys;
  crypto::KeystoreLimits limits;
  limits.max_scrypt_n = opt.keystore_max_scrypt_n;

  // Keys: --keystores-path, then the keymanager's <data-dir>/keystores, through the key cache in <data-dir>.
  keys::KeyServiceOptions key_options;
  if (!opt.keystores_path.empty())
    key_options.directories.push_back(
        {opt.keystores_path, opt.keystores_passwords_path, opt.keystores_password_file, keys::KeySource::External});
  if (!opt.data_dir.empty()) {
    const std::filesystem::path data_dir(opt.data_dir);
    key_options.managed_dir = data_dir / "keystores";
    if (auto made = ensure_directory(key_options.managed_dir); !made) return fail("--data-dir: " + made.error());
    key_options.directories.push_back({key_options.managed_dir, key_options.managed_dir, {}, keys::KeySource::Managed});
    if (opt.key_cache_enabled) key_options.cache_file = data_dir / "key-cache";
  }
  key_options.cache_kdf.scrypt_n = opt.key_cache_scrypt_n;
  key_options.load.threads = cores;
  key_options.load.limits = limits;
  key_options.load.on_decrypted = [&metrics](double seconds) { metrics.keystore_decrypt_seconds.observe(seconds); };
  key_options.load.on_progress = [](const keys::LoadProgress& p) {
    spdlog::info("loading keystores: {}/{} ({:.1f}/s, ETA {}s)", p.done, p.total, p.rate_per_second, p.eta.count());
  };
  const auto log_load = [&metrics](std::string_view what, const keys::LoadReport& report) {
    for (const auto& f : report.failures) spdlog::error("keystore {}: {}", f.path.string(), f.reason);
    metrics.key_load_failures.inc(report.failures.size());
    spdlog::info("{}: {} keys ({} from the key cache, {} decrypted, {} unchanged), {} failed, {} duplicate, in {} ms",
                 what, report.loaded, report.from_cache, report.decrypted, report.reused, report.failures.size(),
                 report.duplicates, report.elapsed.count());
  };
  key_options.on_reloaded = [log_load](const keys::LoadReport& report) { log_load("reload", report); };
  key_options.on_key_set_changed = [&metrics, &keys] { server::refresh_key_gauges(metrics, keys); };
  key_options.on_cache_problem = [](const std::string& problem) { spdlog::warn("{}", problem); };

  std::string token;
  std::string token_warning;
  if (!opt.data_dir.empty() && opt.keymanager_enabled) {
    const std::filesystem::path token_path = opt.keymanager_token_file.empty()
                                                 ? std::filesystem::path(opt.data_dir) / "api-token.txt"
                                                 : std::filesystem::path(opt.keymanager_token_file);
    auto loaded = server::load_or_create_token(token_path);
    if (!loaded) return fail("--keymanager-token-file: " + loaded.error());
    token = std::move(*loaded);
    token_warning = server::token_file_permission_warning(token_path).value_or("");
    if (!token_warning.empty()) spdlog::warn("{}", token_warning);
    spdlog::info("keymanager API enabled at /eth/v1/keystores; bearer token in {}", token_path.string());
  }

  // Slashing protection opens after --data-dir exists; without a database the signer does not start, because
  // a signer that silently protects nothing is the failure this project exists to prevent.
  std::unique_ptr<slashing::SlashingProtection> protection;
  if (opt.slashing_protection_enabled) {
    auto url = slashing_db_url(opt);
    if (!url)
      return fail(
          "slashing protection needs --data-dir or --slashing-protection-db-url "
          "(--slashing-protection-enabled=false turns it off)");
    auto so = slashing_options(opt, network->preset.slots_per_epoch);
    so.on_batch_committed = metrics.slashing_commit_observer();
    auto opened = slashing::SlashingProtection::open(*url, so);
    if (!opened) return fail("slashing protection: " + opened.error());
    protection = std::move(*opened);
    spdlog::info("slashing protection: {} (pruning keeps {} epochs of {} slots, database timeout {} ms)",
                 slashing::redact_database_url(*url), so.pruning_epochs_to_keep, so.slots_per_epoch,
                 so.commit_timeout.count());
  } else {
    spdlog::warn("slashing protection is DISABLED: slashable blocks and attestations will be signed");
  }

  // Keys last: every flag and file that can stop the start has been checked before any keystore is decrypted.
  keys::KeyService key_service(keys, std::move(key_options));
  log_load("keystores loaded", key_service.load());

  server::WorkPool pool(workers, opt.max_queued_requests, 0, "cachet-sign");
  // Keystore imports decrypt on their own threads, niced so that signing keeps the CPU during a large import.
  server::WorkPool import_pool(cores, 1 << 20, 10, "cachet-import");
  signing::SigningService signing(keys, *network, protection.get());
  metrics.watch(signing.hashed_messages());
  metrics.watch(protection.get());
  server::SignerContext context{keys, *network, pool, metrics, signing};
  context.key_service = &key_service;
  context.keystore_limits = limits;
  context.slashing = protection.get();
  if (key_service.managed() && opt.keymanager_enabled) {
    context.managed = key_service.managed();
    context.import_pool = &import_pool;
    context.api_token = token;
    context.token_file_warning = token_warning;
    secure_wipe(token.data(), token.size());
  }
  auto commit_boost = start_commit_boost(opt, context, keys, signing, pool, import_pool, limits);
  if (!commit_boost) return fail(commit_boost.error());
  context.refresh_key_gauges();
  if (!crypto::secure_memory_locked())
    spdlog::warn(
        "secret keys could not all be locked in RAM (RLIMIT_MEMLOCK): they may reach swap; raise the limit "
        "(systemd: LimitMEMLOCK=64M, as the packaged unit sets)");
  server::Api api(context);

  asio::io_context io;
  server::HttpServerOptions http;
  http.host = opt.host;
  http.port = opt.port;
  http.max_connections = opt.max_connections;
  http.max_connections_per_address = opt.max_connections_per_ip;
  http.read_timeout = std::chrono::seconds(opt.request_timeout_seconds);
  http.idle_timeout = std::chrono::seconds(opt.idle_timeout_seconds);
  http.host_allowlist = *allowlist;
  http.tls = tls.get();
  // Keystore imports carry about 1 KiB a key: allow thousands in one request there, 1 MiB everywhere else.
  http.body_limit_for = [default_limit = http.max_body_bytes](std::string_view target) {
    return target.starts_with("/eth/v1/keystores") ? std::size_t{64} << 20 : default_limit;
  };
  server::HttpServer api_server(io, http, api);
  if (auto started = api_server.start(); !started) return fail(started.error());
  server::MetricsApi metrics_api(metrics);
  server::HttpServerOptions metrics_http;
  metrics_http.host = opt.metrics_host;
  metrics_http.port = opt.metrics_port;
  // The metrics listener shares the Host allowlist and timeouts (never TLS); a scraper needs few connections.
  metrics_http.max_connections = std::min<std::size_t>(64, opt.max_connections);
  metrics_http.read_timeout = http.read_timeout;
  metrics_http.idle_timeout = http.idle_timeout;
  metrics_http.host_allowlist = *allowlist;
  server::HttpServer metrics_server(io, metrics_http, metrics_api);
  if (auto started = metrics_server.start(); !started) return fail("metrics listener: " + started.error());

  // SIGTERM/SIGINT: a graceful stop. Requests already arriving may finish within the grace period; a little
  // later (for the handlers to answer the last of them) the process exits regardless.
  const auto grace = std::chrono::seconds(opt.shutdown_grace_seconds);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer stop_deadline(io);
  HangupHandler hangup(io, [&] {
    spdlog::info("received SIGHUP: reloading keystores");
    key_service.request_reload();  // the reload thread does the work
  });
  const auto end_waits = [&] {
    boost::system::error_code ignored;
    signals.cancel(ignored);
    hangup.cancel();
    stop_deadline.cancel();
  };
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("received signal {}: no new connections; finishing the requests in flight (grace period {} s)", sig,
                 grace.count());
    stop_deadline.expires_after(grace + std::chrono::seconds(2));
    stop_deadline.async_wait([&](const boost::system::error_code& e) {
      if (e) return;
      spdlog::warn("requests still in flight after the grace period; closing their connections");
      api_server.close_all();
      metrics_server.close_all();
      end_waits();
    });
    metrics_server.stop(grace, [] {});
    api_server.stop(grace, [&] { asio::post(io, end_waits); });
  });

  const auto ep = api_server.local_endpoint();
  spdlog::info(
      "cachet {} (blst {}) network={} keys={} failed={} workers={} slashing-protection={} listening on {}://{}:{} "
      "(metrics "
      "http://{}:{}/metrics)",
      CACHET_VERSION, crypto::blst_version(), network->name, keys.size(), key_service.failure_count(), workers,
      protection ? "on" : "OFF", tls ? "https" : "http", ep.address().to_string(), ep.port(), opt.metrics_host,
      metrics_server.local_endpoint().port());

  // I/O threads only move bytes; BLS work is on the signing pool, so that a burst is read at once and its excess
  // refused (503) instead of waiting unread behind signatures. One I/O thread per four cores: parsing HTTP is a few
  // microseconds a request against ~300 us of BLS work, and every extra thread on a small machine only adds context
  // switches. (Signing on the I/O threads themselves was tried: a third fewer context switches a request, no
  // measurable gain in signs/s, and under twice the peak most requests waited seconds unread instead of getting 503.)
  const unsigned io_threads = std::max(1u, cores / 4);
  std::vector<std::jthread> threads;
  for (unsigned i = 1; i < io_threads; ++i)
    threads.emplace_back([&] {
      name_this_thread("cachet-io");
      io.run();
    });
  io.run();
  for (auto& t : threads) t.join();
  pool.join();
  import_pool.join();
  protection.reset();  // flushes the group-commit queue
  // After a forced stop, answers from the pools and the slashing writer may still be queued for connections that
  // were closed: run them out now, so that every connection object goes while the servers it calls into exist.
  io.restart();
  io.run();
  spdlog::info("stopped");
  return 0;
}

}  // namespace cachet::tools

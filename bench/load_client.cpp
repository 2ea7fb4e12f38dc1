// HTTP load generator for the signing API (Boost.Beast, one coroutine per connection slot).
//   cachet-load --keys DIR/pubkeys.txt [--host 127.0.0.1] [--port 8080] [--connections 8] [--duration 10 |
//               --requests N] [--rate 0] [--new-connection-per-request] [--workload unique-randao]
// Closed loop (--rate 0): every slot sends its next request as soon as the previous answer arrived. Open loop
// (--rate R): request i is due at start + i/R whatever the answers do, and its latency counts from that due time
// (so a stalled server is not hidden by the client waiting for it); --connections bounds the requests in flight.
// The run stops by itself: no request is started after --duration seconds or after --requests requests, and each
// request gives up after --timeout seconds. It connects only to --host, and only to a loopback address unless
// --allow-non-loopback is given.
//
// Workloads (every request signs with a key from --keys; each slot owns its own keys, so one key's requests are
// never in flight twice and slashing protection sees them in order):
//   unique-randao       RANDAO_REVEAL, a distinct epoch for every request: every signing root is new
//   unique-attestation  ATTESTATION, per key strictly increasing source/target epochs (source = previous target),
//                       a distinct beacon_block_root per request: every root is new, slashing protection accepts all
//   shared-randao       RANDAO_REVEAL, all keys sign the same epoch, then the next one (alias: shared-root)
//   shared-attestation  ATTESTATION, all keys sign the same data in a round (as a committee does after EIP-7549),
//                       then the next round with source/target one epoch higher
// Epochs start at --base-epoch (default: derived from the wall clock in ms, so that each run against the same
// slashing protection database starts above the previous one).
//
// Prints `key=value` lines, then one `summary:` line.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

enum class Workload { UniqueRandao, UniqueAttestation, SharedRandao, SharedAttestation };

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  unsigned connections = 8;
  double duration = 0;  // 0: 10 s, or 300 s when --requests is given
  std::uint64_t requests = 0;
  double rate = 0;
  bool new_connection = false;
  std::string keys_file;
  std::size_t key_count = 0;
  Workload workload = Workload::UniqueRandao;
  std::string workload_name = "unique-randao";
  std::string network_versions = "mainnet";
  std::optional<std::uint64_t> base_epoch;
  double timeout = 10;
  unsigned threads = 1;
  bool allow_non_loopback = false;
};

// fork_info for the network's Deneb fork (previous = Capella); every generated epoch is past the fork epoch, so the
// signer uses current_version. Any genesis validators root works; this is mainnet's.
struct NetworkVersions {
  const char* previous_version;
  const char* current_version;
  const char* fork_epoch;
  const char* genesis_validators_root;
};
constexpr NetworkVersions kMainnetDeneb{"0x03000000", "0x04000000", "269568",
                                        "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95"};

std::string root_hex(std::uint64_t tag, std::uint64_t value) {
  char buf[67];
  std::snprintf(buf, sizeof buf, "0x%016llx%032x%016llx", static_cast<unsigned long long>(tag), 0u,
                static_cast<unsigned long long>(value));
  return buf;
}

class BodyMaker {
 public:
  BodyMaker(const Config& config, std::uint64_t base_epoch) : config_(config), base_(base_epoch) {
    const auto& v = kMainnetDeneb;
    fork_info_ = std::string(R"("fork_info":{"fork":{"previous_version":")") + v.previous_version +
                 R"(","current_version":")" + v.current_version + R"(","epoch":")" + v.fork_epoch +
                 R"("},"genesis_validators_root":")" + v.genesis_validators_root + R"("})";
  }

  // `global`: the run's request number; `round`: how many requests this key has had before in this slot.
  std::string operator()(std::uint64_t global, std::uint64_t round) const {
    switch (config_.workload) {
      case Workload::UniqueRandao:
        return randao(base_ + global);
      case Workload::SharedRandao:
        return randao(base_ + round);
      case Workload::UniqueAttestation:
        return attestation(base_ + round, root_hex(0xb10c, global));
      case Workload::SharedAttestation:
        return attestation(base_ + round, root_hex(0xb10c, round));
    }
    return {};
  }

 private:
  std::string randao(std::uint64_t epoch) const {
    return R"({"type":"RANDAO_REVEAL",)" + fork_info_ + R"(,"randao_reveal":{"epoch":")" + std::to_string(epoch) +
           R"("}})";
  }
  std::string attestation(std::uint64_t source, const std::string& block_root) const {
    const std::uint64_t target = source + 1;
    return R"({"type":"ATTESTATION",)" + fork_info_ + R"(,"attestation":{"slot":")" + std::to_string(target * 32) +
           R"(","index":"0","beacon_block_root":")" + block_root + R"(","source":{"epoch":")" + std::to_string(source) +
           R"(","root":")" + root_hex(0x5, source) + R"("},"target":{"epoch":")" + std::to_string(target) +
           R"(","root":")" + root_hex(0x7, target) + R"("}}})";
  }

  const Config& config_;
  std::uint64_t base_;
  std::string fork_info_;
};

struct SlotStats {
  std::uint64_t sent = 0;
  std::map<unsigned, std::uint64_t> status;  // HTTP status -> count
  std::uint64_t conn_errors = 0;
  std::uint64_t timeouts = 0;
  std::vector<std::int64_t> ok_latency_ns;
  std::vector<std::int64_t> shed_latency_ns;  // 503 answers
  Clock::time_point last_done{};
};

struct Shared {
  const Config& config;
  tcp::endpoint endpoint;
  BodyMaker make_body;
  const std::vector<std::string>& keys;
  Clock::time_point start;
  Clock::time_point deadline;
  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> reported_sample{false};
};

asio::awaitable<void> close_stream(beast::tcp_stream& stream) {
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
  co_return;
}

// One connection slot: at most one request in flight, its own keys.
asio::awaitable<void> run_slot(Shared& shared, unsigned slot, SlotStats& stats) {
  const Config& config = shared.config;
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  asio::steady_timer timer(executor);
  bool connected = false;
  beast::flat_buffer buffer;
  const auto timeout = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config.timeout));

  // Keys of this slot: k with k % connections == slot (or one shared key when there are fewer keys than slots).
  std::vector<std::size_t> my_keys;
  for (std::size_t k = slot; k < shared.keys.size(); k += config.connections) my_keys.push_back(k);
  if (my_keys.empty()) my_keys.push_back(slot % shared.keys.size());

  for (std::uint64_t n = 0;; ++n) {
    const std::uint64_t global = shared.next.fetch_add(1, std::memory_order_relaxed);
    if (config.requests && global >= config.requests) break;
    Clock::time_point due;
    if (config.rate > 0) {
      due = shared.start +
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(global / config.rate));
      if (due >= shared.deadline) break;
      if (due > Clock::now()) {
        timer.expires_at(due);
        co_await timer.async_wait(kNoThrow);
      }
    } else {
      due = Clock::now();
      if (due >= shared.deadline) break;
    }

    const std::string& key = shared.keys[my_keys[n % my_keys.size()]];
    http::request<http::string_body> request{http::verb::post, "/api/v1/eth2/sign/" + key, 11};
    request.set(http::field::host, config.host);
    request.set(http::field::content_type, "application/json");
    request.set(http::field::accept, "application/json");
    if (config.new_connection) request.set(http::field::connection, "close");
    request.body() = shared.make_body(global, n / my_keys.size());
    request.prepare_payload();
    ++stats.sent;

    auto fail = [&](const beast::error_code& ec) -> asio::awaitable<void> {
      if (ec == beast::error::timeout)
        ++stats.timeouts;
      else
        ++stats.conn_errors;
      co_await close_stream(stream);
      connected = false;
      if (ec != beast::error::timeout) {  // do not spin on a refused connection
        timer.expires_after(std::chrono::milliseconds(10));
        co_await timer.async_wait(kNoThrow);
      }
    };

    if (!connected) {
      stream.expires_after(timeout);
      auto [ec] = co_await stream.async_connect(shared.endpoint, kNoThrow);
      if (ec) {
        co_await fail(ec);
        continue;
      }
      stream.socket().set_option(tcp::no_delay(true));
      connected = true;
      buffer.clear();
    }
    stream.expires_after(timeout);
    if (auto [ec, bytes] = co_await http::async_write(stream, request, kNoThrow); ec) {
      co_await fail(ec);
      continue;
    }
    http::response<http::string_body> response;
    if (auto [ec, bytes] = co_await http::async_read(stream, buffer, response, kNoThrow); ec) {
      co_await fail(ec);
      continue;
    }
    const auto done = Clock::now();
    stats.last_done = done;
    const unsigned code = response.result_int();
    ++stats.status[code];
    const auto latency = std::chrono::duration_cast<std::chrono::nanoseconds>(done - due).count();
    if (code / 100 == 2) {
      stats.ok_latency_ns.push_back(latency);
    } else {
      if (code == 503) stats.shed_latency_ns.push_back(latency);
      if (!shared.reported_sample.exchange(true))
        std::fprintf(stderr, "cachet-load: first non-2xx answer: %u %s\n", code, response.body().c_str());
    }
    if (config.new_connection || !response.keep_alive()) {
      co_await close_stream(stream);
      connected = false;
    }
  }
  co_await close_stream(stream);
}

double percentile(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(rank, sorted.size() - 1)]) / 1000.0;  // microseconds
}

std::vector<std::string> read_keys(const std::string& path, std::size_t limit) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<std::string> keys;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    if (line.size() != 98 || !line.starts_with("0x") ||
        line.find_first_not_of("0123456789abcdefABCDEF", 2) != std::string::npos)
      throw std::runtime_error(path + ": not a 0x-prefixed 48-byte public key: " + line);
    keys.push_back(line);
    if (limit && keys.size() == limit) break;
  }
  if (keys.empty()) throw std::runtime_error(path + ": no public keys");
  return keys;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  CLI::App app{"HTTP load generator for Cachet's signing API (loopback by default)"};
  app.add_option("--host", config.host, "signer address (a literal IP or a name; loopback unless allowed)")
      ->capture_default_str();
  app.add_option("--port", config.port)->capture_default_str();
  app.add_option("--connections", config.connections, "connection slots: requests in flight at most")
      ->capture_default_str()
      ->check(CLI::Range(1u, 10000u));
  app.add_option("--duration", config.duration,
                 "seconds after which no request is started (default 10; 300 with --requests)");
  app.add_option("--requests", config.requests, "stop after this many requests (0: no limit)")->capture_default_str();
  app.add_option("--rate", config.rate, "open loop: requests per second (0: closed loop, as fast as answers come)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--new-connection-per-request", config.new_connection,
               "connect afresh for every request (Connection: close)");
  app.add_option("--keys", config.keys_file, "file of 0x public keys, one a line (cachet-make-keystores' pubkeys.txt)")
      ->required();
  app.add_option("--key-count", config.key_count, "use only the first N keys (0: all)")->capture_default_str();
  app.add_option("--workload", config.workload_name)
      ->capture_default_str()
      ->check(
          CLI::IsMember({"unique-randao", "unique-attestation", "shared-root", "shared-randao", "shared-attestation"}));
  app.add_option("--network-versions", config.network_versions, "fork_info versions to send (Deneb's)")
      ->capture_default_str()
      ->check(CLI::IsMember({"mainnet"}));
  app.add_option("--base-epoch", config.base_epoch, "first epoch (default: wall clock ms x 100)");
  app.add_option("--timeout", config.timeout, "seconds a request may take before it counts as a timeout")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", config.threads, "client I/O threads")->capture_default_str()->check(CLI::Range(1u, 64u));
  app.add_flag("--allow-non-loopback", config.allow_non_loopback, "allow a --host that is not a loopback address");
  CLI11_PARSE(app, argc, argv);

  const std::string& w = config.workload_name;
  config.workload = w == "unique-randao"        ? Workload::UniqueRandao
                    : w == "unique-attestation" ? Workload::UniqueAttestation
                    : w == "shared-attestation" ? Workload::SharedAttestation
                                                : Workload::SharedRandao;
  if (config.duration <= 0) config.duration = config.requests ? 300 : 10;

  std::vector<std::string> keys;
  tcp::endpoint endpoint;
  try {
    keys = read_keys(config.keys_file, config.key_count);
    asio::io_context resolver_context;
    tcp::resolver resolver(resolver_context);
    auto results = resolver.resolve(config.host, std::to_string(config.port));
    endpoint = results.begin()->endpoint();  // the one address used for every connection
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cachet-load: %s\n", e.what());
    return 2;
  }
  if (!endpoint.address().is_loopback() && !config.allow_non_loopback) {
    std::fprintf(stderr, "cachet-load: %s is not a loopback address (give --allow-non-loopback to load it)\n",
                 endpoint.address().to_string().c_str());
    return 2;
  }
  const bool attestations =
      config.workload == Workload::UniqueAttestation || config.workload == Workload::SharedAttestation;
  if (attestations && keys.size() < config.connections) {
    std::fprintf(stderr,
                 "cachet-load: attestation workloads need at least as many keys (%zu) as connections (%u): one "
                 "key's attestations must not be in flight together\n",
                 keys.size(), config.connections);
    return 2;
  }
  const std::uint64_t base_epoch =
      config.base_epoch.value_or(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                std::chrono::system_clock::now().time_since_epoch())
                                                                .count()) *
                                 100);

  Shared shared{config, endpoint, BodyMaker(config, base_epoch), keys, {}, {}};
  std::vector<SlotStats> stats(config.connections);
  asio::io_context context(static_cast<int>(config.threads));
  shared.start = Clock::now();
  shared.deadline =
      shared.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config.duration));
  for (unsigned s = 0; s < config.connections; ++s)
    asio::co_spawn(context, run_slot(shared, s, stats[s]), asio::detached);
  {
    std::vector<std::jthread> threads;
    for (unsigned t = 1; t < config.threads; ++t) threads.emplace_back([&] { context.run(); });
    context.run();
  }
  const auto finished = Clock::now();

  SlotStats total;
  for (auto& s : stats) {
    total.sent += s.sent;
    for (auto [code, count] : s.status) total.status[code] += count;
    total.conn_errors += s.conn_errors;
    total.timeouts += s.timeouts;
    total.ok_latency_ns.insert(total.ok_latency_ns.end(), s.ok_latency_ns.begin(), s.ok_latency_ns.end());
    total.shed_latency_ns.insert(total.shed_latency_ns.end(), s.shed_latency_ns.begin(), s.shed_latency_ns.end());
  }
  std::sort(total.ok_latency_ns.begin(), total.ok_latency_ns.end());
  std::sort(total.shed_latency_ns.begin(), total.shed_latency_ns.end());
  std::uint64_t s2xx = 0, s4xx = 0, s503 = 0, sother = 0, responses = 0;
  for (auto [code, count] : total.status) {
    responses += count;
    if (code / 100 == 2)
      s2xx += count;
    else if (code / 100 == 4)
      s4xx += count;
    else if (code == 503)
      s503 += count;
    else
      sother += count;
  }
  const double elapsed = std::chrono::duration<double>(finished - shared.start).count();
  const double signs_per_s = static_cast<double>(s2xx) / elapsed;
  const auto& lat = total.ok_latency_ns;
  const char* mode = config.new_connection ? "new-connection" : "keep-alive";

  std::printf("workload=%s\n", config.workload_name.c_str());
  std::printf("connections=%u\n", config.connections);
  std::printf("connection_mode=%s\n", mode);
  std::printf("rate_target=%.1f\n", config.rate);
  std::printf("keys=%zu\n", keys.size());
  std::printf("base_epoch=%llu\n", static_cast<unsigned long long>(base_epoch));
  std::printf("elapsed_s=%.3f\n", elapsed);
  std::printf("requests_sent=%llu\n", static_cast<unsigned long long>(total.sent));
  std::printf("responses=%llu\n", static_cast<unsigned long long>(responses));
  std::printf("status_2xx=%llu\n", static_cast<unsigned long long>(s2xx));
  std::printf("status_4xx=%llu\n", static_cast<unsigned long long>(s4xx));
  std::printf("status_503=%llu\n", static_cast<unsigned long long>(s503));
  std::printf("status_other=%llu\n", static_cast<unsigned long long>(sother));
  for (auto [code, count] : total.status)
    if (code / 100 != 2) std::printf("status_%u=%llu\n", code, static_cast<unsigned long long>(count));
  std::printf("conn_errors=%llu\n", static_cast<unsigned long long>(total.conn_errors));
  std::printf("timeouts=%llu\n", static_cast<unsigned long long>(total.timeouts));
  std::printf("signs_per_s=%.1f\n", signs_per_s);
  std::printf("latency_p50_us=%.0f\n", percentile(lat, 50));
  std::printf("latency_p90_us=%.0f\n", percentile(lat, 90));
  std::printf("latency_p99_us=%.0f\n", percentile(lat, 99));
  std::printf("latency_p999_us=%.0f\n", percentile(lat, 99.9));
  std::printf("latency_max_us=%.0f\n", percentile(lat, 100));
  if (!total.shed_latency_ns.empty()) std::printf("latency_503_p99_us=%.0f\n", percentile(total.shed_latency_ns, 99));
  std::printf(
      "summary: %s %s %s c=%u keys=%zu: %.1f signs/s, p50 %.2f ms p90 %.2f ms p99 %.2f ms p99.9 %.2f ms max %.2f ms; "
      "sent %llu, 2xx %llu, 4xx %llu, 503 %llu, other %llu, conn errors %llu, timeouts %llu\n",
      config.workload_name.c_str(), mode,
      config.rate > 0 ? ("open-loop " + std::to_string(static_cast<long>(config.rate)) + "/s").c_str() : "closed-loop",
      config.connections, keys.size(), signs_per_s, percentile(lat, 50) / 1000, percentile(lat, 90) / 1000,
      percentile(lat, 99) / 1000, percentile(lat, 99.9) / 1000, percentile(lat, 100) / 1000,
      static_cast<unsigned long long>(total.sent), static_cast<unsigned long long>(s2xx),
      static_cast<unsigned long long>(s4xx), static_cast<unsigned long long>(s503),
      static_cast<unsigned long long>(sother), static_cast<unsigned long long>(total.conn_errors),
      static_cast<unsigned long long>(total.timeouts));
  return 0;
}

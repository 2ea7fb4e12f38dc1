// Prometheus metrics (text exposition format 0.0.4). No Debian package carries prometheus-cpp, so this is a
// small fixed registry: every series the signer can emit exists from start-up as a plain atomic, so the hot
// path is one relaxed atomic add and never takes a lock or allocates.
#pragma once

#include <array>
#include <atomic>
#include <cachet/eth/signing_request.hpp>
#include <cachet/signing/signing_service.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cachet::crypto {
class HashedMessageCache;
}
namespace cachet::slashing {
class SlashingProtection;
}

namespace cachet::server {

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t v) { value_.fetch_add(v, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

/// Cumulative histogram over fixed upper bounds; the sum is kept in whole multiples of `resolution` (nanoseconds
/// for durations in seconds, 1 for counts).
class Histogram {
 public:
  explicit Histogram(std::span<const double> bounds, double resolution = 1e-9);
  void observe(double seconds);
  void observe(std::chrono::steady_clock::duration d) { observe(std::chrono::duration<double>(d).count()); }
  /// Appends `name_bucket`, `name_sum` and `name_count` lines with `labels` (already formatted, may be empty).
  void write(std::string& out, std::string_view name, std::string_view labels) const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::size_t kMaxBuckets = 24;
  std::span<const double> bounds_;
  std::array<std::atomic<std::uint64_t>, kMaxBuckets> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  double resolution_;
  std::atomic<std::uint64_t> sum_units_{0};
};

/// Routes of the HTTP API, as the `route` label.
enum class Route {
  Sign,
  PublicKeys,
  Upcheck,
  Health,
  Healthcheck,
  Keystores,
  Reload,
  Other,
  CommitBoostGetPubkeys,
  CommitBoostRequestSignature,
  CommitBoostGenerateProxyKey,
  CommitBoostStatus
};
inline constexpr std::size_t kRouteCount = 12;
std::string_view to_string(Route route);

using signing::SignStatus;  // the signing service's outcomes label the metric
inline constexpr std::size_t kSignStatusCount = 5;
std::string_view to_string(SignStatus status);

/// The two HTTP listeners, as the `listener` label.
enum class Listener { Api, Metrics };

class Metrics {
 public:
  Metrics();

  void count_sign(eth::SignType type, SignStatus status, std::chrono::steady_clock::duration elapsed);
  void count_sign_unparsed(SignStatus status);  // refused before the type was known
  void count_http(Route route, unsigned status_code, std::chrono::steady_clock::duration elapsed);
  /// A 412 from slashing protection; `reason` is a Decision::reason_code.
  void count_slashing_refusal(eth::SignType type, std::string_view reason);
  /// A request the HTTP listener answered itself; `reason` as RequestHandler::on_refusal says.
  void count_listener_refusal(Listener listener, std::string_view reason);

  /// For slashing::Options::on_batch_committed: observes each decision transaction's duration and batch size.
  std::function<void(std::chrono::steady_clock::duration, std::size_t)> slashing_commit_observer();
  /// Read at each scrape, once set before serving (they must outlive the metrics listener): the database's health
  /// (null: slashing protection is off, no series), and the hash-to-curve cache's hits and misses.
  void watch(const slashing::SlashingProtection* protection) { slashing_ = protection; }
  void watch(const crypto::HashedMessageCache& cache) { hash_cache_ = &cache; }

  Counter key_load_failures;
  Counter shed_requests;
  Histogram keystore_decrypt_seconds;
  Histogram slashing_commit_seconds;
  Histogram slashing_batch_size;
  std::array<Gauge, 2> keys_loaded;  // by source: external, managed

  /// Commit-Boost: the modules of the secrets file, once at start-up before serving (their series exist from then).
  void register_commit_boost_modules(const std::vector<std::string>& modules);
  /// A Commit-Boost request of an authenticated `module` on a /signer/v1 route, answered `ok` (2xx) or not.
  void count_commit_boost(std::string_view module, Route route, bool ok);

  /// The whole exposition, with the process_* series read from /proc.
  std::string render() const;

 private:
  static std::size_t code_index(unsigned code);

  struct CommitBoostModule {
    std::string name;
    std::array<std::array<Counter, 2>, 3> requests;  // [get_pubkeys, request_signature, generate_proxy_key][ok, error]
  };
  std::vector<std::unique_ptr<CommitBoostModule>> commit_boost_;

  std::array<std::array<Counter, kSignStatusCount>, eth::kSignTypeCount + 1> sign_requests_;  // +1: unknown type
  std::array<std::unique_ptr<Histogram>, eth::kSignTypeCount> sign_duration_;
  std::array<std::array<Counter, 16>, kRouteCount> http_requests_;
  static constexpr std::size_t kRefusalReasons = 8;
  std::array<std::array<Counter, kRefusalReasons>, eth::kSignTypeCount> slashing_refusals_;
  std::array<std::unique_ptr<Histogram>, kRouteCount> http_duration_;
  static constexpr std::size_t kListenerRefusalReasons = 7;
  std::array<std::array<Counter, kListenerRefusalReasons>, 2> listener_refusals_;  // [api, metrics][reason]
  const slashing::SlashingProtection* slashing_ = nullptr;
  const crypto::HashedMessageCache* hash_cache_ = nullptr;
  double start_time_seconds_;
};

}  // namespace cachet::server

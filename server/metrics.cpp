#include "server/metrics.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cachet/crypto/hashed_message_cache.hpp>
#include <cachet/slashing/slashing_protection.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace cachet::server {
namespace {

// Sub-millisecond resolution where signing lives (one signature is ~0.5 ms of a core), up to 1 s.
constexpr std::array<double, 14> kLatencyBounds{0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005,
                                                0.01,   0.025,   0.05,   0.1,     0.25,  0.5,    1.0};
// Keystore decryption: pbkdf2 with c=1 is microseconds, scrypt at n=2^18 is hundreds of milliseconds.
constexpr std::array<double, 12> kDecryptBounds{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
// A slashing-protection transaction: a SQLite commit with its fsync is about a millisecond, a PostgreSQL one a few
// round trips; --slashing-protection-db-timeout-ms is 2 s by default, at most 600 s.
constexpr std::array<double, 13> kCommitBounds{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,   1,     2.5,  5};
// Messages decided in one transaction: 1 … ProtectionService::kMaxBatch (1024).
constexpr std::array<double, 11> kBatchBounds{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

// The HTTP listener's own refusals (RequestHandler::on_refusal) with their status codes; the last for anything else.
struct ListenerRefusal {
  std::string_view reason, code;
};
constexpr std::array<ListenerRefusal, 7> kListenerRefusals{{{"host_not_allowed", "403"},
                                                            {"timeout", "408"},
                                                            {"body_too_large", "413"},
                                                            {"headers_too_large", "431"},
                                                            {"incomplete", "400"},
                                                            {"malformed", "400"},
                                                            {"other", "other"}}};

// Decision::reason_code values (slashing_protection.hpp), the last one for anything else.
constexpr std::array<std::string_view, 8> kRefusalReasonNames{
    "double_block",        "double_vote",     "surrounding_vote", "surrounded_vote",
    "source_after_target", "below_watermark", "genesis_mismatch", "other"};

constexpr std::array<unsigned, 15> kCodes{200, 400, 401, 403, 404, 405, 408, 412, 413, 415, 429, 431, 500, 503, 0};

std::string format_double(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, std::string_view name, std::string_view labels, std::string_view value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

double clock_ticks() { return static_cast<double>(::sysconf(_SC_CLK_TCK)); }

double process_start_time() {
  // /proc/self/stat field 22: start time in clock ticks after boot; btime in /proc/stat: boot time.
  std::ifstream stat("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), {});
  auto close = content.rfind(')');
  std::istringstream rest(content.substr(close + 2));
  std::string field;
  unsigned long long start_ticks = 0;
  for (int i = 3; i <= 22 && rest >> field; ++i)
    if (i == 22) start_ticks = std::stoull(field);
  std::ifstream proc_stat("/proc/stat");
  std::string line;
  double boot = 0;
  while (std::getline(proc_stat, line))
    if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
  return boot + static_cast<double>(start_ticks) / clock_ticks();
}

}  // namespace

Histogram::Histogram(std::span<const double> bounds, double resolution) : bounds_(bounds), resolution_(resolution) {}

void Histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);  // non-cumulative here; summed when written
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_units_.fetch_add(static_cast<std::uint64_t>(std::llround(std::max(0.0, seconds) / resolution_)),
                       std::memory_order_relaxed);
}

void Histogram::write(std::string& out, std::string_view name, std::string_view labels) const {
  const std::string bucket_name = std::string(name) + "_bucket";
  const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    const auto le = i < bounds_.size() ? format_double(bounds_[i]) : std::string("+Inf");
    sample(out, bucket_name, prefix + "le=\"" + le + "\"", std::to_string(cumulative));
  }
  sample(out, std::string(name) + "_sum", labels,
         format_double(static_cast<double>(sum_units_.load(std::memory_order_relaxed)) * resolution_));
  // The count is the +Inf bucket, so the two always agree even while observations race with this read.
  sample(out, std::string(name) + "_count", labels, std::to_string(cumulative));
}

std::string_view to_string(Route route) {
  static constexpr std::array<std::string_view, kRouteCount> names{"sign",
                                                                   "public_keys",
                                                                   "upcheck",
                                                                   "health",
                                                                   "healthcheck",
                                                                   "keystores",
                                                                   "reload",
                                                                   "other",
                                                                   "commit_boost_get_pubkeys",
                                                                   "commit_boost_request_signature",
                                                                   "commit_boost_generate_proxy_key",
                                                                   "commit_boost_status"};
  return names[static_cast<std::size_t>(route)];
}

std::string_view to_string(SignStatus status) {
  static constexpr std::array<std::string_view, kSignStatusCount> names{"ok", "bad_request", "not_found", "refused",
                                                                        "unavailable"};
  return names[static_cast<std::size_t>(status)];
}

Metrics::Metrics()
    : keystore_decrypt_seconds(kDecryptBounds),
      slashing_commit_seconds(kCommitBounds),
      slashing_batch_size(kBatchBounds, 1),
      start_time_seconds_(process_start_time()) {
  for (auto& h : sign_duration_) h = std::make_unique<Histogram>(kLatencyBounds);
  for (auto& h : http_duration_) h = std::make_unique<Histogram>(kLatencyBounds);
}

std::size_t Metrics::code_index(unsigned code) {
  for (std::size_t i = 0; i + 1 < kCodes.size(); ++i)
    if (kCodes[i] == code) return i;
  return kCodes.size() - 1;  // any other code
}

void Metrics::count_sign(eth::SignType type, SignStatus status, std::chrono::steady_clock::duration elapsed) {
  const auto t = static_cast<std::size_t>(type);
  sign_requests_[t][static_cast<std::size_t>(status)].inc();
  sign_duration_[t]->observe(elapsed);
}

void Metrics::count_sign_unparsed(SignStatus status) {
  sign_requests_[eth::kSignTypeCount][static_cast<std::size_t>(status)].inc();
}

void Metrics::count_http(Route route, unsigned status_code, std::chrono::steady_clock::duration elapsed) {
  const auto r = static_cast<std::size_t>(route);
  http_requests_[r][code_index(status_code)].inc();
  http_duration_[r]->observe(elapsed);
}

void Metrics::count_slashing_refusal(eth::SignType type, std::string_view reason) {
  std::size_t r = 0;
  while (r + 1 < kRefusalReasonNames.size() && kRefusalReasonNames[r] != reason) ++r;
  slashing_refusals_[static_cast<std::size_t>(type)][r].inc();
}

void Metrics::count_listener_refusal(Listener listener, std::string_view reason) {
  std::size_t r = 0;
  while (r + 1 < kListenerRefusals.size() && kListenerRefusals[r].reason != reason) ++r;
  listener_refusals_[static_cast<std::size_t>(listener)][r].inc();
}

std::function<void(std::chrono::steady_clock::duration, std::size_t)> Metrics::slashing_commit_observer() {
  return [this](std::chrono::steady_clock::duration took, std::size_t messages) {
    slashing_commit_seconds.observe(took);
    slashing_batch_size.observe(static_cast<double>(messages));
  };
}

void Metrics::register_commit_boost_modules(const std::vector<std::string>& modules) {
  for (const auto& m : modules) {
    commit_boost_.push_back(std::make_unique<CommitBoostModule>());
    commit_boost_.back()->name = m;
  }
}

void Metrics::count_commit_boost(std::string_view module, Route route, bool ok) {
  const auto r = static_cast<std::size_t>(route) - static_cast<std::size_t>(Route::CommitBoostGetPubkeys);
  if (r >= 3) return;
  for (const auto& m : commit_boost_)
    if (m->name == module) return m->requests[r][ok ? 0 : 1].inc();
}

std::string Metrics::render() const {
  std::string out;
  out.reserve(32 << 10);

  header(out, "cachet_build_info", "gauge", "Cachet build information.");
  sample(out, "cachet_build_info", "version=\"" CACHET_VERSION "\"", "1");

  header(out, "cachet_signing_requests_total", "counter", "Sign requests by request type and outcome.");
  for (std::size_t t = 0; t <= eth::kSignTypeCount; ++t) {
    const std::string type =
        t < eth::kSignTypeCount ? std::string(eth::to_string(static_cast<eth::SignType>(t))) : std::string("UNKNOWN");
    for (std::size_t s = 0; s < kSignStatusCount; ++s) {
      sample(out, "cachet_signing_requests_total",
             "type=\"" + type + "\",status=\"" + std::string(to_string(static_cast<SignStatus>(s))) + "\"",
             std::to_string(sign_requests_[t][s].value()));
    }
  }

  header(out, "cachet_signing_duration_seconds", "histogram",
         "Time from a sign request's arrival on the signing pool to its signature, by request type.");
  for (std::size_t t = 0; t < eth::kSignTypeCount; ++t) {
    sign_duration_[t]->write(out, "cachet_signing_duration_seconds",
                             "type=\"" + std::string(eth::to_string(static_cast<eth::SignType>(t))) + "\"");
  }

  header(out, "cachet_slashing_protection_refusals_total", "counter",
         "Blocks and attestations refused by slashing protection (412), by request type and reason.");
  for (auto type : {eth::SignType::Block, eth::SignType::BlockV2, eth::SignType::Attestation}) {
    for (std::size_t r = 0; r < kRefusalReasonNames.size(); ++r) {
      sample(
          out, "cachet_slashing_protection_refusals_total",
          "type=\"" + std::string(eth::to_string(type)) + "\",reason=\"" + std::string(kRefusalReasonNames[r]) + "\"",
          std::to_string(slashing_refusals_[static_cast<std::size_t>(type)][r].value()));
    }
  }

  if (slashing_) {
    header(out, "cachet_slashing_protection_database_up", "gauge",
           "1 while the slashing protection database answers, 0 while sign requests for blocks and attestations get "
           "503.");
    sample(out, "cachet_slashing_protection_database_up", "", slashing_->healthy() ? "1" : "0");
  }
  header(out, "cachet_slashing_protection_commit_duration_seconds", "histogram",
         "Time of one slashing protection decision transaction, from begin to commit (reruns included).");
  slashing_commit_seconds.write(out, "cachet_slashing_protection_commit_duration_seconds", "");
  header(out, "cachet_slashing_protection_batch_size", "histogram",
         "Blocks and attestations decided in one slashing protection transaction.");
  slashing_batch_size.write(out, "cachet_slashing_protection_batch_size", "");

  header(out, "cachet_hash_to_curve_cache_hits_total", "counter",
         "Signing roots whose hash to G2 came from the cache (another request hashed the same root recently).");
  sample(out, "cachet_hash_to_curve_cache_hits_total", "", std::to_string(hash_cache_ ? hash_cache_->hits() : 0));
  header(out, "cachet_hash_to_curve_cache_misses_total", "counter", "Signing roots hashed to G2 by this request.");
  sample(out, "cachet_hash_to_curve_cache_misses_total", "", std::to_string(hash_cache_ ? hash_cache_->misses() : 0));

  if (!commit_boost_.empty()) {
    header(out, "cachet_commit_boost_requests_total", "counter",
           "Authenticated Commit-Boost signer API requests, by module, route and outcome.");
    for (const auto& m : commit_boost_) {
      for (std::size_t r = 0; r < 3; ++r) {
        const auto route = to_string(static_cast<Route>(static_cast<std::size_t>(Route::CommitBoostGetPubkeys) + r));
        for (std::size_t o = 0; o < 2; ++o)
          sample(out, "cachet_commit_boost_requests_total",
                 "module=\"" + m->name + "\",route=\"" + std::string(route) + "\",outcome=\"" +
                     (o == 0 ? "ok" : "error") + "\"",
                 std::to_string(m->requests[r][o].value()));
      }
    }
  }

  header(out, "cachet_signing_requests_shed_total", "counter",
         "Sign requests answered 503 at once because the signing queue was full.");
  sample(out, "cachet_signing_requests_shed_total", "", std::to_string(shed_requests.value()));

  header(out, "cachet_keys_loaded", "gauge", "Keys available for signing, by where they came from.");
  sample(out, "cachet_keys_loaded", "source=\"external\"", std::to_string(keys_loaded[0].value()));
  sample(out, "cachet_keys_loaded", "source=\"managed\"", std::to_string(keys_loaded[1].value()));

  header(out, "cachet_key_load_failures_total", "counter", "Keystores that failed to load or import.");
  sample(out, "cachet_key_load_failures_total", "", std::to_string(key_load_failures.value()));

  header(out, "cachet_keystore_decrypt_duration_seconds", "histogram", "Time to decrypt one EIP-2335 keystore.");
  keystore_decrypt_seconds.write(out, "cachet_keystore_decrypt_duration_seconds", "");

  header(out, "cachet_http_requests_total", "counter", "HTTP requests by route and status code.");
  for (std::size_t r = 0; r < kRouteCount; ++r) {
    for (std::size_t c = 0; c < kCodes.size(); ++c) {
      const auto n = http_requests_[r][c].value();
      if (n == 0) continue;  // codes never answered stay out of the exposition
      const std::string code = kCodes[c] ? std::to_string(kCodes[c]) : std::string("other");
      sample(out, "cachet_http_requests_total",
             "route=\"" + std::string(to_string(static_cast<Route>(r))) + "\",code=\"" + code + "\"",
             std::to_string(n));
    }
  }

  header(out, "cachet_http_listener_refusals_total", "counter",
         "Requests the HTTP listener answered itself before routing, by listener, status code and reason.");
  for (std::size_t l = 0; l < listener_refusals_.size(); ++l) {
    for (std::size_t r = 0; r < kListenerRefusals.size(); ++r) {
      sample(out, "cachet_http_listener_refusals_total",
             std::string("listener=\"") + (l == 0 ? "api" : "metrics") + "\",code=\"" +
                 std::string(kListenerRefusals[r].code) + "\",reason=\"" + std::string(kListenerRefusals[r].reason) +
                 "\"",
             std::to_string(listener_refusals_[l][r].value()));
    }
  }

  header(out, "cachet_http_request_duration_seconds", "histogram", "HTTP request handling time by route.");
  for (std::size_t r = 0; r < kRouteCount; ++r) {
    http_duration_[r]->write(out, "cachet_http_request_duration_seconds",
                             "route=\"" + std::string(to_string(static_cast<Route>(r))) + "\"");
  }

  // Standard process metrics (Prometheus client conventions), from /proc.
  double cpu = 0, rss = 0, vsize = 0;
  {
    std::ifstream stat("/proc/self/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), {});
    auto close = content.rfind(')');
    if (close != std::string::npos) {
      std::istringstream rest(content.substr(close + 2));
      std::string field;
      for (int i = 3; rest >> field; ++i) {
        if (i == 14 || i == 15) cpu += std::stod(field) / clock_ticks();  // utime, stime
        if (i == 23) vsize = std::stod(field);
        if (i == 24) {
          rss = std::stod(field) * static_cast<double>(::sysconf(_SC_PAGESIZE));
          break;
        }
      }
    }
  }
  std::size_t fds = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (auto* entry = ::readdir(dir))
      if (entry->d_name[0] != '.') ++fds;
    ::closedir(dir);
    if (fds > 0) --fds;  // the directory stream's own descriptor
  }
  long max_fds = ::sysconf(_SC_OPEN_MAX);

  header(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
  sample(out, "process_cpu_seconds_total", "", format_double(cpu));
  header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  sample(out, "process_resident_memory_bytes", "", format_double(rss));
  header(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  sample(out, "process_virtual_memory_bytes", "", format_double(vsize));
  header(out, "process_open_fds", "gauge", "Number of open file descriptors.");
  sample(out, "process_open_fds", "", std::to_string(fds));
  header(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
  sample(out, "process_max_fds", "", std::to_string(max_fds));
  header(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
  sample(out, "process_start_time_seconds", "", format_double(start_time_seconds_));
  return out;
}

}  // namespace cachet::server

// Raw BLS signing baseline from the same blst the signer links: what the hardware does with no HTTP, no JSON and
// no slashing protection. The load test divides its HTTP figures by these.
//   cachet-bench-raw [--seconds 3] [--threads 0]
// Prints `key=value` lines (machine-readable), then a human summary (lines starting with "# ").
//   raw_sign_1core_per_s            full signatures (hash-to-G2 + scalar multiplication) per second on one thread
//   raw_sign_allcores_per_s         the same on --threads threads (default: all cores), each with its own key and
//                                   its own distinct messages
//   raw_hash_to_g2_us               one hash-to-G2 of a 32-byte message, microseconds
//   raw_sign_prehashed_1core_per_s  scalar multiplications of one shared, already hashed root per second (the
//                                   "shared root" case: hash once, multiply per key; a hash-to-curve cache's bound)
//   raw_sign_prehashed_allcores_per_s  the same on --threads threads
//   raw_sign_cpu_us, raw_sign_prehashed_cpu_us  CPU time of one signature on one thread (CLOCK_THREAD_CPUTIME_ID):
//                                   unlike the rates, not diluted when another process takes the core for a while
//                                   (a shared or virtual machine), so the load test's CPU-time ratios use these
#include <openssl/sha.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cachet/crypto/bls.hpp>
#include <cachet/util/bytes.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <latch>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using cachet::Bytes32;
using cachet::crypto::SecretKey;

// Deterministic test keys (public, like cachet-make-keystores'): SHA-256 of the index, below 2^254 < r.
SecretKey test_key(std::uint64_t index) {
  Bytes32 sk{};
  SHA256(reinterpret_cast<const unsigned char*>(&index), sizeof index, sk.data());
  sk[0] &= 0x3f;
  auto key = SecretKey::from_bytes(sk);
  cachet::secure_wipe(sk.data(), sk.size());
  if (!key) {
    std::fprintf(stderr, "test key %llu: %s\n", static_cast<unsigned long long>(index), key.error().c_str());
    std::exit(1);
  }
  return std::move(*key);
}

// A 32-byte message unique to (thread, iteration), like distinct signing roots.
Bytes32 message(unsigned thread, std::uint64_t iteration) {
  Bytes32 m{};
  m[0] = 0xca;
  m[1] = static_cast<std::uint8_t>(thread);
  for (int i = 0; i < 8; ++i) m[24 + i] = static_cast<std::uint8_t>(iteration >> (8 * i));
  return m;
}

std::atomic<unsigned> g_sink{0};  // keeps the optimiser from dropping results

struct Rate {
  double per_s = 0;       // operations per second, summed over threads
  std::uint64_t ops = 0;  // operations done
  double thread_s = 0;    // mean seconds each thread ran
  double cpu_s = 0;       // CPU seconds the threads used, summed
};

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Runs `op(thread, iteration)` on `threads` threads for about `seconds`; each thread times itself, so the rate is
// the sum of per-thread rates (a thread that started late or stopped early does not dilute the others).
template <class Op>
Rate run_for(unsigned threads, double seconds, Op op) {
  std::atomic<bool> stop{false};
  std::latch ready(threads + 1);
  std::vector<std::uint64_t> ops(threads);
  std::vector<double> elapsed(threads);
  std::vector<double> cpu(threads);
  {
    std::vector<std::jthread> pool;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        ready.arrive_and_wait();
        const auto start = Clock::now();
        const double cpu_start = thread_cpu_seconds();
        std::uint64_t n = 0;
        unsigned sink = 0;
        while (!stop.load(std::memory_order_relaxed)) sink += op(t, n++);
        elapsed[t] = std::chrono::duration<double>(Clock::now() - start).count();
        cpu[t] = thread_cpu_seconds() - cpu_start;
        ops[t] = n;
        g_sink += sink;
      });
    }
    ready.arrive_and_wait();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
  }
  Rate r;
  for (unsigned t = 0; t < threads; ++t) {
    r.ops += ops[t];
    if (elapsed[t] > 0) r.per_s += static_cast<double>(ops[t]) / elapsed[t];
    r.thread_s += elapsed[t] / threads;
    r.cpu_s += cpu[t];
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  unsigned threads = 0;
  CLI::App app{"Raw blst signing baseline: signatures/s on one thread and on all cores, hash-to-G2 split out"};
  app.add_option("--seconds", seconds, "duration of each measurement")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 600.0));
  app.add_option("--threads", threads, "threads for the all-cores figures (0: one per core)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());

  std::vector<SecretKey> keys;
  for (unsigned t = 0; t < threads; ++t) keys.push_back(test_key(t));

  // Sanity: the split path (hash, then multiply) gives the same signature as the one-call path, and it verifies.
  {
    const auto m = message(0, 0);
    const auto direct = keys[0].sign(m);
    const auto split = keys[0].sign(cachet::crypto::hash_to_g2(m));
    if (direct != split || !cachet::crypto::verify(keys[0].public_key(), m, direct)) {
      std::fprintf(stderr, "sanity check failed: sign(m) != sign(hash_to_g2(m)) or does not verify\n");
      return 1;
    }
  }

  auto sign = [&](unsigned t, std::uint64_t i) { return unsigned{keys[t].sign(message(t, i))[0]}; };
  // With one thread the all-cores figures are the one-core ones (as under `taskset -c 0`): not measured twice.
  const Rate one = run_for(1, seconds, sign);
  const Rate all = threads == 1 ? one : run_for(threads, seconds, sign);
  const Rate hash = run_for(1, seconds, [](unsigned t, std::uint64_t i) {
    const auto h = cachet::crypto::hash_to_g2(message(t, i));
    return static_cast<unsigned>(h.point.x.fp[0].l[0]);
  });
  // Shared root: one hash, every thread multiplies it by its own key.
  const auto shared = cachet::crypto::hash_to_g2(message(0xff, 0));
  auto prehashed = [&](unsigned t, std::uint64_t) { return unsigned{keys[t].sign(shared)[0]}; };
  const Rate pre_one = run_for(1, seconds, prehashed);
  const Rate pre_all = threads == 1 ? pre_one : run_for(threads, seconds, prehashed);

  const double hash_us = 1e6 / hash.per_s;
  std::printf("raw_blst_version=%.*s\n", static_cast<int>(cachet::crypto::blst_version().size()),
              cachet::crypto::blst_version().data());
  std::printf("raw_threads=%u\n", threads);
  std::printf("raw_seconds=%.1f\n", seconds);
  std::printf("raw_sign_1core_per_s=%.1f\n", one.per_s);
  std::printf("raw_sign_us=%.1f\n", 1e6 / one.per_s);
  std::printf("raw_sign_allcores_per_s=%.1f\n", all.per_s);
  std::printf("raw_hash_to_g2_us=%.1f\n", hash_us);
  std::printf("raw_sign_prehashed_1core_per_s=%.1f\n", pre_one.per_s);
  std::printf("raw_sign_prehashed_us=%.1f\n", 1e6 / pre_one.per_s);
  std::printf("raw_sign_prehashed_allcores_per_s=%.1f\n", pre_all.per_s);
  std::printf("raw_sign_cpu_us=%.1f\n", 1e6 * one.cpu_s / static_cast<double>(one.ops));
  std::printf("raw_sign_prehashed_cpu_us=%.1f\n", 1e6 * pre_one.cpu_s / static_cast<double>(pre_one.ops));

  std::printf("# raw blst %s, %u thread(s) for all-cores, %.1f s per figure\n",
              std::string(cachet::crypto::blst_version()).c_str(), threads, seconds);
  std::printf("#   sign (hash-to-G2 + multiply): %8.1f /s on 1 thread (%.0f us each), %8.1f /s on %u threads (%.2fx)\n",
              one.per_s, 1e6 / one.per_s, all.per_s, threads, all.per_s / one.per_s);
  std::printf("#   hash-to-G2 alone:             %8.1f us (%.0f%% of one signature)\n", hash_us,
              100.0 * hash_us / (1e6 / one.per_s));
  std::printf(
      "#   shared root (multiply only):  %8.1f /s on 1 thread (%.0f us each), %8.1f /s on %u threads; "
      "%.2fx the full signature\n",
      pre_one.per_s, 1e6 / pre_one.per_s, pre_all.per_s, threads, pre_one.per_s / one.per_s);
  return g_sink.load() == 0xffffffffu ? 2 : 0;  // never true in practice; reads the sink
}

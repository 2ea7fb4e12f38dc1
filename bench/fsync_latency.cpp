// The durable-write floor of a directory's disk: how long a 4 KiB write followed by fdatasync takes, the step
// every slashing protection commit pays before a protected signature may leave (SQLite's WAL is appended, then
// synced). The load test prints these next to its latencies, so an open-loop p99 can be read against what the disk
// alone costs.
//   cachet-bench-fsync --dir DIR [--count 2000] [--gap-us 500]
// Prints `key=value` lines: fsync_p50_us, fsync_p90_us, fsync_p99_us, fsync_p999_us, fsync_max_us, fsync_count.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double percentile_us(const std::vector<double>& sorted, double p) {
  const auto i = std::min(sorted.size() - 1, static_cast<std::size_t>(p * static_cast<double>(sorted.size())));
  return sorted[i];
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  unsigned count = 2000;
  unsigned gap_us = 500;
  CLI::App app{"Latency of a 4 KiB pwrite + fdatasync in a directory (the durable-write floor)"};
  app.add_option("--dir", dir, "directory on the disk to measure (a file is made and removed there)")->required();
  app.add_option("--count", count, "writes to time")->capture_default_str()->check(CLI::Range(10u, 1000000u));
  app.add_option("--gap-us", gap_us, "pause between writes (a signer commits when requests come, not back to back)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const auto path = std::filesystem::path(dir) / ("cachet-bench-fsync." + std::to_string(::getpid()));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::perror(path.c_str());
    return 1;
  }
  // A preallocated, synced file: the writes below then change no file size, like SQLite's reused WAL.
  constexpr std::size_t kBlock = 4096, kBlocks = 256;
  std::array<char, kBlock> block{};
  bool ok = true;
  for (std::size_t i = 0; ok && i < kBlocks; ++i) ok = ::pwrite(fd, block.data(), kBlock, i * kBlock) == kBlock;
  ok = ok && ::fsync(fd) == 0;
  std::vector<double> us;
  us.reserve(count);
  for (unsigned i = 0; ok && i < count; ++i) {
    block[i % kBlock] = static_cast<char>(i);
    ok = ::pwrite(fd, block.data(), kBlock, (i % kBlocks) * kBlock) == kBlock;
    const auto t0 = Clock::now();
    ok = ok && ::fdatasync(fd) == 0;
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (gap_us) std::this_thread::sleep_for(std::chrono::microseconds(gap_us));
  }
  ::close(fd);
  std::filesystem::remove(path);
  if (!ok) {
    std::perror("write or fdatasync");
    return 1;
  }
  std::sort(us.begin(), us.end());
  std::printf("fsync_count=%zu\n", us.size());
  std::printf("fsync_p50_us=%.0f\nfsync_p90_us=%.0f\nfsync_p99_us=%.0f\nfsync_p999_us=%.0f\nfsync_max_us=%.0f\n",
              percentile_us(us, 0.5), percentile_us(us, 0.9), percentile_us(us, 0.99), percentile_us(us, 0.999),
              us.back());
  return 0;
}

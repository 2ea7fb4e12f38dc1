// Runs the real `cachet` binary for a test: free ports, a temp log file, start-up wait, SIGTERM on destruction.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cachet::test {

std::uint16_t free_port();

/// A fresh temporary directory, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Variables added to a child's environment.
using Environment = std::vector<std::pair<std::string, std::string>>;

class SignerProcess {
 public:
  /// Starts `cachet` with `args` plus --port/--metrics-port (free ones) and waits until /upcheck answers. Without
  /// --data-dir or a --slashing-protection-* flag in `args`, a fresh temporary --data-dir is added; without a
  /// --key-cache-* flag, a cheap key cache KDF.
  explicit SignerProcess(std::vector<std::string> args, bool wait_ready = true);
  /// Starts `cachet` with exactly `args` and `env` (nothing added: its settings name the ports and the data) and
  /// waits until /upcheck answers on `port`.
  SignerProcess(std::vector<std::string> args, const Environment& env, std::uint16_t port);
  ~SignerProcess();

  std::uint16_t port() const { return port_; }
  std::uint16_t metrics_port() const { return metrics_port_; }
  pid_t pid() const { return pid_; }
  bool ready() const { return ready_; }
  /// Everything the process wrote to stderr/stdout so far.
  std::string log() const;
  /// Sends `signal` and waits (up to `timeout_ms`) for exit; the exit code, or -signal, or -1000 on time-out.
  int stop(int signal = 15, int timeout_ms = 10000);

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0, metrics_port_ = 0;
  bool ready_ = false;
  TempDir log_dir_;
  std::filesystem::path log_path_;
  void await_ready();
};

/// Runs `cachet args...` to completion; returns exit code and combined output.
struct RunResult {
  int exit_code;
  std::string output;
};
RunResult run_cachet(const std::vector<std::string>& args, const Environment& env = {});

}  // namespace cachet::test

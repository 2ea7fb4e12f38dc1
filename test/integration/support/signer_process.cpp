#include "support/signer_process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/http_client.hpp"

namespace cachet::test {

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() / ("cachet-test-" + std::to_string(rd()) + std::to_string(::getpid()));
  std::filesystem::create_directories(path_);
}
TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {
pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log, const Environment& env = {}) {
  std::vector<char*> argv;
  std::string binary = CACHET_BINARY;
  argv.push_back(binary.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The child's environment is made here: between fork and exec only async-signal-safe calls are allowed.
  std::vector<std::string> variables;
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    if (std::ranges::none_of(env, [&](const auto& v) { return entry.starts_with(v.first + "="); }))
      variables.emplace_back(entry);
  }
  for (const auto& [name, value] : env) variables.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& v : variables) envp.push_back(v.data());
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // Dies with the test process, so a crashed or timed-out test leaves no signer running. (The signal follows the
    // thread that forked: signers are started from a test's main thread.)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execve(binary.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1000;
}
}  // namespace

SignerProcess::SignerProcess(std::vector<std::string> args, bool wait_ready) {
  port_ = free_port();
  metrics_port_ = free_port();
  args.push_back("--port");
  args.push_back(std::to_string(port_));
  args.push_back("--metrics-port");
  args.push_back(std::to_string(metrics_port_));
  // The signer refuses to start without a slashing database; tests that do not say where get a fresh one.
  const auto names = [&](std::string_view flag) {
    return std::ranges::any_of(args, [&](const std::string& a) { return a.starts_with(flag); });
  };
  if (!names("--data-dir") && !names("--slashing-protection-db-url") && !names("--slashing-protection-enabled")) {
    args.push_back("--data-dir");
    args.push_back((log_dir_.path() / "data").string());
  }
  // The key cache's KDF is EIP-2335's scrypt 2^18 (0.8 s, 256 MiB a write): tests that do not name a --key-cache-*
  // flag get a cheap one.
  if (!names("--key-cache")) {
    args.push_back("--key-cache-scrypt-n");
    args.push_back("1024");
  }
  log_path_ = log_dir_.path() / "signer.log";
  pid_ = spawn(args, log_path_);
  if (wait_ready) await_ready();
}

SignerProcess::SignerProcess(std::vector<std::string> args, const Environment& env, std::uint16_t port) : port_(port) {
  log_path_ = log_dir_.path() / "signer.log";
  pid_ = spawn(args, log_path_, env);
  await_ready();
}

void SignerProcess::await_ready() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;  // exited early; ready_ stays false, log() says why
    }
    HttpClient client(port_);
    if (client.get("/upcheck").status == 200) {
      ready_ = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

SignerProcess::~SignerProcess() {
  if (pid_ > 0) stop(SIGKILL, 5000);
}

std::string SignerProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int SignerProcess::stop(int signal, int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  int code = wait_exit(pid_, timeout_ms);
  if (code == -1000) {
    ::kill(pid_, SIGKILL);
    wait_exit(pid_, 5000);
  }
  pid_ = -1;
  return code;
}

RunResult run_cachet(const std::vector<std::string>& args, const Environment& env) {
  TempDir dir;
  auto log = dir.path() / "out.log";
  pid_t pid = spawn(args, log, env);
  int code = wait_exit(pid, 60000);
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  return {code, ss.str()};
}

}  // namespace cachet::test

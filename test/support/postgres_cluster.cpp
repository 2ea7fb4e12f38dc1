#include "support/postgres_cluster.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace cachet::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A port nobody listens on now (the kernel's choice for port 0 on loopback).
std::uint16_t unused_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("no free loopback port");
  return ntohs(addr.sin_port);
}

/// A directory entry's name as a number ("15", a pid), or nothing.
std::optional<int> number_named(const fs::path& entry) {
  const auto name = entry.filename().string();
  int value = 0;
  auto [end, err] = std::from_chars(name.data(), name.data() + name.size(), value);
  if (err != std::errc{} || end != name.data() + name.size()) return std::nullopt;
  return value;
}

/// The newest installed server's binaries: $CACHET_TEST_PG_BINDIR, else /usr/lib/postgresql/<highest>/bin.
fs::path server_bin_dir() {
  if (const char* env = std::getenv("CACHET_TEST_PG_BINDIR"); env && *env) return env;
  fs::path best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto version = number_named(entry.path());
    if (version && *version > best_version && fs::exists(entry.path() / "bin" / "initdb")) {
      best_version = *version;
      best = entry.path() / "bin";
    }
  }
  if (best.empty())
    throw std::runtime_error("no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql)");
  return best;
}

bool running_as_root() { return ::geteuid() == 0; }

/// initdb and the server refuse to run as root: as root, tools run as the `postgres` OS user.
std::vector<std::string> as_server_user(std::vector<std::string> argv) {
  if (!running_as_root()) return argv;
  std::vector<std::string> wrapped{"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

/// fork + exec with stdin from `stdin_fd` (or /dev/null), stdout and stderr appended to `log`, and no other
/// descriptor of ours (the server must not hold copies of the test's sockets). Returns the child's pid.
pid_t spawn(const std::vector<std::string>& argv, const fs::path& log, int stdin_fd = -1) {
  // Everything the child needs is prepared before fork(): after it, only async-signal-safe calls.
  std::vector<std::string> copy = argv;
  std::vector<char*> args;
  for (auto& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  const std::string log_path = log.string();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork() failed");
  if (pid == 0) {
    const int in = stdin_fd >= 0 ? stdin_fd : ::open("/dev/null", O_RDONLY);
    const int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(126);
    ::close_range(3, ~0U, 0);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Children of `parent` (from /proc), including zombies.
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto pid = number_named(entry.path());
    if (!pid) continue;
    const auto stat = slurp(entry.path() / "stat");
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    char state = 0;
    pid_t ppid = 0;
    if (rest >> state >> ppid && ppid == parent) out.push_back(*pid);
  }
  return out;
}

/// True while `pid` is a live (not zombie) process.
bool alive(pid_t pid) {
  const auto stat = slurp(fs::path("/proc") / std::to_string(pid) / "stat");
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

/// `url` with its database (the URI path) replaced by `database`; user, host, port and parameters kept.
std::string with_database(const std::string& url, const std::string& database) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) throw std::runtime_error("not a postgresql:// URL: " + url);
  const auto query = url.find('?', scheme + 3);
  const auto authority_end = std::min(url.find('/', scheme + 3), query);
  return url.substr(0, authority_end) + "/" + database + (query == std::string::npos ? "" : url.substr(query));
}

std::string unique_database_name(std::string_view prefix) {
  static std::atomic<unsigned> counter{0};
  static const unsigned salt = std::random_device{}();
  std::string name;
  for (char c : prefix) name += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, "_%d_%u_%08x", static_cast<int>(::getpid()), counter++, salt);
  return (name + suffix).substr(0, 63);  // NAMEDATALEN - 1
}

}  // namespace

// --- PostgresServer ---------------------------------------------------------------------------------------------

PostgresServer::PostgresServer(std::string admin_url) : admin_url_(std::move(admin_url)) {}

std::string PostgresServer::create_database(std::string_view prefix) const {
  const auto name = unique_database_name(prefix);
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(admin_url_.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("cannot connect to " + admin_url_ + ": " + PQerrorMessage(conn.get()));
  // CREATE DATABASE copies template1 and fails (55006) while another session is connected to it: retry briefly.
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), ("CREATE DATABASE \"" + name + "\"").c_str()),
                                                      &PQclear);
    if (PQresultStatus(res.get()) == PGRES_COMMAND_OK) break;
    const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
    if (attempt < 50 && state && std::string_view(state) == "55006") {
      std::this_thread::sleep_for(100ms);
      continue;
    }
    throw std::runtime_error("CREATE DATABASE " + name + ": " + PQerrorMessage(conn.get()));
  }
  return with_database(admin_url_, name);
}

// --- PostgresCluster --------------------------------------------------------------------------------------------

PostgresCluster::PostgresCluster() : bin_dir_(server_bin_dir()), owner_(::getpid()) {
  char pattern[] = "/tmp/cachet-pg-XXXXXX";
  if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  if (running_as_root()) {
    const passwd* pw = ::getpwnam("postgres");
    if (!pw) throw std::runtime_error("no `postgres` OS user (apt-get install postgresql)");
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown " + dir_.string());
  }
  start_guard();
  try {
    init_data_directory();
  } catch (...) {
    ::close(guard_fd_);  // the guard removes the directory
    wait_for(guard_pid_);
    throw;
  }
}

void PostgresCluster::init_data_directory() {
  std::string out;
  // --no-sync: the fresh cluster's files need not be durable; the server itself runs with fsync on.
  if (run_tool("initdb",
               {"-D", (dir_ / "data").string(), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C",
                "--no-sync"},
               &out) != 0)
    throw std::runtime_error("initdb failed:\n" + out);
  // Appended settings override initdb's. Root writes into the postgres-owned files in place (owner kept).
  std::ofstream conf(dir_ / "data" / "postgresql.conf", std::ios::app);
  conf << "\n# cachet tests\n"
       << "listen_addresses = '127.0.0.1'\n"
       << "unix_socket_directories = '" << dir_.string() << "'\n"
       << "fsync = on\nsynchronous_commit = on\nfull_page_writes = on\n"
       << "shared_buffers = 16MB\nmax_connections = 200\n"
       << "max_wal_size = 256MB\n"
       // Crash recovery syncs the data directory first: one syncfs() instead of an fsync() per file.
       << "recovery_init_sync_method = syncfs\n"
       << "logging_collector = off\nlog_min_messages = warning\n";
  conf.close();
  std::ofstream hba(dir_ / "data" / "pg_hba.conf", std::ios::trunc);
  hba << "local all all trust\nhost all all 127.0.0.1/32 trust\n";
}

PostgresCluster::~PostgresCluster() {
  if (::getpid() != owner_) return;  // a fork()ed child: the cluster is its parent's
  try {
    if (running_) stop();
  } catch (...) {
  }
  if (guard_fd_ >= 0) ::close(guard_fd_);  // the guard finds the server stopped and removes the directory
  if (guard_pid_ > 0) wait_for(guard_pid_);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void PostgresCluster::start_guard() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  // Waits for end-of-file on its stdin, i.e. until our end closes: in the destructor, or when this process dies
  // however it dies. Then it wakes a paused server, stops it at once, and removes the directory.
  const auto data = (dir_ / "data").string();
  std::string pg_ctl;
  for (const auto& a : as_server_user({(bin_dir_ / "pg_ctl").string()})) pg_ctl += "'" + a + "' ";
  const std::string script =
      "cat >/dev/null\n"
      "pid=$(head -n1 '" +
      data +
      "/postmaster.pid' 2>/dev/null)\n"
      "if [ -n \"$pid\" ] && kill -0 \"$pid\" 2>/dev/null; then\n"
      "  kill -CONT \"$pid\"; pkill -CONT -P \"$pid\"\n"
      "  " +
      pg_ctl + "-D '" + data +
      "' stop -m immediate -w -t 10 ||"
      " { pkill -KILL -P \"$pid\"; kill -KILL \"$pid\"; }\n"
      "fi\n"
      "rm -rf '" +
      dir_.string() + "'\n";
  guard_pid_ = spawn({"/bin/sh", "-c", script}, "/dev/null", fds[0]);
  ::close(fds[0]);
  guard_fd_ = fds[1];
}

int PostgresCluster::run_tool(const std::string& tool, const std::vector<std::string>& args, std::string* out) const {
  std::vector<std::string> argv{(bin_dir_ / tool).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto log = dir_ / ("tool-" + tool + ".log");
  std::error_code ec;
  fs::remove(log, ec);
  const int code = wait_for(spawn(as_server_user(argv), log));
  if (out) *out += slurp(log);
  return code;
}

void PostgresCluster::start() {
  if (running_) return;
  const auto data = (dir_ / "data").string();
  const bool first = port_ == 0;
  // Another process may take the port between our probe and the server's bind: on the first start, try others.
  for (int attempt = 0;; ++attempt) {
    if (first) port_ = unused_loopback_port();
    std::string out;
    const int code = run_tool("pg_ctl",
                              {"-D", data, "-l", (dir_ / "server.log").string(), "-w", "-t", "60", "-o",
                               "-p " + std::to_string(port_), "start"},
                              &out);
    if (code == 0) break;
    if (!first || attempt == 4)
      throw std::runtime_error("pg_ctl start failed (port " + std::to_string(port_) + "):\n" + out + log());
  }
  running_ = true;
  paused_ = false;
}

void PostgresCluster::stop() {
  if (!running_) return;
  if (paused_) resume();
  std::string out;
  if (run_tool("pg_ctl", {"-D", (dir_ / "data").string(), "-m", "fast", "-w", "-t", "60", "stop"}, &out) != 0)
    throw std::runtime_error("pg_ctl stop failed:\n" + out);
  running_ = false;
}

void PostgresCluster::restart() {
  stop();
  start();
}

void PostgresCluster::kill_and_restart() {
  if (running_) {
    const pid_t postmaster = postmaster_pid();
    std::vector<pid_t> all = children_of(postmaster);
    all.push_back(postmaster);
    signal_all(SIGKILL);
    // The new postmaster must not find an old process still attached to the shared memory, nor lock files
    // naming a pid that (as a zombie nobody reaps: pg_ctl's server is reparented to init) answers kill(pid, 0).
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::ranges::any_of(all, alive) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    std::error_code ec;
    fs::remove(dir_ / "data" / "postmaster.pid", ec);
    fs::remove(dir_ / (".s.PGSQL." + std::to_string(port_) + ".lock"), ec);
    running_ = false;
    paused_ = false;
  }
  start();
}

void PostgresCluster::signal_all(int signal) const {
  const pid_t postmaster = postmaster_pid();
  if (postmaster <= 0) return;
  // The postmaster first, so it forks no new child meanwhile; then its children, looked up after that.
  ::kill(postmaster, signal);
  for (pid_t child : children_of(postmaster)) ::kill(child, signal);
}

void PostgresCluster::pause() {
  if (!running_ || paused_) return;
  signal_all(SIGSTOP);
  paused_ = true;
}

void PostgresCluster::resume() {
  if (!paused_) return;
  signal_all(SIGCONT);
  paused_ = false;
}

pid_t PostgresCluster::postmaster_pid() const {
  if (!running_) return -1;
  std::istringstream in(slurp(dir_ / "data" / "postmaster.pid"));
  pid_t pid = -1;
  in >> pid;
  return pid > 0 ? pid : -1;
}

std::string PostgresCluster::admin_url() const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

std::string PostgresCluster::create_database(std::string_view prefix) const {
  return PostgresServer(admin_url()).create_database(prefix);
}

std::string PostgresCluster::log() const { return slurp(dir_ / "server.log"); }

// --- the shared server ------------------------------------------------------------------------------------------

PostgresServer& shared_postgres() {
  static std::once_flag once;
  static std::unique_ptr<PostgresCluster> cluster;  // destroyed (stopped) at exit
  static std::unique_ptr<PostgresServer> server;
  std::call_once(once, [] {
    if (const char* url = std::getenv("CACHET_TEST_PG_URL"); url && *url) {
      server = std::make_unique<PostgresServer>(url);
      return;
    }
    cluster = std::make_unique<PostgresCluster>();
    cluster->start();
    server = std::make_unique<PostgresServer>(cluster->admin_url());
  });
  return *server;
}

}  // namespace cachet::test

// A real PostgreSQL server for tests: a private cluster (initdb in a fresh temporary directory, loopback only,
// trust authentication, a free port) that a test can stop, restart, crash and freeze, and the process-wide server
// in which tests create fresh empty databases.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cachet::test {

/// A PostgreSQL server reachable through an admin (superuser) URL, in which tests create databases.
class PostgresServer {
 public:
  explicit PostgresServer(std::string admin_url);
  const std::string& admin_url() const { return admin_url_; }
  /// Creates a fresh, empty database with a unique name; returns its URL (the admin URL with that database).
  std::string create_database(std::string_view prefix = "cachet_test") const;

 private:
  std::string admin_url_;
};

/// A private PostgreSQL cluster (the newest /usr/lib/postgresql/<version>/bin, or $CACHET_TEST_PG_BINDIR).
///
/// The cluster lives in a fresh temporary directory owned by the `postgres` OS user when the test runs as root
/// (initdb refuses root); it listens on 127.0.0.1 only, on a free port, with its unix socket in that directory,
/// trust authentication for loopback, fsync on (tests check durability) and small shared buffers. The destructor
/// stops it and removes the directory; a guard process stops it too if the test process dies without that, so a
/// crashed test leaks no server (and the next one collides with nothing: new port, new directory).
class PostgresCluster {
 public:
  PostgresCluster();  // initdb only; start() runs the server
  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  /// Starts the server and waits until it accepts connections. Throws std::runtime_error (with the server log)
  /// if it cannot.
  void start();
  /// Fast shutdown (clients are disconnected, a checkpoint is written); resumes a paused server first.
  void stop();
  /// stop() then start(), on the same port and data.
  void restart();
  /// SIGKILL to the postmaster and all its children (a crash: no checkpoint), then start() (crash recovery).
  void kill_and_restart();
  /// SIGSTOP to the postmaster and every child process of it: the server and existing connections hang.
  void pause();
  /// SIGCONT to all of them.
  void resume();

  bool running() const { return running_; }
  bool paused() const { return paused_; }
  std::uint16_t port() const { return port_; }
  /// postgresql://postgres@127.0.0.1:PORT/postgres
  std::string admin_url() const;
  /// A fresh empty database in this cluster; its URL.
  std::string create_database(std::string_view prefix = "cachet_test") const;
  /// The postmaster's process id (from postmaster.pid), or -1 when not running.
  pid_t postmaster_pid() const;
  const std::filesystem::path& directory() const { return dir_; }
  /// The server's log so far.
  std::string log() const;

 private:
  /// Runs a PostgreSQL binary (as `postgres` when we are root); its exit code, output appended to `out`.
  int run_tool(const std::string& tool, const std::vector<std::string>& args, std::string* out = nullptr) const;
  void signal_all(int signal) const;
  void start_guard();
  void init_data_directory();

  std::filesystem::path bin_dir_;
  std::filesystem::path dir_;  // the temporary directory: data/, server.log, sockets
  std::uint16_t port_ = 0;
  bool running_ = false;
  bool paused_ = false;
  pid_t owner_ = -1;      // the process that made the cluster: a fork()ed child must not stop it
  pid_t guard_pid_ = -1;  // stops the server when our end of its pipe closes (including when we die)
  int guard_fd_ = -1;     // that end (close-on-exec, so no child keeps it open)
};

/// The server tests share in one process: the cluster named by $CACHET_TEST_PG_URL (its admin URL; scripts/test.sh
/// starts one for the whole run) when set, else a private cluster started on first use and stopped at exit. Create
/// databases in it; never stop or pause it (tests that do need their own PostgresCluster).
PostgresServer& shared_postgres();

}  // namespace cachet::test

// Start-up loading of a keystore directory. Decryption dominates (scrypt n=2^18 is ~0.7 s and 256 MiB per keystore
// by design, EIP-2335 "Decryption key"), so files are handed to worker threads one index at a time.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cachet/keys/keystore_loader.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

namespace cachet::keys {

namespace fs = std::filesystem;

namespace {

// A keystore is about 1 KiB and a password shorter still; a larger file is a mistake, not something to read whole.
constexpr std::size_t kMaxFileBytes = 1 << 20;

// Reads a whole file with one buffer and no stream buffering, so a password leaves a single copy to wipe.
std::expected<std::string, std::string> read_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::unexpected(std::string(std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::unexpected(std::string("not a regular file"));
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxFileBytes) {
    ::close(fd);
    return std::unexpected(std::string("larger than 1 MiB"));
  }
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      secure_wipe(out.data(), out.size());
      return std::unexpected(std::string(std::strerror(err)));
    }
    if (n == 0) break;  // the file shrank meanwhile
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

// Editors and `echo` end a password file with a newline that is not part of the password; only one is removed so
// that a password that really ends in whitespace still works.
void strip_one_newline(std::string& s) {
  if (s.ends_with("\r\n"))
    s.resize(s.size() - 2);
  else if (s.ends_with('\n'))
    s.resize(s.size() - 1);
}

struct WipeOnExit {
  std::string& value;
  ~WipeOnExit() { secure_wipe(value.data(), value.size()); }
};

std::vector<fs::path> list_keystores(const fs::path& dir, std::string& error) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->path().extension() == ".json" && it->is_regular_file(type_ec)) out.push_back(it->path());
  }
  if (ec) error = "cannot list the keystores directory: " + ec.message();
  std::sort(out.begin(), out.end());  // a stable order for logs and for which of two duplicates wins
  return out;
}

class Loader {
 public:
  Loader(std::vector<fs::path> files, const fs::path& passwords_dir, KeyStore& store, const LoadOptions& options,
         LoadReport& report)
      : files_(std::move(files)), passwords_dir_(passwords_dir), store_(store), options_(options), report_(report) {}

  void run() {
    unsigned threads = options_.threads != 0 ? options_.threads : std::thread::hardware_concurrency();
    threads = std::clamp<unsigned>(threads, 1, static_cast<unsigned>(std::max<std::size_t>(files_.size(), 1)));
    start_ = std::chrono::steady_clock::now();
    {
      std::vector<std::jthread> workers;
      for (unsigned i = 0; i < threads; ++i) workers.emplace_back([this] { work(); });
      report_progress_until_done();
    }  // joins
  }

 private:
  void work() {
    for (std::size_t i = next_.fetch_add(1); i < files_.size(); i = next_.fetch_add(1)) {
      load_one(files_[i]);
      {
        std::lock_guard lock(mutex_);
        ++done_;
      }
      done_cv_.notify_one();
    }
  }

  // The calling thread reports progress, so the callback never runs on two threads at once.
  void report_progress_until_done() {
    std::unique_lock lock(mutex_);
    while (!done_cv_.wait_for(lock, options_.progress_interval, [this] { return done_ == files_.size(); })) {
      auto progress = snapshot();
      lock.unlock();
      if (options_.on_progress) options_.on_progress(progress);
      lock.lock();
    }
    auto progress = snapshot();
    lock.unlock();
    if (options_.on_progress && !files_.empty()) options_.on_progress(progress);  // the final 100%
  }

  LoadProgress snapshot() const {
    LoadProgress p;
    p.done = done_;
    p.total = files_.size();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    p.rate_per_second = elapsed > 0 ? static_cast<double>(p.done) / elapsed : 0;
    if (p.rate_per_second > 0)
      p.eta = std::chrono::seconds(static_cast<long long>(static_cast<double>(p.total - p.done) / p.rate_per_second));
    return p;
  }

  void fail(const fs::path& path, std::string reason) {
    std::lock_guard lock(mutex_);
    report_.failures.push_back({path, std::move(reason)});
  }

  void load_one(const fs::path& path) {
    try {
      load_one_unguarded(path);
    } catch (const std::exception& e) {  // bad_alloc, or a callback that threw: this file fails, the rest load
      fail(path, std::string("internal error: ") + e.what());
    }
  }

  void load_one_unguarded(const fs::path& path) {
    fs::path password_path = passwords_dir_ / (path.stem().string() + ".txt");
    auto password = read_file(password_path);
    if (!password) {
      std::error_code ec;
      if (!fs::exists(password_path, ec))
        fail(path, "missing password file " + password_path.string());
      else
        fail(path, "cannot read password file " + password_path.string() + ": " + password.error());
      return;
    }
    WipeOnExit wipe{*password};  // wiped in place: the string is never copied or moved
    strip_one_newline(*password);

    auto text = read_file(path);
    if (!text) return fail(path, "cannot read the keystore: " + text.error());

    auto started = std::chrono::steady_clock::now();
    auto decrypted = crypto::decrypt_keystore(*text, *password, options_.limits);
    if (!decrypted) return fail(path, decrypted.error());
    if (options_.on_decrypted)
      options_.on_decrypted(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

    auto key = std::make_shared<const Key>(Key{std::move(decrypted->secret), decrypted->pubkey, options_.source,
                                               std::move(decrypted->derivation_path), path.string()});
    bool inserted = store_.insert(std::move(key));
    std::lock_guard lock(mutex_);
    ++(inserted ? report_.loaded : report_.duplicates);
  }

  const std::vector<fs::path> files_;
  const fs::path& passwords_dir_;
  KeyStore& store_;
  const LoadOptions& options_;
  LoadReport& report_;

  std::atomic<std::size_t> next_{0};
  std::mutex mutex_;  // guards done_ and report_
  std::condition_variable done_cv_;
  std::size_t done_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

LoadReport load_keystore_directory(const fs::path& keystores_dir, const fs::path& passwords_dir, KeyStore& store,
                                   const LoadOptions& options) {
  auto start = std::chrono::steady_clock::now();
  LoadReport report;
  std::error_code ec;
  if (!fs::is_directory(keystores_dir, ec)) {
    report.failures.push_back(
        {keystores_dir, fs::exists(keystores_dir, ec) ? "not a directory" : "the keystores directory does not exist"});
    return report;
  }
  std::string list_error;
  auto files = list_keystores(keystores_dir, list_error);
  if (!list_error.empty()) report.failures.push_back({keystores_dir, list_error});

  Loader(std::move(files), passwords_dir, store, options, report).run();
  // Failures in path order, whatever order the threads finished in.
  std::sort(report.failures.begin(), report.failures.end(),
            [](const LoadFailure& a, const LoadFailure& b) { return a.path < b.path; });
  report.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return report;
}

}  // namespace cachet::keys

// Loading keystore directories. Decryption dominates (scrypt n=2^18 is ~0.7 s and 256 MiB per keystore by design,
// EIP-2335 "Decryption key"), so it runs on worker threads, one file at a time each; a file whose key is already
// decrypted (in memory from the previous load, or in the key cache) is not decrypted again. Results are kept by
// file index and assembled in path order at the end, so which of two duplicates wins never depends on which thread
// finished first.
#include <openssl/sha.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cachet/keys/key_cache.hpp>
#include <cachet/keys/keystore_loader.hpp>
#include <cachet/util/thread_name.hpp>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "keys/keystore_files.hpp"

namespace cachet::keys {

namespace fs = std::filesystem;

namespace {

struct Candidate {
  KeystoreFile file;
  std::string content;  // the keystore's JSON (no secret in the clear)
  Bytes32 sha256{};
  std::optional<std::size_t> cache_entry;  // index in the key cache when it holds this very file
  std::shared_ptr<const Key> key;          // the outcome: a key, or
  std::string failure;                     // why not
};

Bytes32 sha256_of(std::string_view text) {
  Bytes32 out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

class Loader {
 public:
  Loader(std::vector<Candidate>& candidates, std::vector<std::size_t> pending, const LoadOptions& options,
         const KeyCache* cache, const KeyCacheSecrets* secrets)
      : candidates_(candidates), pending_(std::move(pending)), options_(options), cache_(cache), secrets_(secrets) {}

  void run(std::size_t already_done) {
    done_ = already_done;
    if (options_.counters) {
      options_.counters->total.store(candidates_.size());
      options_.counters->done.store(already_done);
    }
    unsigned threads = options_.threads != 0 ? options_.threads : std::thread::hardware_concurrency();
    threads = std::clamp<unsigned>(threads, 1, static_cast<unsigned>(std::max<std::size_t>(pending_.size(), 1)));
    start_ = std::chrono::steady_clock::now();
    {
      std::vector<std::jthread> workers;
      if (!pending_.empty())
        for (unsigned i = 0; i < threads; ++i)
          workers.emplace_back([this] {
            name_this_thread("keystore-load");
            work();
          });
      report_progress_until_done();
    }  // joins
  }

  std::size_t decrypted() const { return decrypted_; }
  std::size_t from_cache() const { return from_cache_; }

 private:
  void work() {
    if (options_.nice > 0)  // Linux applies nice per thread
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), options_.nice);
    for (std::size_t i = next_.fetch_add(1); i < pending_.size(); i = next_.fetch_add(1)) {
      Candidate& c = candidates_[pending_[i]];
      try {
        load(c);
      } catch (const std::exception& e) {  // bad_alloc, or a callback that threw: this file fails, the rest load
        c.key.reset();
        c.failure = std::string("internal error: ") + e.what();
      }
      {
        std::lock_guard lock(mutex_);
        ++done_;
      }
      if (options_.counters) options_.counters->done.fetch_add(1, std::memory_order_relaxed);
      done_cv_.notify_one();
    }
  }

  void load(Candidate& c) {
    if (c.cache_entry && secrets_) {
      auto key = cache_->key(*c.cache_entry, *secrets_);
      if (key) {
        c.key = std::move(*key);
        from_cache_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      // A cached secret that does not derive its pubkey is dropped: the keystore itself decides.
    }
    decrypt(c);
  }

  void decrypt(Candidate& c) {
    auto password = read_small_file(c.file.password_path);
    if (!password) {
      std::error_code ec;
      if (!fs::exists(fs::symlink_status(c.file.password_path, ec)))
        c.failure = "missing password file " + c.file.password_path.string();
      else
        c.failure = "cannot read password file " + c.file.password_path.string() + ": " + password.error();
      return;
    }
    WipeOnExit wipe{*password};  // wiped in place: the string is never copied or moved
    strip_one_newline(*password);

    auto started = std::chrono::steady_clock::now();
    auto decrypted = crypto::decrypt_keystore(c.content, *password, options_.limits);
    if (!decrypted) {
      c.failure = decrypted.error();
      return;
    }
    decrypted_.fetch_add(1, std::memory_order_relaxed);
    if (options_.on_decrypted)
      options_.on_decrypted(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    c.key = std::make_shared<const Key>(Key{std::move(decrypted->secret), decrypted->pubkey, c.file.source,
                                            std::move(decrypted->derivation_path), c.file.path.string(),
                                            c.file.password_path.string(), c.sha256, PasswordDigest(*password)});
  }

  // The calling thread reports progress, so the callback never runs on two threads at once.
  void report_progress_until_done() {
    std::unique_lock lock(mutex_);
    while (!done_cv_.wait_for(lock, options_.progress_interval, [this] { return done_ == candidates_.size(); })) {
      auto progress = snapshot();
      lock.unlock();
      if (options_.on_progress) options_.on_progress(progress);
      lock.lock();
    }
    auto progress = snapshot();
    lock.unlock();
    if (options_.on_progress && !candidates_.empty()) options_.on_progress(progress);  // the final 100%
  }

  LoadProgress snapshot() const {
    LoadProgress p;
    p.done = done_;
    p.total = candidates_.size();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    p.rate_per_second = elapsed > 0 ? static_cast<double>(p.done) / elapsed : 0;
    if (p.rate_per_second > 0)
      p.eta = std::chrono::seconds(static_cast<long long>(static_cast<double>(p.total - p.done) / p.rate_per_second));
    return p;
  }

  std::vector<Candidate>& candidates_;
  const std::vector<std::size_t> pending_;
  const LoadOptions& options_;
  const KeyCache* cache_;
  const KeyCacheSecrets* secrets_;

  std::atomic<std::size_t> next_{0};
  std::atomic<std::size_t> decrypted_{0}, from_cache_{0};
  std::mutex mutex_;  // guards done_
  std::condition_variable done_cv_;
  std::size_t done_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// (path, content hash) of a key, to find the key decrypted before from an unchanged file.
std::string identity(std::string_view path, const Bytes32& sha256) { return std::string(path) + '\0' + to_hex(sha256); }

}  // namespace

LoadedKeys load_keys(const std::vector<KeyDirectory>& directories, const LoadOptions& options, const KnownKeys& known) {
  const auto start = std::chrono::steady_clock::now();
  LoadedKeys out;
  LoadReport& report = out.report;

  std::vector<Candidate> candidates;
  for (const auto& dir : directories)
    for (auto& file : list_keystore_files(dir, report.failures))
      candidates.push_back({std::move(file), {}, {}, {}, {}, {}});

  // Read every file and hash it (cheap next to one KDF), to find what is already decrypted.
  std::map<std::string, std::shared_ptr<const Key>> in_memory;
  for (const auto& k : known.in_memory) in_memory.emplace(identity(k->keystore_path, k->keystore_sha256), k);
  std::map<std::string, std::size_t> cached;
  if (known.cache)
    for (std::size_t i = 0; i < known.cache->entries().size(); ++i) {
      const auto& e = known.cache->entries()[i];
      cached.emplace(identity(e.keystore_path, e.keystore_sha256), i);
    }
  std::vector<std::size_t> pending;
  std::size_t already_done = 0;
  bool cache_wanted = false;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    Candidate& c = candidates[i];
    auto text = read_small_file(c.file.path);
    if (!text) {
      c.failure = "cannot read the keystore: " + text.error();
      ++already_done;
      continue;
    }
    c.content = std::move(*text);
    c.sha256 = sha256_of(c.content);
    const auto id = identity(c.file.path.string(), c.sha256);
    if (auto it = in_memory.find(id); it != in_memory.end() && it->second->source == c.file.source &&
                                      it->second->password_path == c.file.password_path.string()) {
      c.key = it->second;
      ++already_done;
      ++report.reused;
      continue;
    }
    if (auto it = cached.find(id); it != cached.end() && known.cache->entries()[it->second].source == c.file.source &&
                                   known.cache->entries()[it->second].password_path == c.file.password_path.string()) {
      c.cache_entry = it->second;
      cache_wanted = true;
    }
    pending.push_back(i);
  }

  // One KDF for every cached key; only when the cache holds something this load needs.
  std::optional<KeyCacheSecrets> secrets;
  if (cache_wanted) {
    auto decrypted = known.cache->decrypt(options.limits);
    if (decrypted)
      secrets.emplace(std::move(*decrypted));
    else
      report.cache_problem = "cannot be decrypted: " + decrypted.error();
  }

  Loader loader(candidates, std::move(pending), options, known.cache, secrets ? &*secrets : nullptr);
  loader.run(already_done);
  secrets.reset();  // wipes the cached secrets now, not at the end of the scope
  report.decrypted = loader.decrypted();
  report.from_cache = loader.from_cache();

  // In path order: the first file with a pubkey wins, however the work was scheduled.
  std::unordered_set<crypto::PublicKey, BytesHash> seen;
  for (auto& c : candidates) {
    if (!c.key) {
      if (!c.failure.empty()) report.failures.push_back({c.file.path, std::move(c.failure), c.file.source});
      continue;
    }
    if (!seen.insert(c.key->pubkey).second) {
      ++report.duplicates;
      continue;
    }
    out.keys.push_back(std::move(c.key));
  }
  report.loaded = out.keys.size();
  std::stable_sort(report.failures.begin(), report.failures.end(),
                   [](const LoadFailure& a, const LoadFailure& b) { return a.path < b.path; });
  report.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return out;
}

LoadReport load_keystore_directory(const fs::path& keystores_dir, const fs::path& passwords_dir, KeyStore& store,
                                   const LoadOptions& options) {
  auto loaded = load_keys({{keystores_dir, passwords_dir, {}, options.source}}, options);
  LoadReport report = std::move(loaded.report);
  report.loaded = 0;
  for (auto& key : loaded.keys) ++(store.insert(std::move(key)) ? report.loaded : report.duplicates);
  return report;
}

}  // namespace cachet::keys

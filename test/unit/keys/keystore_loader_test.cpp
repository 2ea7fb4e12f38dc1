// Loading a keystore directory: good files, each kind of bad file, duplicates, CRLF passwords, progress callbacks.
#include <gtest/gtest.h>

#include <atomic>
#include <cachet/keys/keystore_loader.hpp>
#include <fstream>
#include <mutex>
#include <random>

using namespace cachet;
using namespace cachet::keys;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("cachet-loader-test-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_ / "keystores");
    fs::create_directories(path_ / "passwords");
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path keystores() const { return path_ / "keystores"; }
  fs::path passwords() const { return path_ / "passwords"; }
  fs::path root() const { return path_; }

 private:
  fs::path path_;
};

void write(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

crypto::SecretKey key(std::uint8_t i) {
  Bytes32 bytes{};
  bytes[0] = 0x11;
  bytes[31] = i;
  return crypto::SecretKey::from_bytes(bytes).value();
}

// pbkdf2 with c=2: a real keystore that decrypts in microseconds.
std::string fast_keystore(const crypto::SecretKey& sk, std::string_view password, std::string path = "") {
  crypto::KeystoreParams params;
  params.kdf = crypto::Kdf::Pbkdf2;
  params.pbkdf2_c = 2;
  params.derivation_path = std::move(path);
  return crypto::encrypt_keystore(sk, password, params).value();
}

const LoadFailure* failure_for(const LoadReport& report, const std::string& name) {
  for (const auto& f : report.failures)
    if (f.path.filename() == name) return &f;
  return nullptr;
}

}  // namespace

TEST(KeystoreLoader, LoadsGoodFilesAndReportsBadOnes) {
  TempDir dir;
  write(dir.keystores() / "a.json", fast_keystore(key(1), "password a", "m/12381/3600/1/0/0"));
  write(dir.passwords() / "a.txt", "password a\n");
  write(dir.keystores() / "b.json", fast_keystore(key(2), "password b"));
  write(dir.passwords() / "b.txt", "password b\r\n");  // written on Windows
  write(dir.keystores() / "c.json", fast_keystore(key(3), "password c"));
  write(dir.passwords() / "c.txt", "password c");  // no newline at all
  write(dir.keystores() / "dup.json", fast_keystore(key(1), "password dup"));
  write(dir.passwords() / "dup.txt", "password dup\n");
  write(dir.keystores() / "wrong.json", fast_keystore(key(4), "the real one"));
  write(dir.passwords() / "wrong.txt", "not the real one\n");
  write(dir.keystores() / "nopass.json", fast_keystore(key(5), "x"));
  write(dir.keystores() / "garbage.json", "{\"version\": 4, \"crypto\": ");
  write(dir.passwords() / "garbage.txt", "x\n");
  // Not keystores: another extension, and a sub-directory (the scan is not recursive).
  write(dir.keystores() / "notes.txt", "hello");
  fs::create_directories(dir.keystores() / "sub");
  write(dir.keystores() / "sub" / "d.json", fast_keystore(key(6), "d"));
  write(dir.passwords() / "d.txt", "d");

  KeyStore store;
  LoadOptions options;
  options.source = KeySource::Managed;
  options.threads = 2;
  options.progress_interval = std::chrono::milliseconds(1);
  std::mutex mutex;
  std::vector<LoadProgress> progress;
  options.on_progress = [&](const LoadProgress& p) {
    std::lock_guard lock(mutex);
    progress.push_back(p);
  };
  std::atomic<int> decrypted{0};
  options.on_decrypted = [&](double seconds) {
    EXPECT_GE(seconds, 0);
    ++decrypted;
  };

  auto report = load_keystore_directory(dir.keystores(), dir.passwords(), store, options);

  EXPECT_EQ(report.loaded, 3u);
  EXPECT_EQ(report.duplicates, 1u);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(decrypted.load(), 4);  // a, b, c and the duplicate
  ASSERT_EQ(report.failures.size(), 3u);
  // Sorted by path.
  EXPECT_EQ(report.failures[0].path.filename(), "garbage.json");
  EXPECT_EQ(report.failures[1].path.filename(), "nopass.json");
  EXPECT_EQ(report.failures[2].path.filename(), "wrong.json");
  EXPECT_NE(failure_for(report, "garbage.json")->reason.find("not valid JSON"), std::string::npos);
  EXPECT_EQ(failure_for(report, "nopass.json")->reason,
            "missing password file " + (dir.passwords() / "nopass.txt").string());
  EXPECT_EQ(failure_for(report, "wrong.json")->reason, "checksum mismatch (wrong password?)");
  EXPECT_EQ(failure_for(report, "wrong.json")->path, dir.keystores() / "wrong.json");

  auto a = store.find(key(1).public_key());
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->source, KeySource::Managed);
  EXPECT_EQ(a->derivation_path, "m/12381/3600/1/0/0");
  EXPECT_EQ(a->keystore_path, (dir.keystores() / "a.json").string());  // a.json sorts before dup.json
  EXPECT_NE(store.find(key(2).public_key()), nullptr);
  EXPECT_NE(store.find(key(3).public_key()), nullptr);
  EXPECT_EQ(store.find(key(6).public_key()), nullptr);

  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().done, 7u);
  EXPECT_EQ(progress.back().total, 7u);
}

TEST(KeystoreLoader, PasswordNewlineHandling) {
  // EIP-2335 normalisation removes control characters anyway, so the test checks the loader's part through a
  // password whose last "line" is whitespace that must survive: "pw \r\n" is the password "pw ".
  TempDir dir;
  write(dir.keystores() / "k.json", fast_keystore(key(1), "pw "));
  write(dir.passwords() / "k.txt", "pw \r\n");
  write(dir.keystores() / "l.json", fast_keystore(key(2), "pw  "));
  write(dir.passwords() / "l.txt", "pw \n");  // one space short: must fail
  KeyStore store;
  auto report = load_keystore_directory(dir.keystores(), dir.passwords(), store, {.threads = 1});
  EXPECT_EQ(report.loaded, 1u);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].path.filename(), "l.json");
}

TEST(KeystoreLoader, ProgressIsReportedPeriodically) {
  TempDir dir;
  crypto::KeystoreParams params;
  params.kdf = crypto::Kdf::Scrypt;
  params.scrypt_n = 1 << 14;  // ~16 MiB and tens of milliseconds each
  for (std::uint8_t i = 1; i <= 6; ++i) {
    write(dir.keystores() / ("k" + std::to_string(i) + ".json"),
          crypto::encrypt_keystore(key(i), "pw", params).value());
    write(dir.passwords() / ("k" + std::to_string(i) + ".txt"), "pw\n");
  }
  KeyStore store;
  std::vector<LoadProgress> progress;  // called from the loading thread only
  LoadOptions options;
  options.threads = 1;
  options.progress_interval = std::chrono::milliseconds(5);
  options.on_progress = [&](const LoadProgress& p) { progress.push_back(p); };
  auto report = load_keystore_directory(dir.keystores(), dir.passwords(), store, options);
  EXPECT_EQ(report.loaded, 6u);
  EXPECT_TRUE(report.failures.empty());
  ASSERT_GE(progress.size(), 3u);
  for (std::size_t i = 1; i < progress.size(); ++i) EXPECT_GE(progress[i].done, progress[i - 1].done);
  EXPECT_EQ(progress.back().done, 6u);
  EXPECT_GT(progress.back().rate_per_second, 0);
  EXPECT_EQ(progress.back().eta.count(), 0);
}

TEST(KeystoreLoader, LimitsApply) {
  TempDir dir;
  write(dir.keystores() / "k.json", fast_keystore(key(1), "pw"));  // pbkdf2 c=2
  write(dir.passwords() / "k.txt", "pw");
  KeyStore store;
  LoadOptions options;
  options.limits.max_pbkdf2_c = 1;
  auto report = load_keystore_directory(dir.keystores(), dir.passwords(), store, options);
  EXPECT_EQ(report.loaded, 0u);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_NE(report.failures[0].reason.find("exceeds the limit"), std::string::npos);
}

TEST(KeystoreLoader, MissingOrEmptyDirectory) {
  TempDir dir;
  KeyStore store;
  auto missing = load_keystore_directory(dir.root() / "nope", dir.passwords(), store);
  EXPECT_EQ(missing.loaded, 0u);
  ASSERT_EQ(missing.failures.size(), 1u);
  EXPECT_EQ(missing.failures[0].path, dir.root() / "nope");
  EXPECT_NE(missing.failures[0].reason.find("does not exist"), std::string::npos);

  int calls = 0;
  LoadOptions options;  // threads = 0: all cores
  options.on_progress = [&](const LoadProgress&) { ++calls; };
  auto empty = load_keystore_directory(dir.keystores(), dir.passwords(), store, options);
  EXPECT_EQ(empty.loaded, 0u);
  EXPECT_TRUE(empty.failures.empty());
  EXPECT_EQ(calls, 0);
}

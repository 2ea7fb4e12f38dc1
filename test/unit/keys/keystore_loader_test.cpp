// Loading a keystore directory: good files, each kind of bad file, duplicates, CRLF passwords, progress callbacks.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cachet/keys/keystore_loader.hpp>
#include <fstream>
#include <future>
#include <mutex>
#include <random>

#include "key_test_files.hpp"

using namespace cachet;
using namespace cachet::keys;
using namespace cachet::keys::test;
namespace fs = std::filesystem;

namespace {

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

TEST(KeystoreLoader, TheFirstPathWinsHoweverTheWorkIsScheduled) {
  // a.json's KDF is slow and z.json's (the same key) is instant, so on two threads z.json finishes first: the
  // winner must still be a.json, the first in sorted order. The same for a fast first and a slow second.
  TempDir dir;
  crypto::KeystoreParams slow;
  slow.kdf = crypto::Kdf::Scrypt;
  slow.scrypt_n = 1 << 14;
  write(dir.keystores() / "a.json", crypto::encrypt_keystore(key(1), "pw", slow).value());
  write(dir.keystores() / "z.json", fast_keystore(key(1), "pw"));
  write(dir.keystores() / "b.json", fast_keystore(key(2), "pw"));
  write(dir.keystores() / "y.json", crypto::encrypt_keystore(key(2), "pw", slow).value());
  for (const char* name : {"a", "z", "b", "y"}) write(dir.passwords() / (std::string(name) + ".txt"), "pw\n");
  for (int run = 0; run < 3; ++run) {
    KeyStore store;
    auto report = load_keystore_directory(dir.keystores(), dir.passwords(), store, {.threads = 2});
    EXPECT_EQ(report.loaded, 2u);
    EXPECT_EQ(report.duplicates, 2u);
    ASSERT_NE(store.find(key(1).public_key()), nullptr);
    EXPECT_EQ(store.find(key(1).public_key())->keystore_path, (dir.keystores() / "a.json").string());
    EXPECT_EQ(store.find(key(2).public_key())->keystore_path, (dir.keystores() / "b.json").string());
  }
}

TEST(KeystoreLoader, EntriesThatAreNotFilesFailWithTheirReasonAndNeverBlock) {
  TempDir dir;
  write(dir.keystores() / "good.json", fast_keystore(key(1), "pw"));
  write(dir.passwords() / "good.txt", "pw");
  fs::create_directory_symlink(dir.keystores() / "loop2.json", dir.keystores() / "loop1.json");
  fs::create_directory_symlink(dir.keystores() / "loop1.json", dir.keystores() / "loop2.json");
  fs::create_symlink(dir.keystores() / "nowhere", dir.keystores() / "dangling.json");
  fs::create_directories(dir.keystores() / "folder.json");
  ASSERT_EQ(::mkfifo((dir.keystores() / "fifo.json").c_str(), 0600), 0);
  // A good keystore whose password "file" is a FIFO: refused at once, not waited on.
  write(dir.keystores() / "pwfifo.json", fast_keystore(key(2), "pw"));
  ASSERT_EQ(::mkfifo((dir.passwords() / "pwfifo.txt").c_str(), 0600), 0);
  // A link to a good keystore is a keystore.
  write(dir.root() / "elsewhere.json", fast_keystore(key(3), "pw"));
  fs::create_symlink(dir.root() / "elsewhere.json", dir.keystores() / "linked.json");
  write(dir.passwords() / "linked.txt", "pw");

  KeyStore store;
  // If anything blocked (opening a FIFO waits for a writer), the load would never finish.
  auto done = std::async(std::launch::async, [&] {
    return load_keystore_directory(dir.keystores(), dir.passwords(), store, {.threads = 2});
  });
  ASSERT_EQ(done.wait_for(std::chrono::seconds(20)), std::future_status::ready) << "the load blocked";
  auto report = done.get();
  EXPECT_EQ(report.loaded, 2u);  // good.json and linked.json
  EXPECT_NE(store.find(key(3).public_key()), nullptr);
  ASSERT_EQ(report.failures.size(), 6u);
  EXPECT_EQ(failure_for(report, "loop1.json")->reason, "a symbolic link loop");
  EXPECT_EQ(failure_for(report, "loop2.json")->reason, "a symbolic link loop");
  EXPECT_EQ(failure_for(report, "dangling.json")->reason, "a dangling symbolic link");
  EXPECT_EQ(failure_for(report, "folder.json")->reason, "a directory, not a keystore file");
  EXPECT_EQ(failure_for(report, "fifo.json")->reason, "a FIFO, not a keystore file");
  EXPECT_EQ(failure_for(report, "pwfifo.json")->reason,
            "cannot read password file " + (dir.passwords() / "pwfifo.txt").string() + ": not a regular file");
  EXPECT_EQ(failure_for(report, "fifo.json")->path, dir.keystores() / "fifo.json");
}

TEST(KeystoreLoader, OnePasswordFileForEveryKeystore) {
  TempDir dir;
  write(dir.keystores() / "a.json", fast_keystore(key(1), "shared"));
  write(dir.keystores() / "b.json", fast_keystore(key(2), "shared"));
  write(dir.keystores() / "c.json", fast_keystore(key(3), "another"));
  write(dir.root() / "password.txt", "shared\n");
  auto loaded = load_keys({{dir.keystores(), {}, dir.root() / "password.txt", KeySource::External}}, {});
  EXPECT_EQ(loaded.report.loaded, 2u);
  ASSERT_EQ(loaded.report.failures.size(), 1u);
  EXPECT_EQ(loaded.report.failures[0].path.filename(), "c.json");
  EXPECT_EQ(loaded.keys[0]->password_path, (dir.root() / "password.txt").string());
}

TEST(KeystoreLoader, ReusesKeysOfUnchangedFilesAndDecryptsChangedOnes) {
  TempDir dir;
  write(dir.keystores() / "a.json", fast_keystore(key(1), "pw"));
  write(dir.keystores() / "b.json", fast_keystore(key(2), "pw"));
  write(dir.passwords() / "a.txt", "pw");
  write(dir.passwords() / "b.txt", "pw");
  const std::vector<KeyDirectory> dirs{{dir.keystores(), dir.passwords(), {}, KeySource::External}};
  auto first = load_keys(dirs, {});
  EXPECT_EQ(first.report.decrypted, 2u);
  write(dir.keystores() / "b.json", fast_keystore(key(2), "pw"));  // same key, new salt: a changed file
  auto second = load_keys(dirs, {}, {first.keys, nullptr});
  EXPECT_EQ(second.report.reused, 1u);
  EXPECT_EQ(second.report.decrypted, 1u);
  ASSERT_EQ(second.keys.size(), 2u);
  EXPECT_EQ(second.keys[0], first.keys[0]);  // the same object: nothing was decrypted for it
  EXPECT_NE(second.keys[1], first.keys[1]);
}

// The key service: warm starts from the key cache (one KDF), changed/removed files and a corrupt cache, reloads that
// add, remove and change keys without a staying key ever missing, coalesced reloads, keymanager imports and deletes
// keeping the cache in step.
#include <gtest/gtest.h>

#include <atomic>
#include <cachet/keys/key_cache.hpp>
#include <cachet/keys/key_service.hpp>
#include <thread>

#include "key_test_files.hpp"

using namespace cachet;
using namespace cachet::keys;
using namespace cachet::keys::test;
using namespace std::chrono_literals;

namespace {

KeyServiceOptions options_for(const TempDir& dir) {
  KeyServiceOptions o;
  o.directories.push_back({dir.keystores(), dir.passwords(), {}, KeySource::External});
  o.managed_dir = dir.root() / "managed";
  std::filesystem::create_directories(o.managed_dir);
  o.directories.push_back({o.managed_dir, o.managed_dir, {}, KeySource::Managed});
  o.cache_file = dir.root() / "key-cache";
  o.cache_kdf.scrypt_n = 1 << 10;  // tests only
  o.load.threads = 2;
  return o;
}

std::size_t cache_entries(const TempDir& dir) {
  auto cache = KeyCache::read(dir.root() / "key-cache");
  return cache && *cache ? (*cache)->entries().size() : 0;
}

ReloadStatus wait_for_reload(const KeyService& service) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = service.reload_status();
    if (s.state != ReloadState::Running && s.state != ReloadState::Idle) return s;
    std::this_thread::sleep_for(5ms);
  }
  return {};
}

}  // namespace

TEST(KeyService, WarmStartTakesEveryKeyFromTheCache) {
  TempDir dir;
  for (std::uint8_t i = 1; i <= 5; ++i) write_keystore(dir, "k" + std::to_string(i), i);
  {
    KeyStore store;
    KeyService service(store, options_for(dir));
    auto report = service.load();
    EXPECT_EQ(report.decrypted, 5u);
    EXPECT_EQ(report.from_cache, 0u);
    EXPECT_EQ(store.size(), 5u);
  }
  EXPECT_EQ(cache_entries(dir), 5u);
  const auto written = read(dir.root() / "key-cache");
  KeyStore store;
  KeyService service(store, options_for(dir));
  auto report = service.load();
  EXPECT_EQ(report.decrypted, 0u);
  EXPECT_EQ(report.from_cache, 5u);
  EXPECT_TRUE(report.cache_problem.empty());
  ASSERT_EQ(store.size(), 5u);
  for (std::uint8_t i = 1; i <= 5; ++i) {
    auto k = store.find(key(i).public_key());
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->secret.to_bytes(), key(i).to_bytes());
  }
  EXPECT_EQ(read(dir.root() / "key-cache"), written);  // nothing changed: not rewritten
}

TEST(KeyService, ChangedAndRemovedFilesAreNotTakenFromTheCache) {
  TempDir dir;
  for (std::uint8_t i = 1; i <= 4; ++i) write_keystore(dir, "k" + std::to_string(i), i);
  {
    KeyStore store;
    KeyService(store, options_for(dir)).load();
  }
  write_keystore(dir, "k2", 2);                                        // same key, new file content
  write(dir.keystores() / "k3.json", fast_keystore(key(9), "pw-k3"));  // another key under the same name
  std::filesystem::remove(dir.keystores() / "k4.json");                // its password file stays
  KeyStore store;
  KeyService service(store, options_for(dir));
  auto report = service.load();
  EXPECT_EQ(report.from_cache, 1u);
  EXPECT_EQ(report.decrypted, 2u);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_NE(store.find(key(9).public_key()), nullptr);
  EXPECT_EQ(store.find(key(3).public_key()), nullptr);
  EXPECT_EQ(store.find(key(4).public_key()), nullptr);
  EXPECT_EQ(cache_entries(dir), 3u);  // rewritten with what is loaded now
}

TEST(KeyService, ACorruptCacheIsIgnoredAndRebuilt) {
  TempDir dir;
  for (std::uint8_t i = 1; i <= 3; ++i) write_keystore(dir, "k" + std::to_string(i), i);
  write(dir.root() / "key-cache", "not json at all");
  std::vector<std::string> problems;
  auto options = options_for(dir);
  options.on_cache_problem = [&](const std::string& p) { problems.push_back(p); };
  {
    KeyStore store;
    auto report = KeyService(store, options).load();
    EXPECT_EQ(report.decrypted, 3u);
    EXPECT_EQ(store.size(), 3u);
  }
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("unreadable"), std::string::npos);
  KeyStore store;
  auto report = KeyService(store, options_for(dir)).load();
  EXPECT_EQ(report.from_cache, 3u);
}

TEST(KeyService, ACacheWhosePasswordChangedIsRebuilt) {
  TempDir dir;
  for (std::uint8_t i = 1; i <= 3; ++i) write_keystore(dir, "k" + std::to_string(i), i);
  {
    KeyStore store;
    KeyService(store, options_for(dir)).load();
  }
  // A new password for k1 (and its keystore re-encrypted with it): the cache cannot be opened any more.
  write(dir.keystores() / "k1.json", fast_keystore(key(1), "new"));
  write(dir.passwords() / "k1.txt", "new\n");
  KeyStore store;
  auto report = KeyService(store, options_for(dir)).load();
  EXPECT_EQ(report.decrypted, 3u);
  EXPECT_NE(report.cache_problem.find("checksum mismatch"), std::string::npos);
  EXPECT_EQ(store.size(), 3u);
  KeyStore again;
  EXPECT_EQ(KeyService(again, options_for(dir)).load().from_cache, 3u);
}

TEST(KeyService, WithoutACacheFileNothingIsWritten) {
  TempDir dir;
  write_keystore(dir, "k1", 1);
  auto options = options_for(dir);
  options.cache_file.clear();
  KeyStore store;
  KeyService(store, options).load();
  EXPECT_EQ(store.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir.root() / "key-cache"));
}

TEST(KeyService, ReloadAddsRemovesAndChangesKeysAndAStayingKeyIsNeverMissing) {
  TempDir dir;
  for (std::uint8_t i = 1; i <= 3; ++i) write_keystore(dir, "k" + std::to_string(i), i);
  KeyStore store;
  KeyService service(store, options_for(dir));
  service.load();
  ASSERT_EQ(store.size(), 3u);

  // The object that signs for k2 stays the same through its file's changes: a sign in flight checks that its key is
  // still the one stored, and k2 was never deleted.
  const auto k2 = store.find(key(2).public_key());
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> missing{0}, lookups{0};
  std::jthread reader([&] {
    while (!stop) {
      for (std::uint8_t i : {1, 2}) {  // k1 stays as it is; k2's file changes
        if (!store.find(key(i).public_key())) ++missing;
        ++lookups;
      }
    }
  });
  for (int round = 0; round < 5; ++round) {
    write_keystore(dir, "k2", 2);  // changed file, same key
    write_keystore(dir, "new" + std::to_string(round), static_cast<std::uint8_t>(10 + round));
    if (round == 0) std::filesystem::remove(dir.keystores() / "k3.json");
    service.request_reload();
    auto s = wait_for_reload(service);
    ASSERT_EQ(s.state, ReloadState::Completed);
    EXPECT_EQ(s.added, 1u);
    EXPECT_EQ(s.changed, 1u);
    EXPECT_EQ(s.removed, round == 0 ? 1u : 0u);
    EXPECT_EQ(s.failed, 0u);
    EXPECT_NE(store.find(key(static_cast<std::uint8_t>(10 + round)).public_key()), nullptr);
  }
  stop = true;
  reader.join();
  EXPECT_GT(lookups.load(), 0u);
  EXPECT_EQ(missing.load(), 0u);
  EXPECT_EQ(store.find(key(3).public_key()), nullptr);
  EXPECT_EQ(store.find(key(2).public_key()), k2);
  EXPECT_EQ(store.size(), 7u);
  EXPECT_EQ(cache_entries(dir), 7u);
  // The cache names k2's current file: a warm start takes it from the cache.
  KeyStore warm;
  auto report = KeyService(warm, options_for(dir)).load();
  EXPECT_EQ(report.from_cache, 7u);
  EXPECT_EQ(report.decrypted, 0u);
}

TEST(KeyService, ReloadsAreCoalescedNeverConcurrent) {
  TempDir dir;
  // Slow enough (scrypt 2^12, milliseconds) that requests arrive while a reload runs.
  crypto::KeystoreParams slow;
  slow.scrypt_n = 1 << 12;
  for (std::uint8_t i = 1; i <= 4; ++i) {
    write(dir.keystores() / ("k" + std::to_string(i) + ".json"), crypto::encrypt_keystore(key(i), "pw", slow).value());
    write(dir.passwords() / ("k" + std::to_string(i) + ".txt"), "pw");
  }
  std::atomic<int> running{0}, most{0}, runs{0};
  std::atomic<bool> seen_loading{false};
  KeyService* service_ptr = nullptr;
  auto options = options_for(dir);
  options.cache_file.clear();
  options.on_reloaded = [&](const LoadReport&) { ++runs; };
  options.load.on_decrypted = [&](double) {
    // /healthcheck's view while keystores load: loading, with done <= total.
    if (service_ptr) {
      auto l = service_ptr->loading();
      if (l.loading && l.total == 4 && l.done < 4) seen_loading = true;
    }
    int now = ++running;
    most = std::max(most.load(), now);
    std::this_thread::sleep_for(1ms);
    --running;
  };
  KeyStore store;
  KeyService service(store, options);
  service_ptr = &service;
  service.load();
  most = 0;
  // A changed file each time (two encryptions of k1 in turn), so each reload has work to do.
  const std::string versions[] = {crypto::encrypt_keystore(key(1), "pw", slow).value(),
                                  crypto::encrypt_keystore(key(1), "pw", slow).value()};
  for (int i = 0; i < 20; ++i) {
    write(dir.keystores() / "k1.json", versions[i % 2]);
    service.request_reload();
  }
  auto s = wait_for_reload(service);
  EXPECT_EQ(s.state, ReloadState::Completed);
  EXPECT_GE(runs.load(), 1);
  EXPECT_LT(runs.load(), 20);  // coalesced
  EXPECT_LE(most.load(), 2);   // one reload at a time, on at most two threads
  EXPECT_TRUE(seen_loading.load());
  EXPECT_FALSE(service.loading().loading);
}

TEST(KeyService, AReloadWhoseDirectoryIsGoneFailsAndKeepsTheKeys) {
  TempDir dir;
  write_keystore(dir, "k1", 1);
  KeyStore store;
  KeyService service(store, options_for(dir));
  service.load();
  std::filesystem::remove_all(dir.keystores());
  service.request_reload();
  auto s = wait_for_reload(service);
  EXPECT_EQ(s.state, ReloadState::Failed);
  EXPECT_NE(s.error.find("does not exist"), std::string::npos);
  EXPECT_EQ(store.size(), 1u);
}

TEST(KeyService, ImportAndDeleteKeepTheCacheInStep) {
  TempDir dir;
  write_keystore(dir, "k1", 1);
  KeyStore store;
  KeyService service(store, options_for(dir));
  service.load();
  EXPECT_EQ(cache_entries(dir), 1u);
  auto imported = service.import(fast_keystore(key(7), "imported"), "imported");
  ASSERT_EQ(imported.status, ImportResult::Status::Imported) << imported.message;
  ASSERT_TRUE(service.save_cache());
  EXPECT_EQ(cache_entries(dir), 2u);
  {
    KeyStore warm;
    auto report = KeyService(warm, options_for(dir)).load();
    EXPECT_EQ(report.from_cache, 2u);
    ASSERT_NE(warm.find(key(7).public_key()), nullptr);
    EXPECT_EQ(warm.find(key(7).public_key())->source, KeySource::Managed);
  }
  EXPECT_EQ(service.remove(key(7).public_key()).status, DeleteResult::Status::Deleted);
  ASSERT_TRUE(service.save_cache());
  EXPECT_EQ(cache_entries(dir), 1u);
  EXPECT_EQ(service.remove(key(1).public_key()).status, DeleteResult::Status::Error);  // read-only
}

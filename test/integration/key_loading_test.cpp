// Key loading against the real binary: the encrypted key cache (warm restart with one KDF, a changed keystore
// re-decrypted, a corrupt cache rebuilt, mode 0600 and no secret in the clear, EIP-2335's cost by default), reloads
// through POST /reload and SIGHUP under signing load, the one-password flag, and signing during a large keymanager
// import.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/json.hpp>
#include <cachet/crypto/keystore.hpp>
#include <cachet/util/bytes.hpp>
#include <csignal>
#include <thread>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/requests.hpp"
#include "support/signer_process.hpp"

using namespace cachet;
using namespace cachet::test;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

bool signs(std::uint16_t port, const std::string& pubkey) {
  return HttpClient(port).post("/api/v1/eth2/sign/" + pubkey, randao_request(5)).status == 200;
}

// The value of an unlabelled series (or -1).
double metric(std::uint16_t metrics_port, const std::string& name) {
  auto text = HttpClient(metrics_port).get("/metrics").body;
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

std::vector<std::string> data_dir_args(const fs::path& data_dir, const fs::path& keys, const fs::path& passwords) {
  return {"--data-dir",      data_dir.string(), "--keystores-path", keys.string(), "--keystores-passwords-path",
          passwords.string()};
}

std::string keystore_for(const KnownKey& key, const std::string& password) {
  crypto::KeystoreParams params;
  params.kdf = crypto::Kdf::Pbkdf2;
  params.pbkdf2_c = 2;
  return *crypto::encrypt_keystore(*crypto::SecretKey::from_bytes(*from_hex(key.secret_hex)), password, params);
}

json::value wait_for_reload(std::uint16_t port, const std::map<std::string, std::string>& headers = {}) {
  HttpClient client(port);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = client.request("GET", "/reload", {}, headers);
    if (r.status == 200) {
      auto v = json::parse(r.body);
      if (v.at("status").as_string() != "running" && v.at("status").as_string() != "idle") return v;
    }
    std::this_thread::sleep_for(20ms);
  }
  return {};
}

// Signs blocks continuously with `pubkeys` on two connections; counts answers that are not 200.
class SigningLoad {
 public:
  SigningLoad(std::uint16_t port, std::vector<std::string> pubkeys) {
    for (int t = 0; t < 2; ++t)
      threads_.emplace_back([this, port, pubkeys, t] {
        HttpClient client(port);
        for (std::uint64_t i = 0; !stop_; ++i) {
          const auto& pk = pubkeys[(i + static_cast<std::uint64_t>(t)) % pubkeys.size()];
          // Blocks go through slashing protection and its check, after the record, that the key was not deleted
          // meanwhile; each thread takes its own slots, so none is a double proposal.
          auto r = client.post("/api/v1/eth2/sign/" + pk, block_request(2 * i + static_cast<std::uint64_t>(t) + 1));
          ++(r.status == 200 ? ok_ : failed_);
        }
      });
  }
  ~SigningLoad() { stop(); }
  void stop() {
    stop_ = true;
    threads_.clear();
  }
  std::size_t ok() const { return ok_; }
  std::size_t failed() const { return failed_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> ok_{0}, failed_{0};
  std::vector<std::jthread> threads_;
};

}  // namespace

TEST(KeyCacheRestart, WarmRestartUsesOneKdfAndEveryKeySigns) {
  TempDir dir;
  const auto keys = interop_keys(6);
  auto [k, p] = write_keystores(dir.path(), keys);
  const auto data_dir = dir.path() / "data";
  {
    SignerProcess cold(data_dir_args(data_dir, k, p));
    ASSERT_TRUE(cold.ready()) << cold.log();
    EXPECT_EQ(metric(cold.metrics_port(), "cachet_keystore_decrypt_duration_seconds_count"), 6);
    EXPECT_EQ(cold.stop(SIGTERM), 0);
  }
  SignerProcess warm(data_dir_args(data_dir, k, p));
  ASSERT_TRUE(warm.ready()) << warm.log();
  // No keystore was decrypted: all six came from the cache, under its one KDF.
  EXPECT_EQ(metric(warm.metrics_port(), "cachet_keystore_decrypt_duration_seconds_count"), 0);
  EXPECT_NE(warm.log().find("6 keys (6 from the key cache, 0 decrypted"), std::string::npos) << warm.log();
  for (const auto& key : keys) EXPECT_TRUE(signs(warm.port(), key.pubkey_hex)) << key.pubkey_hex;
}

TEST(KeyCacheRestart, AChangedKeystoreIsDecryptedAgainAndACorruptCacheIsRebuilt) {
  TempDir dir;
  const auto keys = interop_keys(4);
  auto [k, p] = write_keystores(dir.path(), keys);
  const auto data_dir = dir.path() / "data";
  {
    SignerProcess first(data_dir_args(data_dir, k, p));
    ASSERT_TRUE(first.ready()) << first.log();
  }
  write_file(k / "keystore-2.json", keystore_for(keys[2], "test password 2"));  // same key and password, new file
  {
    SignerProcess changed(data_dir_args(data_dir, k, p));
    ASSERT_TRUE(changed.ready()) << changed.log();
    EXPECT_EQ(metric(changed.metrics_port(), "cachet_keystore_decrypt_duration_seconds_count"), 1);
    for (const auto& key : keys) EXPECT_TRUE(signs(changed.port(), key.pubkey_hex));
  }
  write_file(data_dir / "key-cache", "{\"version\":1,\"entries\":[{\"garbage");
  {
    SignerProcess corrupt(data_dir_args(data_dir, k, p));
    ASSERT_TRUE(corrupt.ready()) << corrupt.log();
    EXPECT_NE(corrupt.log().find("the key cache is unreadable"), std::string::npos) << corrupt.log();
    EXPECT_EQ(metric(corrupt.metrics_port(), "cachet_keystore_decrypt_duration_seconds_count"), 4);
    for (const auto& key : keys) EXPECT_TRUE(signs(corrupt.port(), key.pubkey_hex));
  }
  SignerProcess rebuilt(data_dir_args(data_dir, k, p));
  ASSERT_TRUE(rebuilt.ready()) << rebuilt.log();
  EXPECT_EQ(metric(rebuilt.metrics_port(), "cachet_keystore_decrypt_duration_seconds_count"), 0);
}

TEST(KeyCacheRestart, IsPrivateHoldsNoSecretAndUsesEip2335sCostByDefault) {
  TempDir dir;
  const auto keys = interop_keys(3);
  auto [k, p] = write_keystores(dir.path(), keys);
  const auto data_dir = dir.path() / "data";
  auto args = data_dir_args(data_dir, k, p);
  args.push_back("--key-cache-enabled=true");  // names a --key-cache flag: the default KDF, scrypt 2^18
  SignerProcess signer(args);
  ASSERT_TRUE(signer.ready()) << signer.log();
  const auto file = data_dir / "key-cache";
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const auto text = read_file(file);
  for (const auto& key : keys) {
    const auto secret = *from_hex(key.secret_hex);
    EXPECT_EQ(text.find(std::string(secret.begin(), secret.end())), std::string::npos);
    EXPECT_EQ(text.find(key.secret_hex.substr(2)), std::string::npos);
    EXPECT_NE(text.find(key.pubkey_hex), std::string::npos);  // entries name their (public) keys
  }
  const auto kdf = json::parse(text).at("crypto").at("kdf");
  EXPECT_EQ(kdf.at("function").as_string(), "scrypt");
  EXPECT_EQ(kdf.at("params").at("n").as_int64(), 262144);
  EXPECT_EQ(kdf.at("params").at("r").as_int64(), 8);
}

TEST(KeyCacheRestart, OffByFlag) {
  TempDir dir;
  auto [k, p] = write_keystores(dir.path(), interop_keys(2));
  const auto data_dir = dir.path() / "data";
  auto args = data_dir_args(data_dir, k, p);
  args.push_back("--key-cache-enabled=false");
  SignerProcess signer(args);
  ASSERT_TRUE(signer.ready()) << signer.log();
  EXPECT_FALSE(fs::exists(data_dir / "key-cache"));
}

TEST(Reload, AddsRemovesAndChangesKeysUnderSigningLoad) {
  TempDir dir;
  const auto keys = interop_keys(8);
  auto [k, p] = write_keystores(dir.path(), std::vector<KnownKey>(keys.begin(), keys.begin() + 5));
  const auto data_dir = dir.path() / "data";
  SignerProcess signer(data_dir_args(data_dir, k, p));
  ASSERT_TRUE(signer.ready()) << signer.log();
  const std::string token = [&] {
    auto t = read_file(data_dir / "api-token.txt");
    return t.substr(0, t.find('\n'));
  }();
  const std::map<std::string, std::string> auth{{"Authorization", "Bearer " + token}};
  HttpClient client(signer.port());
  // The keymanager token guards /reload too.
  EXPECT_EQ(client.request("POST", "/reload", {}, {}).status, 401u);
  EXPECT_EQ(client.request("GET", "/reload", {}, {{"Authorization", "Bearer nope"}}).status, 403u);
  EXPECT_EQ(client.request("PUT", "/reload", {}, auth).status, 405u);

  // Keys 0 and 1 stay (1's file changes); 2 goes; 5 and 6 arrive.
  SigningLoad load(signer.port(), {keys[0].pubkey_hex, keys[1].pubkey_hex});
  std::this_thread::sleep_for(200ms);
  write_file(k / "keystore-1.json", keystore_for(keys[1], "test password 1"));
  fs::remove(k / "keystore-2.json");
  for (std::size_t i : {5, 6}) {
    write_file(k / ("keystore-" + std::to_string(i) + ".json"), keystore_for(keys[i], "pw " + std::to_string(i)));
    write_file(p / ("keystore-" + std::to_string(i) + ".txt"), "pw " + std::to_string(i) + "\n");
  }
  auto accepted = client.request("POST", "/reload", {}, auth);
  EXPECT_EQ(accepted.status, 202u) << accepted.body;
  auto status = wait_for_reload(signer.port(), auth);
  ASSERT_TRUE(status.is_object());
  EXPECT_EQ(status.at("status").as_string(), "completed");
  EXPECT_EQ(status.at("added").as_int64(), 2);
  EXPECT_EQ(status.at("removed").as_int64(), 1);
  EXPECT_EQ(status.at("changed").as_int64(), 1);
  EXPECT_EQ(status.at("failed").as_int64(), 0);
  std::this_thread::sleep_for(200ms);
  load.stop();
  EXPECT_GT(load.ok(), 0u);
  EXPECT_EQ(load.failed(), 0u) << "a key that stays answered non-2xx during the reload";
  EXPECT_FALSE(signs(signer.port(), keys[2].pubkey_hex));
  for (std::size_t i : {0, 1, 3, 4, 5, 6}) EXPECT_TRUE(signs(signer.port(), keys[i].pubkey_hex)) << i;
  EXPECT_EQ(json::parse(client.get("/api/v1/eth2/publicKeys").body).as_array().size(), 6u);
  // The cache followed: a restart takes all six from it.
  EXPECT_EQ(signer.stop(SIGTERM), 0);
  SignerProcess warm(data_dir_args(data_dir, k, p));
  ASSERT_TRUE(warm.ready()) << warm.log();
  EXPECT_EQ(metric(warm.metrics_port(), "cachet_keystore_decrypt_duration_seconds_count"), 0);
  EXPECT_TRUE(signs(warm.port(), keys[6].pubkey_hex));
}

TEST(Reload, SighupDoesTheSame) {
  TempDir dir;
  const auto keys = interop_keys(4);
  auto [k, p] = write_keystores(dir.path(), std::vector<KnownKey>(keys.begin(), keys.begin() + 2));
  // No data dir, no keymanager token: /reload is open as on Web3Signer.
  SignerProcess signer({"--keystores-path", k.string(), "--keystores-passwords-path", p.string(),
                        "--slashing-protection-enabled=false"});
  ASSERT_TRUE(signer.ready()) << signer.log();
  SigningLoad load(signer.port(), {keys[0].pubkey_hex});
  fs::remove(k / "keystore-1.json");
  write_file(k / "keystore-3.json", keystore_for(keys[3], "pw"));
  write_file(p / "keystore-3.txt", "pw");
  ASSERT_EQ(::kill(signer.pid(), SIGHUP), 0);
  auto status = wait_for_reload(signer.port());
  ASSERT_TRUE(status.is_object());
  EXPECT_EQ(status.at("added").as_int64(), 1);
  EXPECT_EQ(status.at("removed").as_int64(), 1);
  load.stop();
  EXPECT_EQ(load.failed(), 0u);
  EXPECT_TRUE(signs(signer.port(), keys[3].pubkey_hex));
  EXPECT_FALSE(signs(signer.port(), keys[1].pubkey_hex));
  EXPECT_NE(signer.log().find("SIGHUP: reloading keystores"), std::string::npos);
  EXPECT_EQ(signer.stop(SIGTERM), 0);
}

TEST(KeystoresPasswordFile, OnePasswordForEveryKeystore) {
  TempDir dir;
  const auto keys = interop_keys(3);
  const auto k = dir.path() / "keys";
  fs::create_directories(k);
  for (std::size_t i = 0; i < keys.size(); ++i)
    write_file(k / ("k" + std::to_string(i) + ".json"), keystore_for(keys[i], i < 2 ? "one password" : "other"));
  write_file(dir.path() / "password.txt", "one password\n");
  SignerProcess signer({"--keystores-path", k.string(), "--keystores-password-file",
                        (dir.path() / "password.txt").string(), "--slashing-protection-enabled=false"});
  ASSERT_TRUE(signer.ready()) << signer.log();
  EXPECT_TRUE(signs(signer.port(), keys[0].pubkey_hex));
  EXPECT_TRUE(signs(signer.port(), keys[1].pubkey_hex));
  EXPECT_FALSE(signs(signer.port(), keys[2].pubkey_hex));
  EXPECT_NE(signer.log().find("k2.json: checksum mismatch"), std::string::npos) << signer.log();

  auto both = run_cachet({"--keystores-path", k.string(), "--keystores-password-file",
                          (dir.path() / "password.txt").string(), "--keystores-passwords-path", k.string()});
  EXPECT_EQ(both.exit_code, 2) << both.output;
}

TEST(KeymanagerImport, SigningKeepsFlowingDuringALargeImport) {
  TempDir dir;
  const auto keys = interop_keys(25);
  auto [k, p] = write_keystores(dir.path(), std::vector<KnownKey>(keys.begin(), keys.begin() + 1));
  const auto data_dir = dir.path() / "data";
  SignerProcess signer(data_dir_args(data_dir, k, p));
  ASSERT_TRUE(signer.ready()) << signer.log();
  auto token = read_file(data_dir / "api-token.txt");
  token = token.substr(0, token.find('\n'));

  // 24 scrypt keystores (2^14: tens of ms each) and a slashing history of 1,000 validators' blocks.
  crypto::KeystoreParams params;
  params.scrypt_n = 1 << 14;
  json::array keystores, passwords, history;
  for (std::size_t i = 1; i < keys.size(); ++i) {
    keystores.emplace_back(
        *crypto::encrypt_keystore(*crypto::SecretKey::from_bytes(*from_hex(keys[i].secret_hex)), "pw", params));
    passwords.emplace_back("pw");
  }
  for (int v = 0; v < 1000; ++v) {
    Bytes48 pk{};
    pk[0] = 0xa0;
    pk[46] = static_cast<std::uint8_t>(v >> 8);
    pk[47] = static_cast<std::uint8_t>(v);
    json::array blocks;
    for (int s = 0; s < 2; ++s) blocks.push_back(json::object{{"slot", std::to_string(v * 2 + s)}});
    history.push_back(
        json::object{{"pubkey", to_hex(pk)}, {"signed_blocks", blocks}, {"signed_attestations", json::array{}}});
  }
  const std::string interchange = json::serialize(json::object{
      {"metadata", {{"interchange_format_version", "5"}, {"genesis_validators_root", kGenesisValidatorsRoot}}},
      {"data", history}});
  const std::string body = json::serialize(
      json::object{{"keystores", keystores}, {"passwords", passwords}, {"slashing_protection", interchange}});

  SigningLoad load(signer.port(), {keys[0].pubkey_hex});
  std::this_thread::sleep_for(100ms);
  const auto before = load.ok();
  std::atomic<bool> import_done{false};
  std::size_t signed_during_import = 0;
  std::jthread importer([&] {
    HttpClient km(signer.port());
    auto r = km.request("POST", "/eth/v1/keystores", body,
                        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
    EXPECT_EQ(r.status, 200u) << r.body;
    import_done = true;
  });
  while (!import_done) std::this_thread::sleep_for(5ms);
  signed_during_import = load.ok() - before;
  importer.join();
  load.stop();
  EXPECT_EQ(load.failed(), 0u);
  EXPECT_GT(signed_during_import, 10u) << "signing stalled during the import";
  EXPECT_TRUE(signs(signer.port(), keys[24].pubkey_hex));
}

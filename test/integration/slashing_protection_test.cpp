// Slashing protection against the real binary over HTTP: every rule answers 412 with its reason, identical
// re-signs pass, imported history refuses below its watermarks, the database fails closed (503 for protected
// types, the rest keeps signing), export works while the signer runs, and SIGKILL under load loses no record
// of a signature that any client received.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <boost/json.hpp>
#include <cachet/crypto/bls.hpp>
#include <cachet/crypto/keystore.hpp>
#include <cachet/slashing/interchange.hpp>
#include <cachet/util/bytes.hpp>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/requests.hpp"
#include "support/signer_process.hpp"

using namespace cachet;
using namespace cachet::test;
namespace json = boost::json;

namespace {

struct Signer {
  TempDir dir;
  std::vector<KnownKey> keys = interop_keys(4);
  std::filesystem::path data_dir = dir.path() / "data";
  std::unique_ptr<SignerProcess> process;

  void start(std::vector<std::string> extra = {}) {
    auto [k, p] = write_keystores(dir.path(), keys);
    std::vector<std::string> args{
        "--data-dir", data_dir.string(), "--keystores-path", k.string(), "--keystores-passwords-path", p.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    process = std::make_unique<SignerProcess>(args);
    ASSERT_TRUE(process->ready()) << process->log();
  }
  HttpResult sign(std::size_t key, const std::string& body) {
    HttpClient client(process->port());
    return client.post("/api/v1/eth2/sign/" + keys[key].pubkey_hex, body);
  }
  std::string db_path() const { return (data_dir / "slashing-protection.sqlite").string(); }
};

void expect_refused(const HttpResult& r, std::string_view reason_words) {
  EXPECT_EQ(r.status, 412u) << r.body;
  EXPECT_NE(r.body.find(reason_words), std::string::npos) << r.body;
}

RunResult export_history(const std::filesystem::path& data_dir, const std::filesystem::path& out) {
  return run_cachet({"slashing-protection", "export", "--to", out.string(), "--data-dir", data_dir.string()});
}

}  // namespace

TEST(SlashingProtectionHttp, BlockRules) {
  Signer s;
  s.start();
  EXPECT_EQ(s.sign(0, block_request(100, 1)).status, 200u);
  EXPECT_EQ(s.sign(0, block_request(100, 1)).status, 200u) << "identical re-sign";
  expect_refused(s.sign(0, block_request(100, 2)), "slot");  // a different block at a signed slot
  EXPECT_EQ(s.sign(0, block_request(101, 2)).status, 200u);
  EXPECT_EQ(s.sign(1, block_request(100, 2)).status, 200u) << "another validator is independent";
  EXPECT_EQ(s.sign(0, randao_request(3)).status, 200u) << "unprotected types are not recorded";
  EXPECT_EQ(s.sign(0, randao_request(3)).status, 200u);
}

TEST(SlashingProtectionHttp, AttestationRules) {
  Signer s;
  s.start();
  EXPECT_EQ(s.sign(0, attestation_request(2, 3)).status, 200u);
  EXPECT_EQ(s.sign(0, attestation_request(2, 3)).status, 200u) << "identical re-sign";
  expect_refused(s.sign(0, attestation_request(2, 3, 9)), "double");
  expect_refused(s.sign(0, attestation_request(1, 4)), "surround");  // surrounds (2,3)
  EXPECT_EQ(s.sign(0, attestation_request(3, 10)).status, 200u);
  expect_refused(s.sign(0, attestation_request(4, 9)), "surround");  // surrounded by (3,10)
  expect_refused(s.sign(0, attestation_request(12, 11)), "source");  // source after target
  EXPECT_EQ(s.sign(0, attestation_request(10, 11)).status, 200u);
  // Another genesis: a different chain's message is refused.
  expect_refused(s.sign(0, attestation_request(11, 12, 0, "0x" + std::string(64, '1'))), "genesis");

  HttpClient metrics(s.process->metrics_port());
  const auto text = metrics.get("/metrics").body;
  for (const char* needle :
       {"cachet_slashing_protection_refusals_total{type=\"ATTESTATION\",reason=\"double_vote\"} 1",
        "cachet_slashing_protection_refusals_total{type=\"ATTESTATION\",reason=\"genesis_mismatch\"} 1",
        "cachet_signing_requests_total{type=\"ATTESTATION\",status=\"refused\"} 5"})
    EXPECT_NE(text.find(needle), std::string::npos) << needle;
  auto hc = HttpClient(s.process->port()).get("/healthcheck");
  EXPECT_EQ(hc.status, 200u);
  EXPECT_NE(hc.body.find("slashing-protection-db"), std::string::npos) << hc.body;
}

TEST(SlashingProtectionHttp, ImportedHistoryAndExportWhileRunning) {
  Signer s;
  std::filesystem::create_directories(s.data_dir);
  // History from elsewhere, imported before start: blocks up to slot 500, attestations up to (40, 41).
  slashing::Interchange history;
  history.genesis_validators_root = *from_hex_fixed<32>(kGenesisValidatorsRoot);
  history.data.push_back({*from_hex_fixed<48>(s.keys[0].pubkey_hex), {{500, std::nullopt}}, {{40, 41, std::nullopt}}});
  const auto file = s.dir.path() / "history.json";
  write_file(file, slashing::serialize_interchange(history));
  auto imported =
      run_cachet({"slashing-protection", "import", "--from", file.string(), "--data-dir", s.data_dir.string()});
  ASSERT_EQ(imported.exit_code, 0) << imported.output;

  s.start();
  EXPECT_EQ(s.sign(0, block_request(500, 1)).status, 412u);
  EXPECT_EQ(s.sign(0, block_request(499, 1)).status, 412u);
  EXPECT_EQ(s.sign(0, block_request(501, 1)).status, 200u);
  EXPECT_EQ(s.sign(0, attestation_request(39, 42)).status, 412u);  // source below the imported minimum
  EXPECT_EQ(s.sign(0, attestation_request(40, 41)).status, 412u);  // target at the watermark, root unknown
  EXPECT_EQ(s.sign(0, attestation_request(41, 42)).status, 200u);

  // Import while the signer runs is refused (its in-memory index would not see it)...
  auto busy = run_cachet({"slashing-protection", "import", "--from", file.string(), "--data-dir", s.data_dir.string()});
  EXPECT_NE(busy.exit_code, 0) << busy.output;
  // ... export works, and holds what was signed.
  const auto out = s.dir.path() / "export.json";
  auto exported = export_history(s.data_dir, out);
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  auto parsed = slashing::parse_interchange(read_file(out));
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(to_hex(parsed->genesis_validators_root), kGenesisValidatorsRoot);
  bool found_block = false, found_attestation = false;
  for (const auto& v : parsed->data) {
    if (to_hex(v.pubkey) != s.keys[0].pubkey_hex) continue;
    for (const auto& b : v.signed_blocks)
      found_block |= b.slot == 501 && b.signing_root == signing_root_of(block_request(501, 1));
    for (const auto& a : v.signed_attestations)
      found_attestation |= a.source_epoch == 41 && a.target_epoch == 42 &&
                           a.signing_root == signing_root_of(attestation_request(41, 42));
  }
  EXPECT_TRUE(found_block);
  EXPECT_TRUE(found_attestation);
}

TEST(SlashingProtectionHttp, KeymanagerImportAppliesHistoryAndDeleteReturnsIt) {
  Signer s;
  s.keys = {};  // no external keys: everything through the keymanager
  TempDir keys_dir;
  s.start();
  const auto key = interop_keys(5)[4];
  auto secret = crypto::SecretKey::from_bytes(*from_hex(key.secret_hex));
  crypto::KeystoreParams params;
  params.kdf = crypto::Kdf::Pbkdf2;
  params.pbkdf2_c = 2;
  const auto keystore = *crypto::encrypt_keystore(*secret, "pw", params);
  slashing::Interchange history;
  history.genesis_validators_root = *from_hex_fixed<32>(kGenesisValidatorsRoot);
  history.data.push_back({*from_hex_fixed<48>(key.pubkey_hex), {{700, std::nullopt}}, {{70, 71, std::nullopt}}});
  const auto token = [&] {
    auto t = read_file(s.data_dir / "api-token.txt");
    return t.substr(0, 64);
  }();
  HttpClient km(s.process->port());
  const std::map<std::string, std::string> headers{{"Content-Type", "application/json"},
                                                   {"Authorization", "Bearer " + token}};
  auto imported =
      km.request("POST", "/eth/v1/keystores",
                 json::serialize(json::object{{"keystores", json::array{keystore}},
                                              {"passwords", json::array{"pw"}},
                                              {"slashing_protection", slashing::serialize_interchange(history)}}),
                 headers);
  ASSERT_EQ(imported.status, 200u) << imported.body;
  EXPECT_NE(imported.body.find("imported"), std::string::npos) << imported.body;
  HttpClient api(s.process->port());
  const auto sign = [&](const std::string& body) { return api.post("/api/v1/eth2/sign/" + key.pubkey_hex, body); };
  EXPECT_EQ(sign(block_request(700, 1)).status, 412u);
  EXPECT_EQ(sign(attestation_request(70, 71)).status, 412u);
  EXPECT_EQ(sign(attestation_request(71, 72)).status, 200u);

  auto deleted = km.request("DELETE", "/eth/v1/keystores",
                            json::serialize(json::object{{"pubkeys", json::array{key.pubkey_hex}}}), headers);
  ASSERT_EQ(deleted.status, 200u) << deleted.body;
  auto body = json::parse(deleted.body);
  EXPECT_EQ(body.at("data").at(0).at("status").as_string(), "deleted");
  auto exported = slashing::parse_interchange(body.at("slashing_protection").as_string());
  ASSERT_TRUE(exported) << exported.error();
  ASSERT_EQ(exported->data.size(), 1u);
  const auto& atts = exported->data[0].signed_attestations;
  EXPECT_TRUE(std::ranges::any_of(atts, [](const auto& a) { return a.source_epoch == 71 && a.target_epoch == 72; }));
  // Deleted again: not active here, but its history is still returned.
  auto again = km.request("DELETE", "/eth/v1/keystores",
                          json::serialize(json::object{{"pubkeys", json::array{key.pubkey_hex}}}), headers);
  EXPECT_EQ(json::parse(again.body).at("data").at(0).at("status").as_string(), "not_active") << again.body;
}

TEST(SlashingProtectionHttp, FailsClosedWhenTheDatabaseCannotBeWritten) {
  Signer s;
  s.start();
  ASSERT_EQ(s.sign(0, attestation_request(1, 2)).status, 200u);
  // Another connection holds the database's write lock: the signer cannot commit.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(s.db_path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  const auto start = std::chrono::steady_clock::now();
  auto blocked = s.sign(0, attestation_request(2, 3));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(blocked.status, 503u) << blocked.body;
  EXPECT_FALSE(blocked.headers["retry-after"].empty());
  EXPECT_LT(waited, std::chrono::seconds(15));
  // Unprotected types keep working, and the health check says what is wrong.
  EXPECT_EQ(s.sign(0, randao_request(5)).status, 200u);
  auto down = HttpClient(s.process->port()).get("/healthcheck");
  EXPECT_EQ(down.status, 503u) << down.body;
  // Later protected requests answer at once rather than hang.
  const auto again_start = std::chrono::steady_clock::now();
  EXPECT_EQ(s.sign(1, attestation_request(2, 3)).status, 503u);
  EXPECT_LT(std::chrono::steady_clock::now() - again_start, std::chrono::seconds(6));

  ASSERT_EQ(sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  // Recovers once the database can be written again.
  bool recovered = false;
  for (int i = 0; i < 100 && !recovered; ++i) {
    recovered = s.sign(0, attestation_request(3, 4)).status == 200;
    if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(recovered);
  EXPECT_EQ(HttpClient(s.process->port()).get("/healthcheck").status, 200u);
}

TEST(SlashingProtectionHttp, SigkillUnderLoadLosesNoRecord) {
  Signer s;
  s.start();
  struct Received {
    std::size_t key;
    std::uint64_t source, target;
    Bytes32 root;
  };
  std::mutex mutex;
  std::vector<Received> received;
  std::atomic<bool> stop{false};
  std::vector<std::jthread> clients;
  for (std::size_t c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(s.process->port());
      // Each client owns one key and attests to increasing epochs, as a validator does.
      for (std::uint64_t epoch = 1; !stop && epoch < 100000; ++epoch) {
        const auto body = attestation_request(epoch - 1, epoch);
        auto r = client.post("/api/v1/eth2/sign/" + s.keys[c].pubkey_hex, body);
        if (r.status != 200) break;  // the signer is gone
        std::lock_guard lock(mutex);
        received.push_back({c, epoch - 1, epoch, signing_root_of(body)});
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(s.process->pid(), SIGKILL);
  stop = true;
  clients.clear();
  s.process->stop(SIGKILL);
  ASSERT_GT(received.size(), 20u) << "the load never got going";

  // Every signature a client received must be in the database.
  const auto out = s.dir.path() / "after-crash.json";
  auto exported = export_history(s.data_dir, out);
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  auto history = slashing::parse_interchange(read_file(out));
  ASSERT_TRUE(history) << history.error();
  std::set<std::tuple<std::string, std::uint64_t, std::uint64_t, Bytes32>> recorded;
  for (const auto& v : history->data)
    for (const auto& a : v.signed_attestations)
      if (a.signing_root) recorded.insert({to_hex(v.pubkey), a.source_epoch, a.target_epoch, *a.signing_root});
  std::size_t missing = 0;
  for (const auto& r : received) missing += !recorded.contains({s.keys[r.key].pubkey_hex, r.source, r.target, r.root});
  EXPECT_EQ(missing, 0u) << "of " << received.size() << " signatures received";

  // After a restart, conflicting requests are refused.
  s.start();
  std::map<std::size_t, std::uint64_t> last;
  for (const auto& r : received) last[r.key] = std::max(last[r.key], r.target);
  for (const auto& [key, target] : last) {
    EXPECT_EQ(s.sign(key, attestation_request(target - 1, target, 77)).status, 412u) << "double vote after restart";
    EXPECT_EQ(s.sign(key, attestation_request(0, target + 1)).status, 412u) << "surround after restart";
  }
  std::printf("[ crash ] %zu signatures received before SIGKILL, all recorded\n", received.size());
}

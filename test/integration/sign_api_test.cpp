// The signing API against the real binary over loopback: every request type and fork from an independent
// reference implementation (test/reference: lodestar SSZ + noble BLS), checked signature by signature and
// verified with blst; then the error cases a client can cause.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cachet/crypto/bls.hpp>
#include <cachet/util/bytes.hpp>
#include <csignal>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/signer_process.hpp"

using namespace cachet;
using namespace cachet::test;
namespace json = boost::json;

namespace {

const std::filesystem::path kReference = std::filesystem::path(CACHET_SOURCE_DIR) / "test/reference";

class SignApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    keys_ = interop_keys(4);
    auto [k, p] = write_keystores(dir_->path(), keys_);
    // The reference vectors reuse four keys with random slots and epochs, so many of them are slashable against
    // each other: this suite checks signatures, and slashing_protection_test.cpp checks the protection.
    signer_ = std::make_unique<SignerProcess>(
        std::vector<std::string>{"--network", "minimal", "--keystores-path", k.string(), "--keystores-passwords-path",
                                 p.string(), "--slashing-protection-enabled=false"});
    ASSERT_TRUE(signer_->ready()) << signer_->log();
  }
  static void TearDownTestSuite() {
    signer_.reset();
    dir_.reset();
  }

  static std::string sign_path(const std::string& pubkey) { return "/api/v1/eth2/sign/" + pubkey; }

  static json::value randao(std::uint64_t epoch) {
    return json::parse(R"({"type":"RANDAO_REVEAL","fork_info":{"fork":{"previous_version":"0x00000001",
      "current_version":"0x00000001","epoch":"0"},"genesis_validators_root":
      "0x04700007fabc8282644aed6d1c7c9e21d38a03a0c4ba193f3afe428824b3a673"},"randao_reveal":{"epoch":")" +
                       std::to_string(epoch) + R"("}})");
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::vector<KnownKey> keys_;
  static inline std::unique_ptr<SignerProcess> signer_;
};

void check_reference_vectors(std::uint16_t port, const std::filesystem::path& file, std::size_t min_count) {
  auto vectors = read_json(file).as_array();
  ASSERT_GE(vectors.size(), min_count);
  HttpClient client(port);
  std::map<std::string, int> per_type;
  for (const auto& v : vectors) {
    const auto& request = v.at("request");
    const std::string type(request.at("type").as_string());
    const std::string pubkey(v.at("pubkey").as_string());
    auto res = client.post("/api/v1/eth2/sign/" + pubkey, json::serialize(request));
    ASSERT_EQ(res.status, 200u) << type << ": " << res.body;
    auto body = json::parse(res.body);
    const std::string signature(body.at("signature").as_string());
    EXPECT_EQ(signature, std::string(v.at("signature").as_string())) << type << " " << json::serialize(request);
    // Independent of the reference: the signature must verify against the reference's root with blst.
    auto pk = from_hex_fixed<48>(pubkey);
    auto root = from_hex_fixed<32>(std::string(v.at("signing_root").as_string()));
    auto sig = from_hex_fixed<96>(signature);
    ASSERT_TRUE(pk && root && sig);
    EXPECT_TRUE(crypto::verify(*pk, *root, *sig)) << type;
    ++per_type[type];
  }
  EXPECT_EQ(per_type.size(), 13u) << "every request type must be covered";
}

// A signer started with `args`, the four interop keys and no slashing protection checks every vector of `file`.
void check_reference_vectors_on(std::vector<std::string> args, const std::filesystem::path& file) {
  TempDir dir;
  auto [k, p] = write_keystores(dir.path(), interop_keys(4));
  args.insert(args.end(), {"--keystores-path", k.string(), "--keystores-passwords-path", p.string(),
                           "--slashing-protection-enabled=false"});
  SignerProcess signer(args);
  ASSERT_TRUE(signer.ready()) << signer.log();
  check_reference_vectors(signer.port(), file, 100);
}

}  // namespace

TEST_F(SignApi, ReferenceVectorsMinimal) {
  check_reference_vectors(signer_->port(), kReference / "vectors_minimal.json", 100);
}

// Mainnet is the default network.
TEST(SignApiMainnet, ReferenceVectorsMainnet) { check_reference_vectors_on({}, kReference / "vectors_mainnet.json"); }

// Gnosis Chain: 16 slots an epoch (the gnosis preset), so a request's slot picks its fork version by slot / 16; the
// reference vectors put fork epochs at the boundaries where slot / 16 and slot / 32 disagree.
TEST(SignApiGnosis, ReferenceVectorsGnosis) {
  check_reference_vectors_on({"--network", "gnosis"}, kReference / "vectors_gnosis.json");
}

namespace {

std::uint64_t u64_field(const json::value& v) { return std::stoull(std::string(v.as_string())); }

// A BLOCK_V2 vector whose fork version depends on the epoch length: its slot's epoch falls on different sides of
// fork_info.fork.epoch with 16 and with 32 slots an epoch, and the two versions differ.
bool block_depends_on_slots_per_epoch(const json::value& request) {
  if (request.at("type") != "BLOCK_V2" || !request.at("beacon_block").as_object().contains("block_header"))
    return false;
  const auto& fork = request.at("fork_info").at("fork");
  const std::uint64_t slot = u64_field(request.at("beacon_block").at("block_header").at("slot"));
  const std::uint64_t fork_epoch = u64_field(fork.at("epoch"));
  return fork.at("previous_version") != fork.at("current_version") &&
         (slot / 16 < fork_epoch) != (slot / 32 < fork_epoch);
}

}  // namespace

// With slashing protection on, the gnosis slot -> epoch mapping reaches it (the start-up line says so), a gnosis block
// whose fork version depends on 16 slots an epoch signs to the reference's signature, and another block at its slot
// is refused. (One protected vector only: the database is bound to one genesis validators root, the vectors' are
// random.)
TEST(SignApiGnosis, ProtectedSignerSignsAGnosisBlock) {
  TempDir dir;
  auto [k, p] = write_keystores(dir.path(), interop_keys(4));
  SignerProcess signer({"--network", "gnosis", "--data-dir", (dir.path() / "data").string(), "--keystores-path",
                        k.string(), "--keystores-passwords-path", p.string()});
  ASSERT_TRUE(signer.ready()) << signer.log();
  EXPECT_NE(signer.log().find("pruning keeps 256 epochs of 16 slots"), std::string::npos) << signer.log();

  const auto vectors = read_json(kReference / "vectors_gnosis.json");
  const auto& all = vectors.as_array();
  const auto v =
      std::ranges::find_if(all, [](const json::value& x) { return block_depends_on_slots_per_epoch(x.at("request")); });
  ASSERT_NE(v, all.end());
  const std::string path = "/api/v1/eth2/sign/" + std::string(v->at("pubkey").as_string());
  json::value request = v->at("request");
  HttpClient client(signer.port());
  for (int i = 0; i < 2; ++i) {  // the second time an identical re-sign
    auto res = client.post(path, json::serialize(request));
    ASSERT_EQ(res.status, 200u) << res.body;
    EXPECT_EQ(json::parse(res.body).at("signature"), v->at("signature")) << json::serialize(request);
  }
  request.at("beacon_block").at("block_header").as_object()["body_root"] = "0x" + std::string(64, 'e');
  auto other = client.post(path, json::serialize(request));
  EXPECT_EQ(other.status, 412u) << other.body;
}

TEST_F(SignApi, SignatureVerifiesAndTextPlainOnRequest) {
  HttpClient client(signer_->port());
  const auto body = json::serialize(randao(7));
  auto as_json = client.post(sign_path(keys_[0].pubkey_hex), body);
  ASSERT_EQ(as_json.status, 200u) << as_json.body;
  EXPECT_EQ(as_json.headers["content-type"], "application/json");
  const std::string sig(json::parse(as_json.body).at("signature").as_string());

  auto text = client.request("POST", sign_path(keys_[0].pubkey_hex), body,
                             {{"Content-Type", "application/json"}, {"Accept", "text/plain"}});
  ASSERT_EQ(text.status, 200u);
  EXPECT_EQ(text.body, sig);
  EXPECT_TRUE(text.headers["content-type"].starts_with("text/plain"));

  for (const char* accept : {"*/*", "application/json", "application/json, text/plain;q=0.5"}) {
    auto r = client.request("POST", sign_path(keys_[0].pubkey_hex), body,
                            {{"Content-Type", "application/json"}, {"Accept", accept}});
    EXPECT_EQ(r.body, "{\"signature\":\"" + sig + "\"}") << accept;
  }
}

TEST_F(SignApi, WrongSigningRootIs400NamingBothRoots) {
  HttpClient client(signer_->port());
  for (const char* field : {"signing_root", "signingRoot"}) {
    auto request = randao(3);
    const std::string wrong = "0x" + std::string(64, 'a');
    request.as_object()[field] = wrong;
    auto r = client.post(sign_path(keys_[1].pubkey_hex), json::serialize(request));
    EXPECT_EQ(r.status, 400u) << field;
    EXPECT_NE(r.body.find(wrong), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("signature"), std::string::npos) << r.body;
  }
  // The published root for RANDAO epoch 3 (shared/specs/signing_vectors README) is accepted.
  auto request = randao(3);
  request.as_object()["signingRoot"] = "0x3d047c51a8b03630781dc4c5519c17f7de87174246ff2deed0f195c6c775f91e";
  auto ok = client.post(sign_path(keys_[1].pubkey_hex), json::serialize(request));
  EXPECT_EQ(ok.status, 200u) << ok.body;
}

TEST_F(SignApi, ClientErrorsAre4xxWithMessages) {
  HttpClient client(signer_->port());
  const auto good = json::serialize(randao(1));
  const std::string unknown = "0x" + std::string(96, 'b');
  struct Case {
    std::string name, target, body;
    std::map<std::string, std::string> headers;
    unsigned status;
  };
  const std::map<std::string, std::string> json_ct{{"Content-Type", "application/json"}};
  std::vector<Case> cases{
      {"unknown key", sign_path(keys_[0].pubkey_hex.substr(0, 92) + "000000"), good, json_ct, 404},
      {"unknown valid-looking key", sign_path(unknown), good, json_ct, 404},
      {"short identifier", sign_path("0x1234"), good, json_ct, 400},
      {"wrong content type", sign_path(keys_[0].pubkey_hex), good, {{"Content-Type", "text/plain"}}, 415},
      {"not JSON", sign_path(keys_[0].pubkey_hex), "{not json", json_ct, 400},
      {"JSON array", sign_path(keys_[0].pubkey_hex), "[1,2]", json_ct, 400},
      {"unknown type", sign_path(keys_[0].pubkey_hex), R"({"type":"NOPE"})", json_ct, 400},
      {"missing fork_info", sign_path(keys_[0].pubkey_hex), R"({"type":"RANDAO_REVEAL","randao_reveal":{"epoch":"1"}})",
       json_ct, 400},
      {"negative epoch", sign_path(keys_[0].pubkey_hex),
       std::string(good).replace(good.find("\"epoch\":\"1\""), 11, "\"epoch\":\"-1\""), json_ct, 400},
      {"overflowing epoch", sign_path(keys_[0].pubkey_hex),
       std::string(good).replace(good.find("\"epoch\":\"1\""), 11, "\"epoch\":\"18446744073709551616\""), json_ct, 400},
      {"deep nesting", sign_path(keys_[0].pubkey_hex), std::string(5000, '[') + std::string(5000, ']'), json_ct, 400},
      {"unknown endpoint", "/api/v1/eth2/nothing", "", json_ct, 404},
  };
  for (const auto& c : cases) {
    auto r = client.request("POST", c.target, c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    if (r.status >= 400) {
      auto body = json::parse(r.body);
      EXPECT_FALSE(body.at("message").as_string().empty()) << c.name;
    }
  }
  EXPECT_EQ(client.get(sign_path(keys_[0].pubkey_hex)).status, 405u);
  // Still signing correctly afterwards, on the same connection.
  EXPECT_EQ(client.post(sign_path(keys_[0].pubkey_hex), good).status, 200u);
}

TEST_F(SignApi, OversizedBodyIs413AndMalformedHttpIs400) {
  HttpClient client(signer_->port());
  auto big = client.post(sign_path(keys_[0].pubkey_hex), std::string(2 << 20, ' '));
  EXPECT_EQ(big.status, 413u);
  auto malformed = client.raw("GARBAGE\r\n\r\n");
  EXPECT_EQ(malformed.status, 400u);
  HttpClient again(signer_->port());
  EXPECT_EQ(again.get("/upcheck").status, 200u);
}

TEST_F(SignApi, StatusEndpoints) {
  HttpClient client(signer_->port());
  auto up = client.get("/upcheck");
  EXPECT_EQ(up.status, 200u);
  EXPECT_EQ(up.body, "OK");

  auto keys = json::parse(client.get("/api/v1/eth2/publicKeys").body).as_array();
  std::set<std::string> listed;
  for (const auto& k : keys) listed.insert(std::string(k.as_string()));
  std::set<std::string> expected;
  for (const auto& k : keys_) expected.insert(k.pubkey_hex);
  EXPECT_EQ(listed, expected);

  auto health = json::parse(client.get("/health").body);
  EXPECT_EQ(health.at("keys_loaded").as_int64(), 4);
  EXPECT_EQ(health.at("status").as_string(), "healthy");

  auto hc = client.get("/healthcheck");
  EXPECT_EQ(hc.status, 200u);
  auto hcj = json::parse(hc.body);
  EXPECT_EQ(hcj.at("status").as_string(), "UP");
  EXPECT_EQ(hcj.at("outcome").as_string(), "UP");
  const auto serialized = json::serialize(hcj);
  EXPECT_NE(serialized.find("\"keys-loaded\":4"), std::string::npos) << serialized;
}

TEST(SignerStartup, BadKeystoresAreCountedAndSkipped) {
  TempDir dir;
  auto [k, p] = write_keystores(dir.path(), interop_keys(2));
  write_file(k / "garbage.json", "{\"version\": 4, \"crypto\": 17}");
  write_file(p / "garbage.txt", "x");
  write_file(k / "nopassword.json", read_file(k / "keystore-0.json"));
  write_file(p / "keystore-1.txt", "the wrong password\n");
  SignerProcess signer({"--keystores-path", k.string(), "--keystores-passwords-path", p.string()});
  ASSERT_TRUE(signer.ready()) << signer.log();
  HttpClient client(signer.port());
  EXPECT_EQ(json::parse(client.get("/health").body).at("keys_loaded").as_int64(), 1);
  auto hc = client.get("/healthcheck");
  EXPECT_EQ(hc.status, 503u);
  EXPECT_NE(hc.body.find("\"error-count\":3"), std::string::npos) << hc.body;
  const auto log = signer.log();
  EXPECT_NE(log.find("garbage.json"), std::string::npos) << log;
  EXPECT_NE(log.find("nopassword.json"), std::string::npos) << log;
  EXPECT_NE(log.find("keystore-1.json"), std::string::npos) << log;
  EXPECT_EQ(log.find("the wrong password"), std::string::npos) << "a password reached the log";
  EXPECT_EQ(log.find("test password 0"), std::string::npos) << "a password reached the log";
}

TEST(SignerStartup, SigtermFinishesAndExitsZero) {
  SignerProcess signer({"--network", "minimal"});
  ASSERT_TRUE(signer.ready()) << signer.log();
  HttpClient keep_alive(signer.port());
  EXPECT_EQ(keep_alive.get("/upcheck").status, 200u);  // an idle keep-alive connection must not delay the exit
  EXPECT_EQ(signer.stop(SIGTERM, 5000), 0) << signer.log();
}

TEST(SignerCli, BadFlagValuesExitNonZeroWithOneLine) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--port", "notaport"},
                                                                {"--log-level", "loud"},
                                                                {"--network", "nonexistent-network"},
                                                                {"--workers", "0"},
                                                                {"--log-format", "xml"},
                                                                {"--no-such-flag"}}) {
    auto r = run_cachet(args);
    EXPECT_NE(r.exit_code, 0) << args[0];
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << args[0] << ": " << r.output;
  }
}

// --help and the unknown-network error name every built-in network (both come from one list in lib/eth).
TEST(SignerCli, HelpAndUnknownNetworkListEveryNetwork) {
  const std::string all = "mainnet, sepolia, holesky, hoodi, gnosis, chiado, minimal";
  auto help = run_cachet({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find(all + ", or a consensus config.yaml"), std::string::npos) << help.output;
  auto unknown = run_cachet({"--network", "xdai"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("unknown network 'xdai': not one of " + all + ","), std::string::npos)
      << unknown.output;
}

TEST(SignerCli, RefusesToStartWithoutASlashingDatabase) {
  auto r = run_cachet({"--port", std::to_string(free_port()), "--metrics-port", std::to_string(free_port())});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("slashing protection needs --data-dir"), std::string::npos) << r.output;
}

TEST(SignerCli, VersionNamesBlst) {
  auto r = run_cachet({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("blst 0.3.10"), std::string::npos) << r.output;
}

TEST(SignerCli, LogLevelAnyCase) {
  SignerProcess signer({"--log-level", "WARNING", "--log-format", "json"});
  EXPECT_TRUE(signer.ready()) << signer.log();
}

TEST_F(SignApi, ErrorsCarryARequestIdThatIsLogged) {
  HttpClient client(signer_->port());
  auto r = client.post(sign_path(keys_[0].pubkey_hex), R"({"type":"RANDAO_REVEAL"})");
  ASSERT_EQ(r.status, 400u);
  const std::string id(json::parse(r.body).at("request_id").as_string());
  EXPECT_EQ(id.size(), 16u);
  EXPECT_EQ(r.headers["x-request-id"], id);
  // A client's own X-Request-Id is not trusted: every request gets a fresh id.
  auto again = client.request("POST", sign_path(keys_[0].pubkey_hex), "{}",
                              {{"Content-Type", "application/json"}, {"X-Request-Id", id}});
  EXPECT_NE(json::parse(again.body).at("request_id").as_string(), id);
  EXPECT_FALSE(client.get("/upcheck").headers["x-request-id"].empty());
  // The refusal's log line names the id, so an operator can find what a user quotes.
  for (int i = 0; i < 50 && signer_->log().find("request_id=" + id) == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_NE(signer_->log().find("request_id=" + id), std::string::npos);
}

TEST_F(SignApi, KeysInLockedMemoryAndNoCoreDumps) {
#ifdef CACHET_MLOCK_UNAVAILABLE
  GTEST_SKIP() << "sanitizer runtimes replace mlock with a no-op";
#endif
  const auto proc = std::filesystem::path("/proc") / std::to_string(signer_->pid());
  const auto status = read_file(proc / "status");
  const auto at = status.find("VmLck:");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GT(std::stol(status.substr(at + 6)), 0) << "secret keys are not in locked memory";
  const auto limits = read_file(proc / "limits");
  const auto core = limits.find("Max core file size");
  ASSERT_NE(core, std::string::npos);
  std::istringstream line(limits.substr(core + std::string_view("Max core file size").size()));
  std::string soft, hard;
  line >> soft >> hard;
  EXPECT_EQ(soft, "0");
  EXPECT_EQ(hard, "0");
}

TEST(SignerLogs, NoSecretEverReachesTheLog) {
  // The most verbose level, keys loaded, keymanager used, errors provoked: then search the log for every secret.
  TempDir dir;
  const auto keys = interop_keys(2);
  auto [k, p] = write_keystores(dir.path(), keys);
  const auto data_dir = dir.path() / "data";
  SignerProcess signer({"--log-level", "trace", "--data-dir", data_dir.string(), "--keystores-path", k.string(),
                        "--keystores-passwords-path", p.string()});
  ASSERT_TRUE(signer.ready()) << signer.log();
  const auto token = read_file(data_dir / "api-token.txt").substr(0, 64);
  HttpClient client(signer.port());
  client.request("GET", "/eth/v1/keystores", {}, {{"Authorization", "Bearer " + token}});
  client.request("GET", "/eth/v1/keystores", {}, {{"Authorization", "Bearer wrong" + token}});
  client.request("POST", "/eth/v1/keystores",
                 json::serialize(json::object{{"keystores", json::array{read_file(k / "keystore-0.json")}},
                                              {"passwords", json::array{"not the password"}}}),
                 {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
  client.post("/api/v1/eth2/sign/" + keys[0].pubkey_hex, "{bad");
  EXPECT_EQ(signer.stop(SIGTERM), 0);
  const auto log = signer.log();
  EXPECT_EQ(log.find(token), std::string::npos) << "the API token reached the log";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(log.find("test password " + std::to_string(i)), std::string::npos) << "a password reached the log";
    EXPECT_EQ(log.find(keys[i].secret_hex.substr(2)), std::string::npos) << "a secret key reached the log";
  }
  EXPECT_EQ(log.find("not the password"), std::string::npos);
}

// The Commit-Boost signer API (--commit-boost-api-enabled) against the real binary: every route, every signature
// checked by an independent verifier (test/reference/verify_commit_boost.mjs: @chainsafe/ssz, @noble/curves BLS and
// secp256k1, @noble/hashes Keccak), module JWTs (missing, wrong secret, wrong module, expired, tampered), the rate
// limit after failures, module isolation of proxies, proxies surviving a restart, and bad input.
#include <gtest/gtest.h>
#include <jwt.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <cachet/crypto/bls.hpp>
#include <cachet/crypto/keystore.hpp>
#include <cachet/util/bytes.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <thread>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/signer_process.hpp"

using namespace cachet;
using namespace cachet::test;
namespace json = boost::json;

namespace {

constexpr const char* kSecretA = "secret-of-module-a-0123456789abcdef";
constexpr const char* kSecretB = "secret-of-module-b-0123456789abcdef";
constexpr const char* kRoot = "0x3e9f4a78b5c21d64f0b8e3d9a7f5c02b4d1e67a3c8f29b5d6e4a3b1c8f72e6d9";
constexpr const char* kHoodiGenesisForkVersion = "0x10000910";

/// An HS256 JWT with the claim `module` (and `exp` when given), signed with `secret`.
std::string make_jwt(const std::string& module, const std::string& secret, std::optional<long> exp = std::nullopt) {
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  jwt_add_grant(jwt, "module", module.c_str());
  if (exp) jwt_add_grant_int(jwt, "exp", *exp);
  jwt_set_alg(jwt, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
              static_cast<int>(secret.size()));
  char* text = jwt_encode_str(jwt);
  std::string out(text);
  std::free(text);  // libjwt 1.10: the caller frees the string
  jwt_free(jwt);
  return out;
}

struct CommitBoostSigner {
  TempDir dir;
  std::vector<KnownKey> keys = interop_keys(2);
  std::unique_ptr<SignerProcess> process;
  std::vector<std::string> extra;

  explicit CommitBoostSigner(std::vector<std::string> more = {}) : extra(std::move(more)) {
    write_keystores(dir.path(), keys);
    write_file(dir.path() / "jwt.txt",
               std::string("# module secrets\nmodule-a=") + kSecretA + "\nmodule-b=" + kSecretB + "\n");
    start();
  }
  void start() {
    std::vector<std::string> args{"--keystores-path",
                                  (dir.path() / "keys").string(),
                                  "--keystores-passwords-path",
                                  (dir.path() / "passwords").string(),
                                  "--data-dir",
                                  (dir.path() / "data").string(),
                                  "--network",
                                  "hoodi",
                                  "--commit-boost-api-enabled",
                                  "--commit-boost-jwt-secrets-file",
                                  (dir.path() / "jwt.txt").string(),
                                  "--commit-boost-proxy-keystore-scrypt-n",
                                  "16"};
    args.insert(args.end(), extra.begin(), extra.end());
    process = std::make_unique<SignerProcess>(args);
    ASSERT_TRUE(process->ready()) << process->log();
  }
  void restart() {
    process.reset();
    start();
  }
  HttpResult call(const std::string& method, const std::string& target, const std::string& token,
                  const std::string& body = {}) {
    HttpClient client(process->port());
    std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return client.request(method, target, body, headers);
  }
};

std::string sign_body(const std::string& type, const std::string& key_field, const std::string& key,
                      const std::string& root = kRoot) {
  return json::serialize(json::object{{"type", type}, {key_field, key}, {"object_root", root}});
}

std::string string_of(const HttpResult& r) { return std::string(json::parse(r.body).as_string()); }

/// Runs the independent verifier over `items`; its last line says "N passed, 0 failed" when all hold.
std::string verify_independently(const json::array& items, const std::string& genesis_fork_version) {
  TempDir dir;
  const auto file = dir.path() / "signatures.json";
  write_file(file, json::serialize(json::object{{"genesis_fork_version", genesis_fork_version}, {"items", items}}));
  const std::string command =
      "node " + std::string(CACHET_SOURCE_DIR) + "/test/reference/verify_commit_boost.mjs " + file.string() + " 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return "popen failed";
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int status = ::pclose(pipe);
  return output + (status == 0 ? "" : "exit status " + std::to_string(status));
}

}  // namespace

TEST(CommitBoostApi, OffByDefault) {
  SignerProcess signer({});
  HttpClient client(signer.port());
  EXPECT_EQ(client.get("/signer/v1/get_pubkeys").status, 404u);
  EXPECT_EQ(client.get("/status").status, 404u);
}

TEST(CommitBoostApi, RefusesToStartWithoutSecretsFile) {
  TempDir dir;
  auto r = run_cachet({"--data-dir", dir.path().string(), "--commit-boost-api-enabled"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--commit-boost-jwt-secrets-file"), std::string::npos) << r.output;
}

TEST(CommitBoostApi, EveryRouteSignsWhatAnIndependentVerifierAccepts) {
  CommitBoostSigner s;
  const auto a = make_jwt("module-a", kSecretA);
  const auto b = make_jwt("module-b", kSecretB);

  auto status = s.call("GET", "/status", "");
  EXPECT_EQ(status.status, 200u);
  EXPECT_EQ(status.body, "OK");

  json::array items;
  for (const auto& key : s.keys) {
    auto r = s.call("POST", "/signer/v1/request_signature", a, sign_body("consensus", "pubkey", key.pubkey_hex));
    ASSERT_EQ(r.status, 200u) << r.body;
    items.push_back({{"kind", "bls"}, {"pubkey", key.pubkey_hex}, {"object_root", kRoot}, {"signature", string_of(r)}});
  }

  const auto delegator = s.keys[0].pubkey_hex;
  auto bls = s.call("POST", "/signer/v1/generate_proxy_key", a,
                    json::serialize(json::object{{"pubkey", delegator}, {"scheme", "bls"}}));
  ASSERT_EQ(bls.status, 200u) << bls.body;
  auto bls_json = json::parse(bls.body).as_object();
  const std::string bls_proxy(bls_json.at("message").at("proxy").as_string());
  EXPECT_EQ(bls_json.at("message").at("delegator").as_string(), delegator);
  EXPECT_EQ(bls_proxy.size(), 98u);
  items.push_back({{"kind", "delegation"},
                   {"delegator", delegator},
                   {"proxy", bls_proxy},
                   {"signature", bls_json.at("signature")}});

  auto ecdsa = s.call("POST", "/signer/v1/generate_proxy_key", a,
                      json::serialize(json::object{{"pubkey", delegator}, {"scheme", "ecdsa"}}));
  ASSERT_EQ(ecdsa.status, 200u) << ecdsa.body;
  auto ecdsa_json = json::parse(ecdsa.body).as_object();
  const std::string address(ecdsa_json.at("message").at("proxy").as_string());
  EXPECT_EQ(address.size(), 42u);
  items.push_back({{"kind", "delegation"},
                   {"delegator", delegator},
                   {"proxy", address},
                   {"signature", ecdsa_json.at("signature")}});

  auto proxy_bls = s.call("POST", "/signer/v1/request_signature", a, sign_body("proxy_bls", "proxy", bls_proxy));
  ASSERT_EQ(proxy_bls.status, 200u) << proxy_bls.body;
  items.push_back(
      {{"kind", "bls"}, {"pubkey", bls_proxy}, {"object_root", kRoot}, {"signature", string_of(proxy_bls)}});
  const std::string other_root = "0x" + std::string(64, '7');
  auto proxy_ecdsa =
      s.call("POST", "/signer/v1/request_signature", a, sign_body("proxy_ecdsa", "proxy", address, other_root));
  ASSERT_EQ(proxy_ecdsa.status, 200u) << proxy_ecdsa.body;
  EXPECT_EQ(string_of(proxy_ecdsa).size(), 132u);
  items.push_back(
      {{"kind", "ecdsa"}, {"address", address}, {"object_root", other_root}, {"signature", string_of(proxy_ecdsa)}});

  // A signature over another root must fail the verifier: it checks, it does not just agree.
  json::array wrong{items[0]};
  wrong[0].as_object()["object_root"] = other_root;
  EXPECT_NE(verify_independently(wrong, kHoodiGenesisForkVersion).find("0 passed, 1 failed"), std::string::npos);

  const auto verdict = verify_independently(items, kHoodiGenesisForkVersion);
  EXPECT_NE(verdict.find(std::to_string(items.size()) + " passed, 0 failed"), std::string::npos) << verdict;

  // get_pubkeys: module-a sees its proxies under their delegator; module-b sees the consensus keys only.
  auto keys_a = s.call("GET", "/signer/v1/get_pubkeys", a);
  ASSERT_EQ(keys_a.status, 200u) << keys_a.body;
  const auto list_a = json::parse(keys_a.body).at("keys").as_array();
  ASSERT_EQ(list_a.size(), 2u);
  for (const auto& k : list_a) {
    const bool is_delegator = k.at("consensus").as_string() == delegator;
    EXPECT_EQ(k.at("proxy_bls").as_array().size(), is_delegator ? 1u : 0u);
    EXPECT_EQ(k.at("proxy_ecdsa").as_array().size(), is_delegator ? 1u : 0u);
  }
  auto keys_b = s.call("GET", "/signer/v1/get_pubkeys", b);
  const auto list_b = json::parse(keys_b.body).at("keys").as_array();  // kept alive for the loop
  ASSERT_EQ(list_b.size(), 2u);
  for (const auto& k : list_b) {
    EXPECT_TRUE(k.at("proxy_bls").as_array().empty());
    EXPECT_TRUE(k.at("proxy_ecdsa").as_array().empty());
  }
  // module-b cannot sign with module-a's proxies.
  auto stolen = s.call("POST", "/signer/v1/request_signature", b, sign_body("proxy_bls", "proxy", bls_proxy));
  EXPECT_EQ(stolen.status, 404u);
  EXPECT_EQ(json::parse(stolen.body).at("message").as_string(), "unknown proxy signer: " + bls_proxy);
  stolen = s.call("POST", "/signer/v1/request_signature", b, sign_body("proxy_ecdsa", "proxy", address));
  EXPECT_EQ(stolen.status, 404u);

  // Metrics per module and route.
  HttpClient metrics(s.process->metrics_port());
  const auto text = metrics.get("/metrics").body;
  EXPECT_NE(
      text.find(
          R"(cachet_commit_boost_requests_total{module="module-a",route="commit_boost_request_signature",outcome="ok"} 4)"),
      std::string::npos);
  EXPECT_NE(
      text.find(
          R"(cachet_commit_boost_requests_total{module="module-b",route="commit_boost_request_signature",outcome="error"} 2)"),
      std::string::npos);
  EXPECT_NE(
      text.find(
          R"(cachet_commit_boost_requests_total{module="module-a",route="commit_boost_generate_proxy_key",outcome="ok"} 2)"),
      std::string::npos);
}

TEST(CommitBoostApi, ProxyKeysSurviveARestartAndStillSign) {
  CommitBoostSigner s;
  const auto a = make_jwt("module-a", kSecretA);
  const auto delegator = s.keys[1].pubkey_hex;
  auto bls = s.call("POST", "/signer/v1/generate_proxy_key", a,
                    json::serialize(json::object{{"pubkey", delegator}, {"scheme", "bls"}}));
  auto ecdsa = s.call("POST", "/signer/v1/generate_proxy_key", a,
                      json::serialize(json::object{{"pubkey", delegator}, {"scheme", "ecdsa"}}));
  ASSERT_EQ(bls.status, 200u);
  ASSERT_EQ(ecdsa.status, 200u);
  const std::string bls_proxy(json::parse(bls.body).at("message").at("proxy").as_string());
  const std::string address(json::parse(ecdsa.body).at("message").at("proxy").as_string());
  const auto stored = s.dir.path() / "data" / "proxy-keys" / "module-a" / delegator;
  struct stat st {};
  ASSERT_EQ(::stat((stored / "bls" / (bls_proxy + ".json")).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((stored / "ecdsa" / (address + ".json")).c_str(), &st), 0);
  // Encrypted: the keystore is EIP-2335 JSON with a KDF, not the secret.
  EXPECT_TRUE(read_json(stored / "ecdsa" / (address + ".json")).at("crypto").as_object().contains("kdf"));

  s.restart();
  auto keys = s.call("GET", "/signer/v1/get_pubkeys", a);
  EXPECT_NE(keys.body.find(bls_proxy), std::string::npos) << keys.body;
  EXPECT_NE(keys.body.find(address), std::string::npos) << keys.body;
  auto proxy_bls = s.call("POST", "/signer/v1/request_signature", a, sign_body("proxy_bls", "proxy", bls_proxy));
  auto proxy_ecdsa = s.call("POST", "/signer/v1/request_signature", a, sign_body("proxy_ecdsa", "proxy", address));
  ASSERT_EQ(proxy_bls.status, 200u) << proxy_bls.body;
  ASSERT_EQ(proxy_ecdsa.status, 200u) << proxy_ecdsa.body;
  json::array items{
      {{"kind", "bls"}, {"pubkey", bls_proxy}, {"object_root", kRoot}, {"signature", string_of(proxy_bls)}},
      {{"kind", "ecdsa"}, {"address", address}, {"object_root", kRoot}, {"signature", string_of(proxy_ecdsa)}}};
  const auto verdict = verify_independently(items, kHoodiGenesisForkVersion);
  EXPECT_NE(verdict.find("2 passed, 0 failed"), std::string::npos) << verdict;
}

TEST(CommitBoostApi, RefusesBadTokensWithCommitBoostsErrorShape) {
  CommitBoostSigner s({"--commit-boost-jwt-auth-fail-limit", "100"});
  const auto good = make_jwt("module-a", kSecretA);
  const auto other = make_jwt("module-b", kSecretB);
  const auto dot1 = good.find('.'), dot2 = good.rfind('.');
  const auto other_dot1 = other.find('.'), other_dot2 = other.rfind('.');
  // module-b's payload with module-a's header and signature: the signature no longer matches.
  const auto tampered = good.substr(0, dot1) + other.substr(other_dot1, other_dot2 - other_dot1) + good.substr(dot2);
  const std::map<std::string, std::string> bad{
      {"no token", ""},
      {"wrong secret", make_jwt("module-a", "not-the-secret")},
      {"wrong module", make_jwt("module-b", kSecretA)},
      {"unknown module", make_jwt("module-c", kSecretA)},
      {"expired", make_jwt("module-a", kSecretA, static_cast<long>(std::time(nullptr)) - 3600)},
      {"tampered payload", tampered},
      {"not a jwt", "abc"},
  };
  for (const auto& [what, token] : bad) {
    auto r = s.call("GET", "/signer/v1/get_pubkeys", token);
    EXPECT_EQ(r.status, 401u) << what;
    EXPECT_EQ(r.body, R"({"code":401,"message":"unauthorized"})") << what;
  }
  auto r = s.call("GET", "/signer/v1/get_pubkeys", make_jwt("module-a", kSecretA, std::time(nullptr) + 3600));
  EXPECT_EQ(r.status, 200u) << "an exp in the future is accepted";
  EXPECT_EQ(s.call("GET", "/signer/v1/get_pubkeys", good).status, 200u);
}

TEST(CommitBoostApi, RateLimitsAClientAfterRepeatedFailures) {
  CommitBoostSigner s({"--commit-boost-jwt-auth-fail-limit", "3", "--commit-boost-jwt-auth-fail-timeout-seconds", "2"});
  const auto good = make_jwt("module-a", kSecretA);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(s.call("GET", "/signer/v1/get_pubkeys", "bad").status, 401u);
  auto limited = s.call("GET", "/signer/v1/get_pubkeys", good);
  EXPECT_EQ(limited.status, 429u) << limited.body;
  EXPECT_EQ(json::parse(limited.body).at("code").as_int64(), 429);
  EXPECT_TRUE(limited.headers.contains("retry-after"));
  EXPECT_EQ(s.call("GET", "/status", "").status, 200u);  // /status needs no auth and is never limited
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));
  EXPECT_EQ(s.call("GET", "/signer/v1/get_pubkeys", good).status, 200u);
}

TEST(CommitBoostApi, BadInputGets4xxWithAMessage) {
  CommitBoostSigner s({"--commit-boost-jwt-auth-fail-limit", "100"});
  const auto a = make_jwt("module-a", kSecretA);
  const auto pubkey = s.keys[0].pubkey_hex;
  const std::string unknown_pubkey = "0x" + std::string(96, 'a');
  struct Case {
    std::string target, body;
    unsigned status;
  };
  const std::vector<Case> cases{
      {"request_signature", sign_body("consensus", "pubkey", pubkey.substr(0, 96)), 400},
      {"request_signature", sign_body("consensus", "pubkey", pubkey, "0x1234"), 400},
      {"request_signature", sign_body("consensus", "pubkey", pubkey.substr(2)), 400},
      {"request_signature", sign_body("consensus", "pubkey", unknown_pubkey), 404},
      {"request_signature", sign_body("proxy_bls", "proxy", unknown_pubkey), 404},
      {"request_signature", sign_body("proxy_ecdsa", "proxy", "0x" + std::string(40, '1')), 404},
      {"request_signature", sign_body("proxy_ecdsa", "proxy", pubkey), 400},
      {"request_signature", sign_body("schnorr", "pubkey", pubkey), 400},
      {"request_signature", R"({"type":"consensus","object_root":")" + std::string(kRoot) + "\"}", 400},
      {"request_signature", "{not json", 400},
      {"request_signature", "[]", 400},
      {"generate_proxy_key", R"({"pubkey":")" + pubkey + R"(","scheme":"rsa"})", 400},
      {"generate_proxy_key", R"({"pubkey":")" + pubkey + R"("})", 400},
      {"generate_proxy_key", R"({"pubkey":")" + unknown_pubkey + R"(","scheme":"bls"})", 404},
  };
  for (const auto& c : cases) {
    auto r = s.call("POST", "/signer/v1/" + c.target, a, c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    const auto parsed = json::parse(r.body);
    EXPECT_EQ(parsed.at("code").as_int64(), c.status) << r.body;
    EXPECT_FALSE(parsed.at("message").as_string().empty());
  }
  EXPECT_EQ(s.call("GET", "/signer/v1/request_signature", a).status, 405u);
  EXPECT_EQ(s.call("POST", "/signer/v1/get_pubkeys", a).status, 405u);
  HttpClient client(s.process->port());
  auto r = client.request("POST", "/signer/v1/request_signature", sign_body("consensus", "pubkey", pubkey),
                          {{"Content-Type", "text/plain"}, {"Authorization", "Bearer " + a}});
  EXPECT_EQ(r.status, 415u);
  // The signer still signs afterwards.
  EXPECT_EQ(s.call("POST", "/signer/v1/request_signature", a, sign_body("consensus", "pubkey", pubkey)).status, 200u);
}

TEST(CommitBoostApi, KeymanagerDeleteAlsoDeletesAndReportsTheProxyKeys) {
  CommitBoostSigner s;
  const auto a = make_jwt("module-a", kSecretA);
  // A managed (deletable) key: interop key 5, imported through the keymanager API.
  const auto key = interop_keys(6)[5];
  crypto::KeystoreParams params;
  params.kdf = crypto::Kdf::Pbkdf2;
  params.pbkdf2_c = 2;
  const auto keystore =
      *crypto::encrypt_keystore(*crypto::SecretKey::from_bytes(*from_hex(key.secret_hex)), "pw", params);
  auto token = read_file(s.dir.path() / "data" / "api-token.txt");
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  HttpClient client(s.process->port());
  const std::map<std::string, std::string> auth{{"Content-Type", "application/json"},
                                                {"Authorization", "Bearer " + token}};
  auto imported = client.request(
      "POST", "/eth/v1/keystores",
      json::serialize(json::object{{"keystores", json::array{keystore}}, {"passwords", json::array{"pw"}}}), auth);
  ASSERT_EQ(imported.status, 200u) << imported.body;

  auto bls = s.call("POST", "/signer/v1/generate_proxy_key", a,
                    json::serialize(json::object{{"pubkey", key.pubkey_hex}, {"scheme", "bls"}}));
  auto ecdsa = s.call("POST", "/signer/v1/generate_proxy_key", a,
                      json::serialize(json::object{{"pubkey", key.pubkey_hex}, {"scheme", "ecdsa"}}));
  ASSERT_EQ(bls.status, 200u) << bls.body;
  ASSERT_EQ(ecdsa.status, 200u) << ecdsa.body;
  const std::string bls_proxy(json::parse(bls.body).at("message").at("proxy").as_string());
  const auto stored = s.dir.path() / "data" / "proxy-keys" / "module-a" / key.pubkey_hex;
  ASSERT_TRUE(std::filesystem::exists(stored));

  auto deleted = client.request("DELETE", "/eth/v1/keystores",
                                json::serialize(json::object{{"pubkeys", json::array{key.pubkey_hex}}}), auth);
  ASSERT_EQ(deleted.status, 200u) << deleted.body;
  const auto answer = json::parse(deleted.body);
  const auto& item = answer.at("data").as_array().at(0);
  EXPECT_EQ(item.at("status").as_string(), "deleted");
  EXPECT_EQ(item.at("message").as_string(), "also deleted 2 commit-boost proxy key(s)");
  EXPECT_FALSE(std::filesystem::exists(stored));
  auto after = s.call("POST", "/signer/v1/request_signature", a, sign_body("proxy_bls", "proxy", bls_proxy));
  EXPECT_EQ(after.status, 404u) << after.body;
}

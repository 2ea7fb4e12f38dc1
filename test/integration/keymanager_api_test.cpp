// The keymanager API (/eth/v1/keystores) and the metrics listener against the real binary: auth, import,
// duplicate, sign, delete, restart, read-only keys, malformed bodies; /metrics through promtool.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <cachet/crypto/bls.hpp>
#include <cachet/crypto/keystore.hpp>
#include <cachet/slashing/interchange.hpp>
#include <cachet/util/bytes.hpp>
#include <csignal>
#include <cstdio>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/signer_process.hpp"

using namespace cachet;
using namespace cachet::test;
namespace json = boost::json;

namespace {

constexpr const char* kRandao = R"({"type":"RANDAO_REVEAL","fork_info":{"fork":{"previous_version":"0x00000000",
  "current_version":"0x00000000","epoch":"0"},"genesis_validators_root":
  "0x04700007fabc8282644aed6d1c7c9e21d38a03a0c4ba193f3afe428824b3a673"},"randao_reveal":{"epoch":"5"}})";

struct ImportItem {
  std::string keystore, password, pubkey;
};

ImportItem make_keystore(const KnownKey& key, const std::string& password) {
  auto secret = crypto::SecretKey::from_bytes(*from_hex(key.secret_hex));
  crypto::KeystoreParams params;
  params.kdf = crypto::Kdf::Pbkdf2;
  params.pbkdf2_c = 2;
  params.derivation_path = "m/12381/3600/0/0/0";
  return {*crypto::encrypt_keystore(*secret, password, params), password, key.pubkey_hex};
}

std::string import_body(const std::vector<ImportItem>& items) {
  json::array keystores, passwords;
  for (const auto& i : items) {
    keystores.emplace_back(i.keystore);
    passwords.emplace_back(i.password);
  }
  return json::serialize(json::object{{"keystores", keystores}, {"passwords", passwords}});
}

std::vector<std::string> statuses(const std::string& body) {
  std::vector<std::string> out;
  const auto parsed = json::parse(body);  // kept alive: a range-for over a temporary's member would dangle
  for (const auto& d : parsed.at("data").as_array()) out.emplace_back(d.at("status").as_string());
  return out;
}

class Keymanager {
 public:
  Keymanager(std::uint16_t port, std::string token) : client_(port), token_(std::move(token)) {}
  HttpResult call(const std::string& method, const std::string& body = {}) {
    return client_.request(method, "/eth/v1/keystores", body,
                           {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token_}});
  }

 private:
  HttpClient client_;
  std::string token_;
};

std::string token_of(const std::filesystem::path& data_dir) {
  auto t = read_file(data_dir / "api-token.txt");
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t;
}

bool signs(std::uint16_t port, const std::string& pubkey) {
  HttpClient client(port);
  auto r = client.post("/api/v1/eth2/sign/" + pubkey, kRandao);
  return r.status == 200;
}

}  // namespace

TEST(KeymanagerApi, AuthImportDuplicateSignDeleteRestart) {
  TempDir dir;
  const auto data_dir = dir.path() / "data";
  const auto keys = interop_keys(3);
  std::string kept_pubkey, deleted_pubkey;
  {
    SignerProcess signer({"--data-dir", data_dir.string()});
    ASSERT_TRUE(signer.ready()) << signer.log();

    // The token: generated at first start, 256 bits as hex, mode 0600; its path is logged, never the token.
    const auto token = token_of(data_dir);
    EXPECT_EQ(token.size(), 64u);
    struct stat st {};
    ASSERT_EQ(::stat((data_dir / "api-token.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_NE(signer.log().find("api-token.txt"), std::string::npos);
    EXPECT_EQ(signer.log().find(token), std::string::npos) << "the token reached the log";

    HttpClient anonymous(signer.port());
    auto none = anonymous.get("/eth/v1/keystores");
    EXPECT_EQ(none.status, 401u);
    EXPECT_FALSE(json::parse(none.body).at("message").as_string().empty());
    auto wrong =
        anonymous.request("GET", "/eth/v1/keystores", {}, {{"Authorization", "Bearer " + std::string(64, '0')}});
    EXPECT_EQ(wrong.status, 403u);
    auto not_bearer = anonymous.request("GET", "/eth/v1/keystores", {}, {{"Authorization", "Basic " + token}});
    EXPECT_EQ(not_bearer.status, 403u);

    Keymanager km(signer.port(), token);
    auto empty = km.call("GET");
    ASSERT_EQ(empty.status, 200u);
    EXPECT_EQ(json::parse(empty.body).at("data").as_array().size(), 0u);

    std::vector<ImportItem> items{make_keystore(keys[0], "first password"), make_keystore(keys[1], "zweites Passwort")};
    auto imported = km.call("POST", import_body(items));
    ASSERT_EQ(imported.status, 200u) << imported.body;
    EXPECT_EQ(statuses(imported.body), (std::vector<std::string>{"imported", "imported"}));
    auto again = km.call("POST", import_body(items));
    EXPECT_EQ(statuses(again.body), (std::vector<std::string>{"duplicate", "duplicate"}));

    auto bad_password = km.call("POST", import_body({{items[0].keystore, "not it", keys[0].pubkey_hex},
                                                     {make_keystore(keys[2], "right").keystore, "wrong", ""}}));
    auto bad = json::parse(bad_password.body).at("data").as_array();
    EXPECT_EQ(bad[0].at("status").as_string(), "duplicate");
    EXPECT_EQ(bad[1].at("status").as_string(), "error");
    EXPECT_FALSE(bad[1].at("message").as_string().empty());
    EXPECT_FALSE(signs(signer.port(), keys[2].pubkey_hex));

    EXPECT_TRUE(signs(signer.port(), keys[0].pubkey_hex));
    EXPECT_TRUE(signs(signer.port(), keys[1].pubkey_hex));

    auto listed = json::parse(km.call("GET").body).at("data").as_array();
    ASSERT_EQ(listed.size(), 2u);
    for (const auto& k : listed) {
      EXPECT_EQ(k.at("readonly").as_bool(), false);
      EXPECT_EQ(k.at("derivation_path").as_string(), "m/12381/3600/0/0/0");
    }
    // Managed files are private to the signer.
    std::size_t files = 0;
    for (const auto& f : std::filesystem::directory_iterator(data_dir / "keystores")) {
      ASSERT_EQ(::stat(f.path().c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 0777, 0600u) << f.path();
      ++files;
    }
    EXPECT_EQ(files, 4u);

    kept_pubkey = keys[1].pubkey_hex;
    deleted_pubkey = keys[0].pubkey_hex;
    auto deleted = km.call("DELETE", json::serialize(json::object{{"pubkeys", json::array{deleted_pubkey}}}));
    ASSERT_EQ(deleted.status, 200u) << deleted.body;
    EXPECT_EQ(statuses(deleted.body), (std::vector<std::string>{"deleted"}));
    auto interchange = slashing::parse_interchange(json::parse(deleted.body).at("slashing_protection").as_string());
    ASSERT_TRUE(interchange) << interchange.error();
    ASSERT_EQ(interchange->data.size(), 1u);
    EXPECT_EQ(to_hex(interchange->data[0].pubkey), deleted_pubkey);
    EXPECT_FALSE(signs(signer.port(), deleted_pubkey));
    auto twice = km.call("DELETE", json::serialize(json::object{{"pubkeys", json::array{deleted_pubkey}}}));
    EXPECT_EQ(statuses(twice.body), (std::vector<std::string>{"not_found"}));
    EXPECT_EQ(signer.stop(SIGTERM), 0);
  }
  {
    SignerProcess signer({"--data-dir", data_dir.string()});
    ASSERT_TRUE(signer.ready()) << signer.log();
    Keymanager km(signer.port(), token_of(data_dir));
    auto listed = json::parse(km.call("GET").body).at("data").as_array();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].at("validating_pubkey").as_string(), kept_pubkey);
    EXPECT_TRUE(signs(signer.port(), kept_pubkey));
    EXPECT_FALSE(signs(signer.port(), deleted_pubkey));
  }
}

TEST(KeymanagerApi, ReadOnlyKeysAndMalformedBodies) {
  TempDir dir;
  auto [k, p] = write_keystores(dir.path(), interop_keys(1));
  const auto data_dir = dir.path() / "data";
  SignerProcess signer(
      {"--data-dir", data_dir.string(), "--keystores-path", k.string(), "--keystores-passwords-path", p.string()});
  ASSERT_TRUE(signer.ready()) << signer.log();
  Keymanager km(signer.port(), token_of(data_dir));
  const auto pubkey = interop_keys(1)[0].pubkey_hex;

  auto listed = json::parse(km.call("GET").body).at("data").as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].at("readonly").as_bool());
  auto deleted = km.call("DELETE", json::serialize(json::object{{"pubkeys", json::array{pubkey}}}));
  auto data = json::parse(deleted.body).at("data").as_array();
  EXPECT_EQ(data[0].at("status").as_string(), "error");
  EXPECT_NE(std::string(data[0].at("message").as_string()).find("read-only"), std::string::npos);
  EXPECT_TRUE(signs(signer.port(), pubkey));

  for (const auto& [method, body] : std::vector<std::pair<std::string, std::string>>{
           {"POST", "not json"},
           {"POST", R"({"keystores":["{}"],"passwords":[]})"},
           {"POST", R"({"keystores":"x","passwords":[]})"},
           {"POST", R"({"passwords":[]})"},
           {"POST", R"({"keystores":[],"passwords":[],"slashing_protection":"{\"metadata\":{}}"})"},
           {"POST", R"({"keystores":[],"passwords":[],"slashing_protection":17})"},
           {"DELETE", R"({"pubkeys":["0x1234"]})"},
           {"DELETE", R"({"pubkeys":["nothex"]})"},
           {"DELETE", R"({})"},
       }) {
    auto r = km.call(method, body);
    EXPECT_EQ(r.status, 400u) << method << " " << body << ": " << r.body;
    EXPECT_FALSE(json::parse(r.body).at("message").as_string().empty());
  }
  // A valid interchange is accepted with the import.
  const std::string interchange =
      R"({"metadata":{"interchange_format_version":"5","genesis_validators_root":"0x04700007fabc8282644aed6d1c7c9e21d38a03a0c4ba193f3afe428824b3a673"},"data":[]})";
  auto ok = km.call(
      "POST", json::serialize(json::object{
                  {"keystores", json::array{}}, {"passwords", json::array{}}, {"slashing_protection", interchange}}));
  EXPECT_EQ(ok.status, 200u) << ok.body;
}

TEST(KeymanagerApi, DisabledWithoutDataDirOrByFlag) {
  SignerProcess no_data_dir({"--slashing-protection-enabled=false"});
  ASSERT_TRUE(no_data_dir.ready()) << no_data_dir.log();
  EXPECT_EQ(HttpClient(no_data_dir.port()).get("/eth/v1/keystores").status, 404u);
  TempDir dir;
  SignerProcess disabled({"--data-dir", dir.path().string(), "--keymanager-api-enabled=false"});
  ASSERT_TRUE(disabled.ready()) << disabled.log();
  EXPECT_EQ(HttpClient(disabled.port()).get("/eth/v1/keystores").status, 404u);
}

TEST(Metrics, PromtoolAcceptsAndCountersMove) {
  TempDir dir;
  auto keys = interop_keys(2);
  auto [k, p] = write_keystores(dir.path(), keys);
  SignerProcess signer({"--keystores-path", k.string(), "--keystores-passwords-path", p.string()});
  ASSERT_TRUE(signer.ready()) << signer.log();
  HttpClient api(signer.port());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(api.post("/api/v1/eth2/sign/" + keys[0].pubkey_hex, kRandao).status, 200u);
  EXPECT_EQ(api.post("/api/v1/eth2/sign/" + keys[0].pubkey_hex, "{").status, 400u);

  HttpClient metrics(signer.metrics_port());
  auto res = metrics.get("/metrics");
  ASSERT_EQ(res.status, 200u);
  EXPECT_TRUE(res.headers["content-type"].starts_with("text/plain; version=0.0.4"));
  const auto& text = res.body;
  for (const char* needle :
       {"cachet_signing_requests_total{type=\"RANDAO_REVEAL\",status=\"ok\"} 3",
        "cachet_signing_duration_seconds_bucket{type=\"RANDAO_REVEAL\",le=\"0.0001\"}",
        "cachet_signing_duration_seconds_count{type=\"RANDAO_REVEAL\"} 3", "cachet_keys_loaded{source=\"external\"} 2",
        "cachet_key_load_failures_total 0", "cachet_keystore_decrypt_duration_seconds_count 2",
        "cachet_http_requests_total{route=\"sign\",code=\"200\"} 3",
        "cachet_http_requests_total{route=\"sign\",code=\"400\"} 1",
        "cachet_http_request_duration_seconds_bucket{route=\"sign\"",
        "cachet_build_info{version=", "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
        "process_start_time_seconds"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle;
  }
  EXPECT_EQ(metrics.get("/other").status, 404u);

  const auto file = dir.path() / "metrics.txt";
  write_file(file, text);
  const std::string command =
      "promtool check metrics < " + file.string() + " > " + (dir.path() / "promtool.out").string() + " 2>&1";
  const int rc = std::system(command.c_str());
  EXPECT_EQ(rc, 0) << read_file(dir.path() / "promtool.out");
}

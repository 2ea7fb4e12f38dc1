// Transport security against the real binary: TLS (versions, ciphers, renegotiation), mutual TLS by client CA and
// by known-clients fingerprints, the Host allowlist, bad TLS flags, and the connection limits (slowloris, idle
// keep-alive, handshake stall, --max-connections). Certificates are made at test time (support/tls_certs.hpp).
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cachet/crypto/bls.hpp>
#include <cachet/util/bytes.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <thread>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/raw_socket.hpp"
#include "support/requests.hpp"
#include "support/signer_process.hpp"
#include "support/tls_certs.hpp"
#include "support/tls_client.hpp"

using namespace cachet;
using namespace cachet::test;
namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Polls `condition` every 10 ms until it holds or `timeout` passes; whether it held.
bool wait_until(const std::function<bool()>& condition, Clock::duration timeout = 5s) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// The server's ends of TCP connections to its loopback `port` not yet closed by it (/proc/net/tcp: ESTABLISHED,
// including those the kernel completed but the server has not accepted yet, or CLOSE_WAIT, the client gone but the
// server not done with it yet). The listening socket does not count.
std::size_t server_connections(std::uint16_t port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  std::size_t count = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    const auto colon = local.find(':');
    if (colon == std::string::npos || std::stoul(local.substr(colon + 1), nullptr, 16) != port) continue;
    count += state == "01" || state == "08";
  }
  return count;
}

// Suite-wide: one key to sign with and one set of certificates.
class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    keys_ = interop_keys(1);
    keystores_ = keystore_flags(dir_->path(), keys_);
    files_ = make_tls_files(dir_->path() / "tls");
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // A client that trusts the test CA, with the given certificate (or none).
  static TlsClientConfig client(const CertAndKey* cert = nullptr) {
    TlsClientConfig config;
    config.ca_file = files_.ca.cert;
    if (cert) {
      config.cert_file = cert->cert;
      config.key_file = cert->key;
    }
    return config;
  }

  // Starts the signer with TLS (and `extra` flags) and waits until `ready_client` gets /upcheck over TLS.
  static std::unique_ptr<SignerProcess> start_tls(std::vector<std::string> extra,
                                                  const TlsClientConfig& ready_client = client(),
                                                  const std::filesystem::path& key_file = files_.server.key) {
    std::vector<std::string> args = keystores_;
    for (const auto& a : std::vector<std::string>{"--tls-cert-file", files_.server.cert.string(), "--tls-key-file",
                                                  key_file.string(), "--log-level", "debug"})
      args.push_back(a);
    args.insert(args.end(), extra.begin(), extra.end());
    auto signer = std::make_unique<SignerProcess>(args, /*wait_ready=*/false);
    const auto deadline = Clock::now() + 60s;
    while (Clock::now() < deadline) {
      if (tls_get(signer->port(), ready_client).status == 200) return signer;
      if (signer->log().find("cachet: error") != std::string::npos) break;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "the TLS signer did not become ready:\n" << signer->log();
    return signer;
  }

  static std::unique_ptr<SignerProcess> start_plain(std::vector<std::string> extra) {
    std::vector<std::string> args = keystores_;
    args.insert(args.end(), extra.begin(), extra.end());
    auto signer = std::make_unique<SignerProcess>(args);
    EXPECT_TRUE(signer->ready()) << signer->log();
    return signer;
  }

  static std::string sign_path() { return "/api/v1/eth2/sign/" + keys_[0].pubkey_hex; }

  // A client the server refuses gets no HTTP answer but the TLS alert that says why: with TLS 1.3 the server checks
  // the client's certificate after the client's side of the handshake, so the alert ends the client's first read.
  static void expect_refused(std::uint16_t port, const TlsClientConfig& config, std::string_view alert) {
    const auto answer = tls_get(port, config);
    EXPECT_EQ(answer.status, 0u) << "answered " << answer.status << ": " << answer.body;
    EXPECT_NE(answer.error.find(alert), std::string::npos) << "expected '" << alert << "', got: " << answer.error;
  }

  // The signature in a sign answer verifies for key 0 over the request's signing root.
  static void expect_valid_signature(const std::string& request, const HttpResult& answer) {
    ASSERT_EQ(answer.status, 200u) << answer.body << answer.error;
    const auto signature = from_hex_fixed<96>(std::string(json::parse(answer.body).at("signature").as_string()));
    const auto pubkey = from_hex_fixed<48>(keys_[0].pubkey_hex);
    ASSERT_TRUE(signature && pubkey);
    EXPECT_TRUE(crypto::verify(*pubkey, signing_root_of(request), *signature));
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::vector<KnownKey> keys_;
  static inline std::vector<std::string> keystores_;
  static inline TlsFiles files_;
};

// ---------------------------------------------------------------------------------------------------------------
// TLS

TEST_F(Tls, HandshakeAndSign) {
  auto signer = start_tls({});
  TlsConnection connection(signer->port(), client());
  ASSERT_TRUE(connection.ok()) << connection.error();
  EXPECT_EQ(connection.protocol(), "TLSv1.3");
  EXPECT_FALSE(connection.compressed());
  const auto request = randao_request(7);
  expect_valid_signature(request, connection.request("POST", sign_path(), request));
  // Keep-alive: a second request on the same TLS connection.
  EXPECT_EQ(connection.get("/upcheck").status, 200u);
  // An oversized body still gets its 413 over TLS (the server lingers instead of resetting).
  auto big = connection.request("POST", sign_path(), std::string(2 << 20, ' '));
  EXPECT_EQ(big.status, 413u) << big.error;
  EXPECT_NE(signer->log().find("listening on https://"), std::string::npos);
}

TEST_F(Tls, Tls12OnlyWithEcdheAeadCiphersAndServerPreference) {
  auto signer = start_tls({});
  auto tls12 = [&](std::string ciphers) {
    auto config = client();
    config.max_version = TLS1_2_VERSION;
    config.cipher_list = std::move(ciphers);
    return std::make_unique<TlsConnection>(signer->port(), config);
  };
  for (const char* good :
       {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"}) {
    auto c = tls12(good);
    ASSERT_TRUE(c->ok()) << good << ": " << c->error();
    EXPECT_EQ(c->protocol(), "TLSv1.2");
    EXPECT_EQ(c->cipher(), good);
    EXPECT_EQ(c->get("/upcheck").status, 200u) << good;
  }
  // RSA key exchange (no forward secrecy) and CBC modes: refused although the certificate is RSA.
  for (const char* bad : {"AES128-GCM-SHA256", "AES256-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384"}) {
    auto config = client();
    config.max_version = TLS1_2_VERSION;
    config.cipher_list = bad;
    config.allow_legacy = true;
    TlsConnection c(signer->port(), config);
    EXPECT_FALSE(c.ok()) << bad << " was accepted";
    EXPECT_NE(c.error().find("alert"), std::string::npos) << bad << ": refused by the client itself: " << c.error();
  }
  // The server's order wins: it prefers AES-256-GCM to ChaCha20 whatever the client lists first.
  auto preferred = tls12("ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384");
  ASSERT_TRUE(preferred->ok()) << preferred->error();
  EXPECT_EQ(preferred->cipher(), "ECDHE-RSA-AES256-GCM-SHA384");
}

TEST_F(Tls, OldProtocolsRenegotiationAndPlainHttpRefused) {
  auto signer = start_tls({});
  for (int version : {TLS1_1_VERSION, TLS1_VERSION}) {
    auto config = client();
    config.min_version = version;
    config.max_version = version;
    config.allow_legacy = true;
    TlsConnection c(signer->port(), config);
    EXPECT_FALSE(c.ok()) << "version " << version << " was accepted";
    // The server refused it (an alert), not the client failing to offer it.
    EXPECT_NE(c.error().find("alert"), std::string::npos) << c.error();
  }
  EXPECT_NE(signer->log().find("TLS handshake with 127.0.0.1"), std::string::npos) << signer->log();

  auto config = client();
  config.max_version = TLS1_2_VERSION;
  TlsConnection tls12(signer->port(), config);
  ASSERT_TRUE(tls12.ok()) << tls12.error();
  EXPECT_FALSE(tls12.renegotiate());

  // Plain HTTP to the TLS port: the handshake fails on the first record (OpenSSL sends no alert for an HTTP
  // request), the server closes the connection at once without a byte, and logs why.
  RawSocket plain(signer->port());
  ASSERT_TRUE(plain.send("GET /upcheck HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const auto start = Clock::now();
  EXPECT_EQ(plain.read_until_closed(), "");
  EXPECT_TRUE(plain.closed_by_server());
  EXPECT_LT(Clock::now() - start, 5s) << "closed by the request timeout, not by the failed handshake";
  EXPECT_TRUE(wait_until([&] { return signer->log().find("failed: http request") != std::string::npos; }))
      << signer->log();
  // The server keeps serving.
  EXPECT_EQ(tls_get(signer->port(), client()).status, 200u);
}

TEST_F(Tls, HandshakeStallIsCutAfterTheRequestTimeout) {
  auto signer = start_tls({"--request-timeout-seconds", "2"});
  RawSocket stall(signer->port());
  ASSERT_TRUE(stall.connected());
  const auto took = stall.time_until_closed();
  EXPECT_GE(took, 1500ms);
  EXPECT_LE(took, 6000ms);
}

// ---------------------------------------------------------------------------------------------------------------
// Mutual TLS

TEST_F(Tls, ClientCaAcceptsOnlyCertificatesItIssued) {
  auto signer = start_tls({"--tls-client-ca-file", files_.ca.cert.string()}, client(&files_.client));
  const auto port = signer->port();
  EXPECT_EQ(tls_get(port, client(&files_.client)).status, 200u);
  expect_refused(port, client(), "alert certificate required");           // no client certificate
  expect_refused(port, client(&files_.unrelated), "alert unknown ca");    // a certificate from another CA
  expect_refused(port, client(&files_.self_signed), "alert unknown ca");  // a self-signed certificate
  // TLS 1.2 too: there the handshake itself fails.
  auto config = client();
  config.max_version = TLS1_2_VERSION;
  EXPECT_FALSE(TlsConnection(port, config).ok());
  config = client(&files_.client);
  config.max_version = TLS1_2_VERSION;
  TlsConnection ok12(port, config);
  ASSERT_TRUE(ok12.ok()) << ok12.error();
  const auto request = randao_request(8);
  expect_valid_signature(request, ok12.request("POST", sign_path(), request));

  const auto log = signer->log();
  EXPECT_NE(log.find("TLS client '"), std::string::npos) << log;
  EXPECT_NE(log.find("CN=ca-client"), std::string::npos) << log;
  EXPECT_EQ(log.find("BEGIN CERTIFICATE"), std::string::npos);
}

TEST_F(Tls, KnownClientsAcceptListedFingerprintsEvenSelfSigned) {
  std::string fingerprint = files_.self_signed.fingerprint;
  std::ranges::transform(fingerprint, fingerprint.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto file = dir_->path() / "known-clients.txt";
  write_file(file, "# validator clients\n\n  lighthouse-1   " + fingerprint + "  \r\n# end\n");
  auto signer = start_tls({"--tls-known-clients-file", file.string()}, client(&files_.self_signed));
  const auto port = signer->port();
  EXPECT_EQ(tls_get(port, client(&files_.self_signed)).status, 200u);
  expect_refused(port, client(), "alert certificate required");              // no client certificate
  expect_refused(port, client(&files_.unrelated), "alert bad certificate");  // an unlisted certificate
  // CA-issued but unlisted: without --tls-client-ca-file the CA does not count.
  expect_refused(port, client(&files_.client), "alert bad certificate");
  EXPECT_NE(signer->log().find("TLS client 'lighthouse-1' connected from 127.0.0.1"), std::string::npos)
      << signer->log();
}

TEST_F(Tls, ClientCaOrKnownClientEitherIsEnough) {
  const auto file = dir_->path() / "known-both.txt";
  write_file(file, "vero " + files_.self_signed.fingerprint + "\n");
  auto signer = start_tls({"--tls-client-ca-file", files_.ca.cert.string(), "--tls-known-clients-file", file.string()},
                          client(&files_.client));
  const auto port = signer->port();
  EXPECT_EQ(tls_get(port, client(&files_.client)).status, 200u);
  EXPECT_EQ(tls_get(port, client(&files_.self_signed)).status, 200u);
  expect_refused(port, client(&files_.unrelated), "alert unknown ca");
  expect_refused(port, client(), "alert certificate required");
}

// ---------------------------------------------------------------------------------------------------------------
// Bad flags

TEST_F(Tls, BadTlsFlagsExitWithOneLine) {
  const auto cert = files_.server.cert.string();
  const auto key = files_.server.key.string();
  const auto bad_known = dir_->path() / "bad-known.txt";
  write_file(bad_known, "# ok\nteku " + files_.client.fingerprint + "\nprysm not-a-fingerprint\n");
  const auto empty_known = dir_->path() / "empty-known.txt";
  write_file(empty_known, "# nobody\n");
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--tls-cert-file", cert}, "--tls-cert-file and --tls-key-file must be given together"},
      {{"--tls-key-file", key}, "--tls-cert-file and --tls-key-file must be given together"},
      {{"--tls-client-ca-file", files_.ca.cert.string()}, "need --tls-cert-file"},
      {{"--tls-cert-file", cert, "--tls-key-file", key, "--tls-known-clients-file", bad_known.string()}, "line 3"},
      {{"--tls-cert-file", cert, "--tls-key-file", key, "--tls-known-clients-file", empty_known.string()},
       "lists no client"},
      {{"--tls-cert-file", (dir_->path() / "missing.crt").string(), "--tls-key-file", key}, "missing.crt"},
      {{"--tls-cert-file", cert, "--tls-key-file", files_.client.key.string()}, "does not match"},
      {{"--tls-cert-file", key, "--tls-key-file", key}, "not a PEM certificate"},
      {{"--tls-cert-file", cert, "--tls-key-file", key, "--tls-client-ca-file", "/nonexistent/ca.pem"},
       "/nonexistent/ca.pem"},
      {{"--http-host-allowlist", "localhost:8080"}, "without a port"},
      {{"--http-host-allowlist", " , "}, "names no host"},
  };
  for (const auto& c : cases) {
    auto args = c.args;
    args.insert(args.end(), {"--slashing-protection-enabled=false", "--port", "0"});
    const auto result = run_cachet(args);
    EXPECT_EQ(result.exit_code, 2) << c.says << ": " << result.output;
    EXPECT_TRUE(result.output.starts_with("cachet: error: ")) << result.output;
    EXPECT_EQ(std::ranges::count(result.output, '\n'), 1) << result.output;
    EXPECT_NE(result.output.find(c.says), std::string::npos) << result.output;
  }
  for (const char* flag : {"--max-connections", "--request-timeout-seconds", "--idle-timeout-seconds"}) {
    const auto result = run_cachet({flag, "0", "--slashing-protection-enabled=false"});
    EXPECT_NE(result.exit_code, 0) << flag << ": " << result.output;
  }
}

TEST_F(Tls, KeyFileReadableByOthersIsAWarning) {
  const auto key = dir_->path() / "open.key";
  std::filesystem::copy_file(files_.server.key, key, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::permissions(key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                        std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  auto signer = start_tls({}, client(), key);
  EXPECT_NE(signer->log().find("accessible by users other than its owner (mode 0644)"), std::string::npos)
      << signer->log();
  auto tight = start_tls({});
  EXPECT_EQ(tight->log().find("accessible by users other than its owner"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------------------------
// Host allowlist

std::string raw_get(const std::string& host_line, const std::string& version = "HTTP/1.1") {
  return "GET /upcheck " + version + "\r\n" + host_line + "Connection: close\r\n\r\n";
}

TEST_F(Tls, HostAllowlistDefaultIsLoopbackNames) {
  auto signer = start_plain({});
  const auto port = signer->port();
  const auto p = std::to_string(port);
  auto status = [&](std::uint16_t to, const std::string& bytes) { return HttpClient(to).raw(bytes).status; };
  const auto evil = HttpClient(port).raw(raw_get("Host: evil.example\r\n"));
  EXPECT_EQ(evil.status, 403u);
  EXPECT_NE(json::parse(evil.body).at("message").as_string().find("evil.example"), std::string::npos) << evil.body;
  EXPECT_EQ(status(port, raw_get("Host: evil.example:" + p + "\r\n")), 403u);
  EXPECT_EQ(status(port, raw_get("Host: localhost.evil.example\r\n")), 403u);
  EXPECT_EQ(status(port, raw_get("Host: [::1]:" + p + "\r\n")), 403u);
  EXPECT_EQ(status(port, raw_get("")), 403u) << "HTTP/1.1 without Host";
  EXPECT_EQ(status(port, raw_get("Host: localhost\r\nHost: evil.example\r\n")), 403u);
  EXPECT_EQ(status(port, raw_get("Host: localhost:" + p + "\r\n")), 200u);
  EXPECT_EQ(status(port, raw_get("Host: LocalHost\r\n")), 200u);
  EXPECT_EQ(status(port, raw_get("Host: 127.0.0.1:" + p + "\r\n")), 200u);
  EXPECT_EQ(status(port, raw_get("", "HTTP/1.0")), 200u) << "HTTP/1.0 has no Host";
  // Refused before any handler: a sign request with a foreign Host is not signed.
  auto refused = HttpClient(port).raw("POST " + sign_path() +
                                      " HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\n"
                                      "Content-Length: 2\r\n\r\n{}");
  EXPECT_EQ(refused.status, 403u);
  // The metrics listener applies the same list.
  const auto mp = signer->metrics_port();
  EXPECT_EQ(status(mp, "GET /metrics HTTP/1.1\r\nHost: evil.example\r\n\r\n"), 403u);
  EXPECT_EQ(status(mp, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(mp) + "\r\n\r\n"), 200u);
  EXPECT_NE(signer->log().find("Host 'evil.example' is not in --http-host-allowlist"), std::string::npos);
}

TEST_F(Tls, HostAllowlistCustomAndAny) {
  auto custom = start_plain({"--http-host-allowlist", "signer.internal, [::1],127.0.0.1"});
  const auto p = std::to_string(custom->port());
  auto status = [&](std::uint16_t to, const std::string& bytes) { return HttpClient(to).raw(bytes).status; };
  EXPECT_EQ(status(custom->port(), raw_get("Host: Signer.Internal:" + p + "\r\n")), 200u);
  EXPECT_EQ(status(custom->port(), raw_get("Host: [0:0::1]:" + p + "\r\n")), 200u);
  EXPECT_EQ(status(custom->port(), raw_get("Host: localhost\r\n")), 403u);

  auto any = start_plain({"--http-host-allowlist", "*"});
  EXPECT_EQ(status(any->port(), raw_get("Host: evil.example\r\n")), 200u);
  EXPECT_EQ(status(any->port(), raw_get("")), 200u);
  EXPECT_EQ(status(any->metrics_port(), "GET /metrics HTTP/1.1\r\nHost: evil.example\r\n\r\n"), 200u);
}

TEST_F(Tls, HostAllowlistOverTls) {
  auto signer = start_tls({});
  TlsConnection c(signer->port(), client());
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.request("GET", "/upcheck", {}, {{"Host", "evil.example"}}).status, 403u);
  EXPECT_EQ(tls_get(signer->port(), client()).status, 200u);  // Host: localhost:PORT
}

// ---------------------------------------------------------------------------------------------------------------
// Limits

// A client trickling a request one byte a second is cut off after the request timeout, while other clients keep
// being served throughout.
TEST_F(Tls, SlowlorisIsCutOffWhileOthersAreServed) {
  auto signer = start_plain({"--request-timeout-seconds", "2", "--idle-timeout-seconds", "60"});
  const auto port = signer->port();
  std::atomic<bool> done{false};
  std::atomic<long> cut_after_ms{-1};
  std::string cut_answer;
  std::thread slow([&] {
    RawSocket s(port);
    if (!s.connected()) return done.store(true);
    const std::string request = "POST " + sign_path() + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}";
    const auto start = Clock::now();
    for (std::size_t i = 0; i < request.size() && Clock::now() - start < 15s; ++i) {
      if (s.answered_or_closed() || !s.send(request.substr(i, 1))) {
        cut_after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
        break;
      }
      std::this_thread::sleep_for(1s);
    }
    cut_answer = s.read_until_closed();
    done = true;
  });
  int served = 0;
  const auto request = randao_request(9);
  while (!done) {
    HttpClient other(port);
    const auto answer = other.post(sign_path(), request);
    EXPECT_EQ(answer.status, 200u) << answer.error;
    served += answer.status == 200;
    std::this_thread::sleep_for(200ms);
  }
  slow.join();
  EXPECT_GE(cut_after_ms.load(), 1500) << "cut before the request timeout";
  EXPECT_LE(cut_after_ms.load(), 5000) << "not cut within the request timeout (+ one byte interval)";
  EXPECT_TRUE(cut_answer.starts_with("HTTP/1.1 408")) << "a request cut short is answered 408: " << cut_answer;
  EXPECT_GE(served, 3);
}

// The same on a kept-alive connection: it may idle for the idle timeout, but once the next request's first byte
// arrives, the request timeout runs.
TEST_F(Tls, SlowlorisOnAKeptAliveConnectionIsCutAfterTheRequestTimeout) {
  auto signer = start_plain({"--request-timeout-seconds", "2", "--idle-timeout-seconds", "60"});
  RawSocket s(signer->port());
  ASSERT_TRUE(s.send("GET /upcheck HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  std::string answer(4096, '\0');
  answer.resize(std::max<ssize_t>(0, ::recv(s.fd(), answer.data(), answer.size(), 0)));
  ASSERT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
  std::this_thread::sleep_for(2500ms);  // idle past the request timeout: still open
  ASSERT_FALSE(s.answered_or_closed());
  const std::string next = "GET /upcheck HTTP/1.1\r\nHost: localhost\r\n\r\n";
  const auto start = Clock::now();
  long cut_after_ms = -1;
  for (std::size_t i = 0; i < next.size() && Clock::now() - start < 15s; ++i) {
    if (s.answered_or_closed() || !s.send(next.substr(i, 1))) {
      cut_after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
      break;
    }
    std::this_thread::sleep_for(1s);
  }
  EXPECT_GE(cut_after_ms, 1500);
  EXPECT_LE(cut_after_ms, 5000);
  const auto cut = s.read_until_closed();
  EXPECT_TRUE(cut.starts_with("HTTP/1.1 408")) << cut;
}

TEST_F(Tls, IdleAndSilentConnectionsAreClosed) {
  auto signer = start_plain({"--request-timeout-seconds", "2", "--idle-timeout-seconds", "4"});
  const auto port = signer->port();
  // A new connection that never sends a request gets the request timeout, not the idle one.
  RawSocket silent(port);
  ASSERT_TRUE(silent.connected());
  const auto silent_for = silent.time_until_closed();
  EXPECT_GE(silent_for, 1500ms);
  EXPECT_LT(silent_for, 3500ms);
  // A kept-alive connection after a request gets the idle timeout.
  RawSocket kept(port);
  ASSERT_TRUE(kept.send("GET /upcheck HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const auto idle_for = kept.time_until_closed();  // includes reading the answer
  EXPECT_GE(idle_for, 3500ms);
  EXPECT_LE(idle_for, 6500ms);
}

TEST_F(Tls, HeadersOver16KiBAre431) {
  auto signer = start_plain({});
  auto answer =
      HttpClient(signer->port())
          .raw("GET /upcheck HTTP/1.1\r\nHost: localhost\r\nX-Big: " + std::string(17 << 10, 'a') + "\r\n\r\n");
  EXPECT_EQ(answer.status, 431u);
}

// At the limit a new connection takes the place of the oldest one that carries no request: first those that never
// completed a request (here a silent one), then kept-alive idle ones; never one whose request is being answered.
TEST_F(Tls, AtTheConnectionLimitANewConnectionReplacesTheOldestIdleOne) {
  auto signer = start_plain({"--max-connections", "2"});
  const auto port = signer->port();
  ASSERT_TRUE(wait_until([&] { return server_connections(port) == 0; })) << "the start-up check's connections stay";
  HttpClient a(port);
  ASSERT_EQ(a.get("/upcheck").status, 200u);
  RawSocket silent(port);
  ASSERT_TRUE(silent.connected());
  ASSERT_TRUE(wait_until([&] { return server_connections(port) == 2; }));
  // A third connection: the silent one goes (at once, not after the request timeout), the served one stays.
  HttpClient b(port);
  const auto start = Clock::now();
  EXPECT_EQ(b.get("/upcheck").status, 200u);
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_LT(silent.time_until_closed(), 1000ms);
  EXPECT_EQ(a.get("/upcheck").status, 200u) << "the kept-alive connection was displaced before the silent one";
  // A fourth: now only kept-alive ones are left, and the oldest idle one (b, as a was just used) goes.
  RawSocket c(port);
  ASSERT_TRUE(c.send("GET /upcheck HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(c.read_until_closed().starts_with("HTTP/1.1 200"));
  EXPECT_EQ(a.get("/upcheck").status, 200u);
  EXPECT_NE(signer->log().find("connection limits (--max-connections 2"), std::string::npos) << signer->log();
}

// TLS connections count alike: one stalled in its handshake is displaced by a new client, a served one is not.
TEST_F(Tls, ConnectionLimitCountsTlsConnections) {
  auto signer = start_tls({"--max-connections", "2"});
  const auto port = signer->port();
  ASSERT_TRUE(wait_until([&] { return server_connections(port) == 0; })) << "the start-up check's connection stays";
  TlsConnection first(port, client());
  ASSERT_TRUE(first.ok()) << first.error();
  ASSERT_EQ(first.get("/upcheck").status, 200u);
  RawSocket stalled(port);  // never sends a ClientHello
  ASSERT_TRUE(stalled.connected());
  ASSERT_TRUE(wait_until([&] { return server_connections(port) == 2; }));
  EXPECT_EQ(tls_get(signer->port(), client()).status, 200u);
  EXPECT_LT(stalled.time_until_closed(), 1000ms);
  EXPECT_EQ(first.get("/upcheck").status, 200u);
}

}  // namespace

// Defaults that are checked rather than trusted, against the real binary: every numeric flag's range, the keymanager
// token file (length, whitespace, permissions), per-route body limits for both framings, requests that end early,
// SIGHUP, and the slashing database's failure logged once a second.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <regex>
#include <thread>

#include "support/database_lock.hpp"
#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/raw_http.hpp"
#include "support/requests.hpp"
#include "support/signer_process.hpp"

using namespace cachet;
using namespace cachet::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::size_t lines(const std::string& text) { return static_cast<std::size_t>(std::ranges::count(text, '\n')); }

// ---------------------------------------------------------------------------------------------------------------
// Flags

TEST(CheckedFlags, OutOfRangeValuesExitTwoWithOneLine) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--slashing-protection-pruning-epochs-to-keep", "-1"},
                                             {"--slashing-protection-pruning-epochs-to-keep", "99999999999"},
                                             {"--port", "-1"},
                                             {"--port", "70000"},
                                             {"--metrics-port", "65536"},
                                             {"--workers", "-2"},
                                             {"--workers", "0x10"},
                                             {"--keystore-max-scrypt-n", "-1"},
                                             {"--keystore-max-scrypt-n", "1"},
                                             {"--max-queued-requests", "0"},
                                             {"--max-queued-requests", "+5"},
                                             {"--max-connections", "-1"},
                                             {"--max-connections", "0"},
                                             {"--max-connections-per-ip", "0"},
                                             {"--request-timeout-seconds", "0"},
                                             {"--request-timeout-seconds", "1e3"},
                                             {"--idle-timeout-seconds", "86401"},
                                             {"--shutdown-grace-seconds", "-5"},
                                             {"--shutdown-grace-seconds", "3601"},
                                             {"--slashing-protection-db-pool-size", "-1"},
                                             {"--slashing-protection-db-timeout-ms", "5"},
                                             {"--keymanager-api-enabled", "maybe"},
                                             {"--slashing-protection-enabled", "2"}}) {
    const auto r = run_cachet(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1] << ": " << r.output;
    EXPECT_EQ(lines(r.output), 1u) << args[0] << " " << args[1] << ": " << r.output;
    EXPECT_NE(r.output.find(args[0]), std::string::npos) << "the line names the flag: " << r.output;
  }
}

TEST(CheckedFlags, BoundaryValuesAreAccepted) {
  SignerProcess signer({"--slashing-protection-pruning-epochs-to-keep", "0", "--shutdown-grace-seconds", "0",
                        "--max-connections-per-ip", "1", "--keystore-max-scrypt-n", "2"});
  EXPECT_TRUE(signer.ready()) << signer.log();
}

// ---------------------------------------------------------------------------------------------------------------
// Keymanager token file

struct TokenSigner {
  TempDir dir;
  std::filesystem::path token_file = dir.path() / "token.txt";
  std::unique_ptr<SignerProcess> process;

  void start(const std::string& content, mode_t mode) {
    write_file(token_file, content);
    ::chmod(token_file.c_str(), mode);
    process = std::make_unique<SignerProcess>(std::vector<std::string>{"--data-dir", (dir.path() / "data").string(),
                                                                       "--keymanager-token-file", token_file.string()});
  }
  HttpResult list(const std::string& authorization) {
    return HttpClient(process->port()).request("GET", "/eth/v1/keystores", {}, {{"Authorization", authorization}});
  }
};

const std::string kToken = "0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(KeymanagerToken, SurroundingWhitespaceIsStrippedOnBothSides) {
  TokenSigner s;
  s.start("  \t" + kToken + " \r\n\n", 0600);
  ASSERT_TRUE(s.process->ready()) << s.process->log();
  EXPECT_EQ(s.list("Bearer " + kToken).status, 200u);
  EXPECT_EQ(s.list("Bearer    " + kToken + "  ").status, 200u);
  EXPECT_EQ(s.list("Bearer " + kToken.substr(1)).status, 403u);
  EXPECT_NE(s.process->log().find("wrong bearer token"), std::string::npos) << "a 403 is logged";
  EXPECT_EQ(s.process->log().find(kToken), std::string::npos) << "the token reached the log";
  EXPECT_EQ(s.process->log().find("readable by users other than its owner"), std::string::npos);
}

TEST(KeymanagerToken, ShorterThan32CharactersIsRefused) {
  TempDir dir;
  const auto token_file = dir.path() / "token.txt";
  write_file(token_file, " " + std::string(31, 'x') + "\n");
  ::chmod(token_file.c_str(), 0600);
  const auto r =
      run_cachet({"--data-dir", (dir.path() / "data").string(), "--keymanager-token-file", token_file.string(),
                  "--port", std::to_string(free_port()), "--metrics-port", std::to_string(free_port())});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(lines(r.output), 1u) << r.output;
  EXPECT_NE(r.output.find("at least 32"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(std::string(31, 'x')), std::string::npos) << "the token reached the output";
}

TEST(KeymanagerToken, ReadableByOthersIsAWarningAtStartAndOnHealthcheck) {
  TokenSigner s;
  s.start(kToken + "\n", 0644);
  ASSERT_TRUE(s.process->ready()) << s.process->log();
  EXPECT_NE(s.process->log().find("readable by users other than its owner (mode 0644)"), std::string::npos)
      << s.process->log();
  const auto health = HttpClient(s.process->port()).get("/healthcheck");
  EXPECT_EQ(health.status, 200u) << health.body;
  const auto checks = json::parse(health.body).at("checks").as_array();
  const auto it = std::ranges::find_if(
      checks, [](const json::value& c) { return c.at("id").as_string() == "keymanager-token-file"; });
  ASSERT_NE(it, checks.end()) << health.body;
  EXPECT_NE(json::serialize(*it).find("chmod 600"), std::string::npos) << health.body;
  EXPECT_EQ(s.list("Bearer " + kToken).status, 200u);
}

// ---------------------------------------------------------------------------------------------------------------
// Body limits, early ends, SIGHUP

class Listener : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    keys_ = interop_keys(1);
    auto args = keystore_flags(dir_->path(), keys_);
    args.insert(args.end(), {"--data-dir", (dir_->path() / "data").string(), "--request-timeout-seconds", "1"});
    signer_ = std::make_unique<SignerProcess>(args);
    token_ = read_file(dir_->path() / "data" / "api-token.txt");
    token_.erase(token_.find_last_not_of("\r\n ") + 1);
  }
  static void TearDownTestSuite() {
    signer_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_TRUE(signer_->ready()) << signer_->log(); }

  static std::uint16_t port() { return signer_->port(); }
  static std::string sign_path() { return "/api/v1/eth2/sign/" + keys_[0].pubkey_hex; }

  // The same body sent with Content-Length, or chunked in 64 KiB chunks.
  static RawResponse send(const std::string& target, const std::string& body, bool chunked) {
    std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/json"},
                                                             {"Authorization", "Bearer " + token_}};
    std::string framed = body;
    if (chunked) {
      headers.emplace_back("Transfer-Encoding", "chunked");
      framed.clear();
      for (std::size_t at = 0; at < body.size(); at += 64 << 10) {
        const auto piece = body.substr(at, 64 << 10);
        char size[32];
        std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
        framed += size + piece + "\r\n";
      }
      framed += "0\r\n\r\n";
    }
    RawConnection connection(port());
    return connection.exchange(http_request("POST", target, framed, headers, port()), 30000);
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::vector<KnownKey> keys_;
  static inline std::unique_ptr<SignerProcess> signer_;
  static inline std::string token_;
};

// A keystore import over 1 MiB (2,100 entries that are not keystores, about 2.2 MiB) is read and answered item by
// item with either framing; the same size on a sign route is 413 with either; over 64 MiB a keymanager POST is 413.
TEST_F(Listener, PerRouteBodyLimitAppliesToBothFramings) {
  json::array keystores, passwords;
  for (int i = 0; i < 2100; ++i) {
    keystores.emplace_back(std::string(1000, 'k'));
    passwords.emplace_back("p");
  }
  const auto import = json::serialize(json::object{{"keystores", keystores}, {"passwords", passwords}});
  ASSERT_GT(import.size(), 2u << 20);
  for (const bool chunked : {false, true}) {
    const auto r = send("/eth/v1/keystores", import, chunked);
    ASSERT_EQ(r.status, 200u) << (chunked ? "chunked: " : "Content-Length: ") << r.body << r.error;
    EXPECT_EQ(json::parse(r.body).at("data").as_array().size(), 2100u);
    EXPECT_EQ(send(sign_path(), std::string(2 << 20, ' '), chunked).status, 413u) << chunked;
  }
  RawConnection huge(port());
  const auto r = huge.exchange("POST /eth/v1/keystores HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                                   std::to_string((64 << 20) + 1) + "\r\n\r\n",
                               5000);
  EXPECT_EQ(r.status, 413u) << r.error;
}

// A request that ends (the client closes its side) or stalls mid-headers or mid-body is answered 400 or 408, not
// dropped; a connection that sent nothing is closed without an answer.
TEST_F(Listener, RequestsEndingEarlyAreAnswered) {
  const std::string head = "POST " + sign_path() + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n";
  const auto ended = [&](const std::string& bytes) {
    return RawConnection(port()).exchange(bytes, 5000, /*shutdown_write=*/true);
  };
  const auto stalled = [&](const std::string& bytes) { return RawConnection(port()).exchange(bytes, 5000); };

  const auto mid_body = ended(head + "{\"type\":");
  EXPECT_EQ(mid_body.status, 400u) << mid_body.error;
  EXPECT_NE(mid_body.body.find("ended before it was complete"), std::string::npos) << mid_body.body;
  EXPECT_EQ(ended(head.substr(0, 30)).status, 400u);
  EXPECT_EQ(stalled(head + "{\"type\":").status, 408u);  // --request-timeout-seconds 1
  EXPECT_EQ(stalled(head.substr(0, 30)).status, 408u);
  const auto nothing = ended("");
  EXPECT_EQ(nothing.status, 0u);
  EXPECT_TRUE(nothing.server_closed) << nothing.error;
}

TEST_F(Listener, SighupDoesNotEndTheSigner) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(::kill(signer_->pid(), SIGHUP), 0);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(HttpClient(port()).get("/upcheck").status, 200u);
  }
  EXPECT_NE(signer_->log().find("received SIGHUP: reloading keystores"), std::string::npos) << signer_->log();
}

// ---------------------------------------------------------------------------------------------------------------
// Slashing database failing

TEST(SlashingLog, DatabaseFailureIsLoggedOnceASecondWithACount) {
  TempDir dir;
  const auto keys = interop_keys(1);
  const auto data_dir = dir.path() / "data";
  auto args = keystore_flags(dir.path(), keys);
  args.insert(args.end(), {"--data-dir", data_dir.string()});
  SignerProcess signer(args);
  ASSERT_TRUE(signer.ready()) << signer.log();
  const auto sign_path = "/api/v1/eth2/sign/" + keys[0].pubkey_hex;
  ASSERT_EQ(HttpClient(signer.port()).post(sign_path, attestation_request(1, 2)).status, 200u);

  DatabaseLock lock(data_dir / "slashing-protection.sqlite");
  ASSERT_TRUE(lock.held());
  const auto start = std::chrono::steady_clock::now();
  std::atomic<int> unavailable{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(signer.port());
      for (int i = 0; i < 150; ++i)
        unavailable += client.post(sign_path, attestation_request(2 + i, 3 + i, c)).status == 503;
    });
  }
  for (auto& t : clients) t.join();
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  lock.release();

  EXPECT_GE(unavailable.load(), 500);
  const auto log = signer.log();
  const std::regex line("slashing protection unavailable: (\\d+) request\\(s\\) answered 503");
  std::size_t lines_logged = 0, counted = 0;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator(); ++it) {
    ++lines_logged;
    counted += std::stoul((*it)[1]);
  }
  EXPECT_GE(lines_logged, 1u) << log;
  EXPECT_LE(lines_logged, static_cast<std::size_t>(seconds) + 2)
      << "more than one line a second over " << seconds << " s";
  EXPECT_LE(counted, static_cast<std::size_t>(unavailable.load())) << "a line counts more than happened";
}

}  // namespace

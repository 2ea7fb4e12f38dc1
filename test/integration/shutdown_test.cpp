// Graceful shutdown against the real binary: on SIGTERM every request already received is answered (those answered
// after the signal with `Connection: close`, a kept-alive connection's next request included), a request still arriving
// may finish within the grace period and is otherwise answered 408 only once the grace period is over, and the process
// exits 0. On the forced exit (a handler that has not answered by then) the process still exits cleanly: no connection
// object outlives the servers it calls into.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <thread>

#include "support/database_lock.hpp"
#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/raw_http.hpp"
#include "support/raw_socket.hpp"
#include "support/requests.hpp"
#include "support/signer_process.hpp"

using namespace cachet;
using namespace cachet::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string sign_request_head(const std::string& pubkey, std::size_t content_length) {
  return "POST /api/v1/eth2/sign/" + pubkey + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(content_length) + "\r\n\r\n";
}

TEST(Shutdown, SigtermAnswersEveryRequestInFlightAndExitsZero) {
  TempDir dir;
  const auto keys = interop_keys(1);
  auto args = keystore_flags(dir.path(), keys);
  args.insert(args.end(), {"--shutdown-grace-seconds", "3"});
  SignerProcess signer(args);
  ASSERT_TRUE(signer.ready()) << signer.log();

  // 64 complete requests, each on its own connection, and 64 whose body is still arriving.
  std::vector<std::unique_ptr<RawSocket>> complete, mid_body;
  for (int i = 0; i < 64; ++i) {
    const auto body = randao_request(i);
    complete.push_back(std::make_unique<RawSocket>(signer.port()));
    ASSERT_TRUE(complete.back()->send(sign_request_head(keys[0].pubkey_hex, body.size()) + body));
  }
  const auto partial = randao_request(1000);
  const auto half = partial.size() / 2;
  for (int i = 0; i < 64; ++i) {
    mid_body.push_back(std::make_unique<RawSocket>(signer.port()));
    ASSERT_TRUE(mid_body.back()->send(sign_request_head(keys[0].pubkey_hex, partial.size()) + partial.substr(0, half)));
  }
  // A kept-alive connection, idle when the signal comes.
  RawConnection kept(signer.port());
  ASSERT_EQ(kept.exchange(http_request("GET", "/upcheck", {}, {}, signer.port()), 5000).status, 200u);
  std::this_thread::sleep_for(100ms);  // the mid-body requests' first halves have been read

  int exit_code = -1;
  const auto signalled = Clock::now();
  std::thread stopper([&] { exit_code = signer.stop(SIGTERM, 15000); });

  // The kept-alive connection's next request, sent just after the signal, is answered with Connection: close.
  std::this_thread::sleep_for(200ms);
  const auto next = kept.exchange(http_request("GET", "/upcheck", {}, {}, signer.port()), 5000);
  EXPECT_EQ(next.status, 200u) << next.error;
  EXPECT_TRUE(kept.reused());
  EXPECT_EQ(next.headers.count("connection") ? next.headers.at("connection") : "", "close");

  // Every complete request is answered with a signature.
  int complete_ok = 0;
  for (auto& s : complete) complete_ok += s->read_until_closed().starts_with("HTTP/1.1 200");
  EXPECT_EQ(complete_ok, 64);

  // Half of the mid-body requests finish within the grace period: answered, with Connection: close.
  std::this_thread::sleep_for(500ms);
  for (int i = 0; i < 32; ++i) EXPECT_TRUE(mid_body[i]->send(partial.substr(half)));
  int finished_ok = 0;
  for (int i = 0; i < 32; ++i) {
    const auto answer = mid_body[i]->read_until_closed();
    finished_ok += answer.starts_with("HTTP/1.1 200") && answer.find("Connection: close") != std::string::npos;
  }
  EXPECT_EQ(finished_ok, 32);

  // The other half never finish: answered 408 (or closed), but only once the grace period is over.
  int timed_out = 0;
  for (int i = 32; i < 64; ++i) {
    const auto answer = mid_body[i]->read_until_closed();
    const auto after = Clock::now() - signalled;
    EXPECT_GE(after, 2900ms) << "a request still arriving was cut before the grace period ended";
    timed_out += answer.empty() || answer.starts_with("HTTP/1.1 408");
  }
  EXPECT_EQ(timed_out, 32);

  stopper.join();
  EXPECT_EQ(exit_code, 0) << signer.log();
  EXPECT_LT(Clock::now() - signalled, 8s);
}

// A protected request waits on a slashing database another process holds locked: it has no answer when the grace
// period (0 s) and the 2 s after it are over, so its connection is closed by force. Its answer arrives later, from
// the slashing writer, for a connection object the process must still own safely: the exit is clean, status 0.
TEST(Shutdown, ForcedExitAfterTheGracePeriodIsClean) {
  TempDir dir;
  const auto keys = interop_keys(1);
  const auto data_dir = dir.path() / "data";
  auto args = keystore_flags(dir.path(), keys);
  // The request waits on the database for up to 6 s: longer than the grace period and the 2 s after it.
  args.insert(args.end(), {"--data-dir", data_dir.string(), "--shutdown-grace-seconds", "0",
                           "--slashing-protection-db-timeout-ms", "6000"});
  SignerProcess signer(args);
  ASSERT_TRUE(signer.ready()) << signer.log();
  const auto sign_path = "/api/v1/eth2/sign/" + keys[0].pubkey_hex;
  ASSERT_EQ(HttpClient(signer.port()).post(sign_path, attestation_request(1, 2)).status, 200u);

  DatabaseLock lock(data_dir / "slashing-protection.sqlite");
  ASSERT_TRUE(lock.held());
  RawSocket waiting(signer.port(), {}, 15s);
  const auto body = attestation_request(2, 3);
  ASSERT_TRUE(waiting.send(sign_request_head(keys[0].pubkey_hex, body.size()) + body));
  std::this_thread::sleep_for(300ms);  // the request waits on the commit

  const auto signalled = Clock::now();
  const int exit_code = signer.stop(SIGTERM, 20000);
  lock.release();
  EXPECT_EQ(exit_code, 0) << signer.log();
  EXPECT_GE(Clock::now() - signalled, 1500ms) << "no forced stop happened";
  EXPECT_NE(signer.log().find("closing their connections"), std::string::npos) << signer.log();
  EXPECT_NE(signer.log().find("stopped"), std::string::npos) << signer.log();
}

}  // namespace

// Several signers sharing one PostgreSQL slashing protection database (issue 9), against the real binary and a
// real PostgreSQL server: thousands of conflicting requests raced across two instances never yield a slashable
// pair, a SIGKILLed instance loses no record and the other goes on, the signer fails closed while the database is
// down or hung and recovers by itself, and HAProxy in front of two instances survives losing one.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <cachet/crypto/bls.hpp>
#include <cachet/slashing/interchange.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/postgres_cluster.hpp"
#include "support/protected_messages.hpp"
#include "support/requests.hpp"
#include "support/signer_process.hpp"

using namespace cachet;
using namespace cachet::test;
using namespace std::chrono_literals;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

/// Keystores for `count` interop keys, written once and loaded by every instance.
struct Keystores {
  explicit Keystores(std::size_t count) : keys(interop_keys(count)) {
    std::tie(keys_dir, passwords_dir) = write_keystores(dir.path(), keys);
  }
  TempDir dir;
  std::vector<KnownKey> keys;
  std::filesystem::path keys_dir, passwords_dir;
};

/// A signer on `db_url` with `keystores`. History is never pruned, so the export holds every signed message.
std::unique_ptr<SignerProcess> start_signer(const Keystores& keystores, const std::string& db_url,
                                            std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--keystores-path",
                                keystores.keys_dir.string(),
                                "--keystores-passwords-path",
                                keystores.passwords_dir.string(),
                                "--slashing-protection-db-url",
                                db_url,
                                "--slashing-protection-pruning-epochs-to-keep",
                                "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<SignerProcess>(args);
}

/// Two signers with the same keys on one fresh database of the shared PostgreSQL server.
struct TwoSigners {
  TwoSigners(std::size_t keys, std::string_view name)
      : keystores(keys),
        db_url(shared_postgres().create_database(name)),
        a(start_signer(keystores, db_url)),
        b(start_signer(keystores, db_url)) {}
  /// Empty when both are up, else the log of one that is not.
  std::string failure() const {
    for (const auto* s : {a.get(), b.get()})
      if (!s->ready()) return s->log();
    return {};
  }
  Keystores keystores;
  std::string db_url;
  std::unique_ptr<SignerProcess> a, b;
};

/// The database time-out the fault tests give the signer, and the slack they allow on top of it.
constexpr long long kTimeoutMs = 1000, kSlackMs = 1000;

/// A signer on a database of its own private cluster, for tests that stop or freeze the server.
struct SignerOnOwnCluster {
  SignerOnOwnCluster(std::size_t keys, std::string_view name)
      : db_url((pg.start(), pg.create_database(name))),
        keystores(keys),
        signer(start_signer(keystores, db_url, {"--slashing-protection-db-timeout-ms", std::to_string(kTimeoutMs)})) {}
  PostgresCluster pg;
  std::string db_url;
  Keystores keystores;
  std::unique_ptr<SignerProcess> signer;
};

/// What one request got back.
struct Outcome {
  const ProtectedMessage* message = nullptr;
  unsigned status = 0;
  std::string signature;  // 0x…, when 200
  std::size_t instance = 0;
  Clock::time_point answered;
  long long latency_ms = 0;
};

Outcome send(HttpClient& client, const KnownKey& key, const ProtectedMessage& message, std::size_t instance) {
  const auto start = Clock::now();
  auto r = client.post("/api/v1/eth2/sign/" + key.pubkey_hex, message.body);
  Outcome out{&message, r.status, {}, instance, Clock::now(), ms_since(start)};
  if (r.status == 200) out.signature = std::string(json::parse(r.body).at("signature").as_string());
  return out;
}

/// Counts of outcomes by status.
struct Tally {
  std::size_t sent = 0, signed_ = 0, refused = 0, unavailable = 0, other = 0;
  std::vector<std::string> others;  // "status: message", the first few
  void add(const Outcome& o) {
    ++sent;
    if (o.status == 200)
      ++signed_;
    else if (o.status == 412)
      ++refused;
    else if (o.status == 503)
      ++unavailable;
    else {
      ++other;
      if (others.size() < 5) others.push_back(std::to_string(o.status) + ": " + o.message->describe());
    }
  }
  std::string str() const {
    return "sent " + std::to_string(sent) + ", signed " + std::to_string(signed_) + ", refused " +
           std::to_string(refused) + ", 503 " + std::to_string(unavailable) + ", other " + std::to_string(other);
  }
};

std::vector<ProtectedMessage> signed_messages(const std::vector<Outcome>& outcomes) {
  std::vector<ProtectedMessage> out;
  for (const auto& o : outcomes)
    if (o.status == 200) out.push_back(*o.message);
  return out;
}

/// Signatures that do not verify against the message's signing root and key. Each distinct (key, root, signature)
/// is verified once (identical re-signs repeat it), on both cores.
std::size_t bad_signatures(const std::vector<Outcome>& outcomes, const std::vector<KnownKey>& keys) {
  std::set<std::tuple<std::size_t, Bytes32, std::string>> distinct;
  for (const auto& o : outcomes)
    if (o.status == 200) distinct.insert({o.message->key, o.message->signing_root, o.signature});
  const std::vector<std::tuple<std::size_t, Bytes32, std::string>> todo(distinct.begin(), distinct.end());
  std::atomic<std::size_t> next{0}, bad{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 2; ++t)
      threads.emplace_back([&] {
        for (std::size_t i; (i = next++) < todo.size();) {
          const auto& [key, root, signature] = todo[i];
          auto pk = from_hex_fixed<48>(keys[key].pubkey_hex);
          auto sig = from_hex_fixed<96>(signature);
          if (!pk || !sig || !crypto::verify(*pk, root, *sig)) ++bad;
        }
      });
  }
  return bad;
}

slashing::Interchange export_history(const std::string& db_url, const std::filesystem::path& dir) {
  const auto file = dir / "export.json";
  auto run =
      run_cachet({"slashing-protection", "export", "--to", file.string(), "--slashing-protection-db-url", db_url});
  if (run.exit_code != 0) throw std::runtime_error("export failed: " + run.output);
  auto parsed = slashing::parse_interchange(read_file(file));
  if (!parsed) throw std::runtime_error("export does not parse: " + parsed.error());
  return *parsed;
}

/// The union of what every instance signed: no slashable pair, every signature valid, every message exported.
void expect_safe_and_recorded(const std::vector<Outcome>& outcomes, const Keystores& keystores,
                              const std::string& db_url, const TempDir& dir) {
  const auto signed_ = signed_messages(outcomes);
  const auto pairs = slashable_pairs(signed_);
  EXPECT_TRUE(pairs.empty()) << pairs.size() << " slashable pairs, the first: " << pairs.front();
  EXPECT_EQ(bad_signatures(outcomes, keystores.keys), 0u);
  const auto missing = missing_from(export_history(db_url, dir.path()), signed_, keystores.keys);
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << signed_.size()
                               << " signed messages are not in the export, the first: " << missing.front().describe();
  std::printf("[ shared db ] union of signatures: %zu signed, %zu slashable pairs, %zu missing from the export\n",
              signed_.size(), pairs.size(), missing.size());
}

/// "UP" or "DOWN" for the slashing-protection-db check of /healthcheck ("" when absent), and the HTTP status.
std::pair<std::string, unsigned> database_health(std::uint16_t port) {
  auto r = HttpClient(port).get("/healthcheck");
  if (r.status == 0) return {"", 0};
  const auto body = json::parse(r.body);  // kept alive for the loop (a temporary would dangle)
  for (const auto& check : body.at("checks").as_array())
    if (check.at("id").as_string() == "slashing-protection-db")
      return {std::string(check.at("status").as_string()), r.status};
  return {"", r.status};
}

/// Polls until the database check reads `want`; the milliseconds it took, or -1 after `limit`.
long long wait_for_health(std::uint16_t port, const std::string& want, std::chrono::milliseconds limit) {
  const auto start = Clock::now();
  while (Clock::now() - start < limit) {
    if (database_health(port).first == want) return ms_since(start);
    std::this_thread::sleep_for(20ms);
  }
  return -1;
}

/// Round-based load on `keys` keys for as long as `keep_going` says: two client threads per key race through
/// conflicting rounds (the same round with different bodies, surrounding sources), each request sent to
/// `pick_port(rng)`. Returns every outcome; the messages live in `store`.
class RoundLoad {
 public:
  RoundLoad(const Keystores& keystores, std::size_t keys, std::vector<std::uint16_t> ports)
      : keystores_(keystores), keys_(keys), ports_(std::move(ports)), rounds_(keys) {}

  void start() {
    for (std::size_t t = 0; t < 2 * keys_; ++t) threads_.emplace_back([this, t] { run(t); });
  }
  std::vector<Outcome> finish() {
    stop_ = true;
    threads_.clear();
    return std::move(outcomes_);
  }

 private:
  void run(std::size_t thread) {
    const std::size_t key = thread % keys_;
    std::mt19937 rng(static_cast<std::uint32_t>(thread) * 7919u + 1);
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (auto port : ports_) clients.push_back(std::make_unique<HttpClient>(port));
    std::uniform_int_distribution<std::size_t> pick(0, ports_.size() - 1);
    while (!stop_) {
      const std::uint64_t round = rounds_[key].load() + 1;
      std::vector<const ProtectedMessage*> batch;
      {
        std::lock_guard lock(mutex_);
        for (auto& m : conflicting_round(key, round, rng)) batch.push_back(&store_.emplace_back(std::move(m)));
      }
      for (const auto* m : batch) {
        const auto instance = pick(rng);
        auto o = send(*clients[instance], keystores_.keys[key], *m, instance);
        if (o.status == 0) clients[instance] = std::make_unique<HttpClient>(ports_[instance]);
        // As a validator client would (Retry-After), if sooner: a dead instance or database is not hammered.
        if (o.status == 0 || o.status == 503) std::this_thread::sleep_for(5ms);
        std::lock_guard lock(mutex_);
        outcomes_.push_back(std::move(o));
      }
      auto seen = round - 1;
      rounds_[key].compare_exchange_strong(seen, round);
    }
  }

  const Keystores& keystores_;
  std::size_t keys_;
  std::vector<std::uint16_t> ports_;
  std::vector<std::atomic<std::uint64_t>> rounds_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::deque<ProtectedMessage> store_;  // stable addresses for the outcomes
  std::vector<Outcome> outcomes_;
  std::vector<std::jthread> threads_;
};

/// Runs `load` for 1.5 s, SIGKILLs `victim`, and runs it `after` longer: every outcome, and when the kill was sent.
std::pair<std::vector<Outcome>, Clock::time_point> kill_under_load(RoundLoad& load, SignerProcess& victim,
                                                                   std::chrono::milliseconds after) {
  load.start();
  std::this_thread::sleep_for(1500ms);
  ::kill(victim.pid(), SIGKILL);
  const auto killed = Clock::now();
  std::this_thread::sleep_for(after);
  auto outcomes = load.finish();
  victim.stop(SIGKILL);  // reaps it
  return {std::move(outcomes), killed};
}

/// HAProxy from Debian on loopback, balancing `backends` and health-checking their /upcheck: the README's
/// configuration (retries on a refused connection, an empty response or a 503 go to another instance, which is
/// safe because the database decides), with checks every 200 ms instead of every second.
class Haproxy {
 public:
  explicit Haproxy(const std::vector<std::uint16_t>& backends) : port_(free_port()) {
    std::string config =
        "global\n  maxconn 512\n"
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n  timeout server 60s\n"
        "  retries 3\n  option redispatch\n"
        "frontend signing\n  bind 127.0.0.1:" +
        std::to_string(port_) +
        "\n  default_backend signers\n"
        "backend signers\n  balance roundrobin\n  option httpchk GET /upcheck\n  http-check expect status 200\n"
        "  retry-on conn-failure empty-response 503\n  default-server inter 200ms fall 2 rise 2\n";
    for (std::size_t i = 0; i < backends.size(); ++i)
      config += "  server signer" + std::to_string(i) + " 127.0.0.1:" + std::to_string(backends[i]) + " check\n";
    write_file(dir_.path() / "haproxy.cfg", config);
    const std::string cfg = (dir_.path() / "haproxy.cfg").string(), log = (dir_.path() / "haproxy.log").string();
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the test
      if (::getppid() != parent) ::_exit(127);
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl("/usr/sbin/haproxy", "haproxy", "-db", "-f", cfg.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      if (HttpClient(port_).get("/upcheck").status == 200) return;
      std::this_thread::sleep_for(25ms);
    }
    throw std::runtime_error("haproxy did not come up: " + read_file(dir_.path() / "haproxy.log"));
  }
  ~Haproxy() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  std::uint16_t port() const { return port_; }

 private:
  TempDir dir_;
  std::uint16_t port_;
  pid_t pid_ = -1;
};

}  // namespace

TEST(ProtectedMessages, CheckerFindsEverySlashablePair) {
  // The checker the shared-database tests rely on must itself catch each kind, and let identical re-signs pass.
  using M = ProtectedMessage;
  EXPECT_EQ(slashable_pairs({M::block(0, 5, 1), M::block(0, 5, 1), M::block(1, 5, 2), M::block(0, 6, 2)}).size(), 0u);
  EXPECT_EQ(slashable_pairs({M::block(0, 5, 1), M::block(0, 5, 2)}).size(), 1u);
  EXPECT_EQ(slashable_pairs({M::attestation(0, 1, 3, 0), M::attestation(0, 2, 3, 0)}).size(), 1u);  // double vote
  EXPECT_EQ(slashable_pairs({M::attestation(0, 1, 3, 0), M::attestation(0, 1, 3, 1)}).size(), 1u);  // other root
  EXPECT_EQ(slashable_pairs({M::attestation(0, 1, 6, 0), M::attestation(0, 2, 5, 0)}).size(), 1u);  // surrounds
  EXPECT_EQ(slashable_pairs({M::attestation(0, 2, 5, 0), M::attestation(0, 1, 6, 0)}).size(), 1u);  // surrounded
  EXPECT_EQ(slashable_pairs({M::attestation(0, 1, 6, 0), M::attestation(0, 1, 5, 0), M::attestation(0, 1, 4, 0),
                             M::attestation(0, 6, 7, 0), M::attestation(1, 2, 5, 0)})
                .size(),
            0u);
  // And the export comparison notices a message that is not there.
  const auto keys = interop_keys(1);
  slashing::Interchange history;
  history.data.push_back({*from_hex_fixed<48>(keys[0].pubkey_hex), {}, {}});
  EXPECT_EQ(missing_from(history, {M::block(0, 5, 1)}, keys).size(), 1u);
  history.data[0].signed_blocks.push_back({5, M::block(0, 5, 1).signing_root});
  EXPECT_EQ(missing_from(history, {M::block(0, 5, 1)}, keys).size(), 0u);
}

TEST(PostgresSharedDatabase, ConcurrentConflictsAcrossTwoInstancesYieldNoSlashablePair) {
  const TwoSigners signers(32, "conflicts");
  ASSERT_EQ(signers.failure(), "");
  const auto& [keystores, db_url, a, b] = signers;

  const auto messages = conflicting_messages(12000, keystores.keys.size(), 20261130);
  const std::array<std::uint16_t, 2> ports{a->port(), b->port()};
  std::vector<Outcome> outcomes(messages.size());
  std::atomic<std::size_t> next{0};
  const auto start = Clock::now();
  {
    // Eight clients per instance; request i goes to instance i % 2, so both race on every key.
    std::vector<std::jthread> clients;
    for (int t = 0; t < 16; ++t)
      clients.emplace_back([&] {
        HttpClient to_a(ports[0]), to_b(ports[1]);
        for (std::size_t i; (i = next++) < messages.size();) {
          const auto& m = messages[i];
          outcomes[i] = send(i % 2 == 0 ? to_a : to_b, keystores.keys[m.key], m, i % 2);
        }
      });
  }
  const auto elapsed = ms_since(start);
  Tally tally, per_instance[2];
  for (const auto& o : outcomes) {
    tally.add(o);
    per_instance[o.instance].add(o);
  }
  std::printf("[ shared db ] %s in %lld ms (instance A: %s; instance B: %s)\n", tally.str().c_str(), elapsed,
              per_instance[0].str().c_str(), per_instance[1].str().c_str());
  EXPECT_EQ(tally.other, 0u) << tally.others.front();
  EXPECT_EQ(tally.unavailable, 0u) << "no 503 expected with the database up";
  EXPECT_GT(per_instance[0].signed_, 100u);
  EXPECT_GT(per_instance[1].signed_, 100u);
  EXPECT_GT(tally.refused, tally.sent / 2) << "the workload must conflict";
  // Refusals that only the other instance's signatures explain: the instances did decide against each other.
  std::array<std::vector<const ProtectedMessage*>, 2> signed_by;
  for (const auto& o : outcomes)
    if (o.status == 200) signed_by[o.instance].push_back(o.message);
  std::size_t crossed = 0;
  for (const auto& o : outcomes) {
    if (o.status != 412) continue;
    const auto conflicts_with = [&](std::size_t instance) {
      return std::ranges::any_of(
          signed_by[instance], [&](const ProtectedMessage* m) { return !slashable_together(*o.message, *m).empty(); });
    };
    crossed += conflicts_with(1 - o.instance) && !conflicts_with(o.instance);
  }
  std::printf("[ shared db ] refusals only the other instance's signatures explain: %zu\n", crossed);
  EXPECT_GT(crossed, 100u);
  expect_safe_and_recorded(outcomes, keystores, db_url, keystores.dir);
}

TEST(PostgresSharedDatabase, SigkillOfOneInstanceLosesNoRecordAndTheOtherGoesOn) {
  const TwoSigners signers(8, "sigkill");
  ASSERT_EQ(signers.failure(), "");
  const auto& [keystores, db_url, a, b] = signers;

  RoundLoad load(keystores, keystores.keys.size(), {a->port(), b->port()});
  const auto [outcomes, killed] = kill_under_load(load, *a, 2000ms);

  Tally before[2], after[2];
  for (const auto& o : outcomes) (o.answered < killed ? before : after)[o.instance].add(o);
  std::printf("[ sigkill ] before: A %s; B %s\n[ sigkill ] after:  A %s; B %s\n", before[0].str().c_str(),
              before[1].str().c_str(), after[0].str().c_str(), after[1].str().c_str());
  ASSERT_GT(before[0].signed_, 10u) << "the load never got going on A";
  EXPECT_GT(after[1].signed_, 10u) << "B must go on signing after A is killed";
  EXPECT_EQ(before[1].other + after[1].other + before[1].unavailable + after[1].unavailable, 0u)
      << "B answers only 200 or 412";
  expect_safe_and_recorded(outcomes, keystores, db_url, keystores.dir);
}

TEST(PostgresSharedDatabase, FailsClosedWhileTheDatabaseIsDownOrHungAndRecoversByItself) {
  SignerOnOwnCluster fixture(2, "fault");
  ASSERT_TRUE(fixture.signer->ready()) << fixture.signer->log();
  auto& [pg, db_url, keystores, s] = fixture;
  HttpClient client(s->port());
  const auto sign = [&](const std::string& body, std::size_t key = 0) {
    return client.post("/api/v1/eth2/sign/" + keystores.keys[key].pubkey_hex, body).status;
  };
  ASSERT_EQ(sign(attestation_request(1, 2)), 200u);
  ASSERT_EQ(sign(block_request(10, 1)), 200u);
  ASSERT_EQ(database_health(s->port()), (std::pair<std::string, unsigned>("UP", 200u)));

  // Checks one outage: protected types 503 with Retry-After within the time-out, the rest signs, health DOWN.
  std::uint64_t epoch = 2;
  const auto expect_fails_closed = [&](const char* what) {
    for (int i = 0; i < 3; ++i) {
      ++epoch;
      const auto start = Clock::now();
      auto r = client.post("/api/v1/eth2/sign/" + keystores.keys[0].pubkey_hex, attestation_request(epoch - 1, epoch));
      const auto took = ms_since(start);
      EXPECT_EQ(r.status, 503u) << what << ": " << r.body;
      EXPECT_FALSE(r.headers["retry-after"].empty()) << what;
      EXPECT_LE(took, kTimeoutMs + kSlackMs) << what;
      std::printf("[ fault ] %s: protected request %u after %lld ms (time-out %lld ms)\n", what, r.status, took,
                  kTimeoutMs);
    }
    const auto block_start = Clock::now();
    EXPECT_EQ(sign(block_request(11, 1)), 503u) << what;
    EXPECT_LE(ms_since(block_start), kTimeoutMs + kSlackMs) << what;
    const auto randao_start = Clock::now();
    EXPECT_EQ(sign(randao_request(epoch)), 200u) << what << ": unprotected types keep signing";
    const auto randao_ms = ms_since(randao_start);
    EXPECT_LE(randao_ms, kSlackMs) << what;
    const auto health_start = Clock::now();
    const auto health = database_health(s->port());
    const auto health_ms = ms_since(health_start);
    EXPECT_EQ(health, (std::pair<std::string, unsigned>("DOWN", 503u))) << what;
    EXPECT_LE(health_ms, kTimeoutMs + kSlackMs) << what;
    std::printf("[ fault ] %s: RANDAO_REVEAL signed in %lld ms, /healthcheck %s in %lld ms\n", what, randao_ms,
                health.first.c_str(), health_ms);
  };
  const auto expect_recovers = [&](const char* what) {
    const auto up_ms = wait_for_health(s->port(), "UP", 30s);
    EXPECT_GE(up_ms, 0) << what << ": /healthcheck never came back UP";
    ++epoch;
    EXPECT_EQ(sign(attestation_request(epoch - 1, epoch)), 200u) << what;
    std::printf("[ fault ] %s: /healthcheck UP again %lld ms later, signing again\n", what, up_ms);
  };

  pg.stop();
  expect_fails_closed("PostgreSQL stopped");
  pg.start();
  expect_recovers("PostgreSQL started again");

  pg.pause();
  expect_fails_closed("PostgreSQL hung (SIGSTOP)");
  pg.resume();
  expect_recovers("PostgreSQL resumed (SIGCONT)");

  // The history survived: what was signed before the outages is still refused when it conflicts.
  EXPECT_EQ(sign(block_request(10, 2)), 412u);
  EXPECT_EQ(sign(attestation_request(0, epoch + 1)), 412u);  // surrounds the last vote
  EXPECT_EQ(s->stop(SIGTERM), 0) << s->log();
}

TEST(PostgresSharedDatabase, RequestsInFlightWhenTheDatabaseFreezesEndWithinTheTimeout) {
  // The server freezes under load: requests already waiting on a lock, a statement or a commit must end within
  // the time-out too (503), nothing answered may be unrecorded, and signing resumes when the server does.
  SignerOnOwnCluster fixture(4, "frozen");
  ASSERT_TRUE(fixture.signer->ready()) << fixture.signer->log();
  auto& [pg, db_url, keystores, s] = fixture;

  RoundLoad load(keystores, keystores.keys.size(), {s->port()});
  load.start();
  std::this_thread::sleep_for(1000ms);
  pg.pause();
  const auto paused = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(3 * kTimeoutMs));
  pg.resume();
  const auto resumed = Clock::now();
  std::this_thread::sleep_for(2000ms);
  const auto outcomes = load.finish();

  // A commit that completed just before the freeze may reach its client a little after it (the signer still
  // signs and answers): answers within this margin of the pause count as before it.
  constexpr auto kInFlightMargin = 200ms;
  Tally before, frozen, after;
  long long slowest = 0;
  for (const auto& o : outcomes) {
    (o.answered < paused + kInFlightMargin ? before : o.answered < resumed ? frozen : after).add(o);
    slowest = std::max(slowest, o.latency_ms);
  }
  std::printf(
      "[ frozen ] before: %s\n[ frozen ] frozen: %s\n[ frozen ] after:  %s\n[ frozen ] slowest answer %lld ms "
      "(time-out %lld ms)\n",
      before.str().c_str(), frozen.str().c_str(), after.str().c_str(), slowest, kTimeoutMs);
  ASSERT_GT(before.signed_, 10u) << "the load never got going";
  EXPECT_GT(frozen.unavailable, 0u);
  EXPECT_EQ(frozen.signed_, 0u) << "nothing can be recorded while the server is frozen";
  EXPECT_EQ(before.other + frozen.other + after.other, 0u);
  EXPECT_LE(slowest, kTimeoutMs + kSlackMs);
  EXPECT_GT(after.signed_, 10u) << "signing resumes with the server";
  expect_safe_and_recorded(outcomes, keystores, db_url, keystores.dir);
}

TEST(PostgresSharedDatabase, ServerCrashUnderLoadLosesNoRecordOfAReceivedSignature) {
  // SIGKILL to every PostgreSQL process under load, then crash recovery: whatever the server had not made durable
  // (WAL still in its memory) is gone, so a signature answered before its commit was durable would be missing
  // from the export afterwards (as with synchronous_commit = off).
  SignerOnOwnCluster fixture(4, "crash");
  ASSERT_TRUE(fixture.signer->ready()) << fixture.signer->log();
  auto& [pg, db_url, keystores, s] = fixture;

  RoundLoad load(keystores, keystores.keys.size(), {s->port()});
  load.start();
  std::this_thread::sleep_for(1500ms);
  const auto crashed = Clock::now();
  pg.kill_and_restart();
  const auto restarted = Clock::now();
  const auto up_ms = wait_for_health(s->port(), "UP", 30s);
  std::this_thread::sleep_for(1500ms);
  const auto outcomes = load.finish();

  Tally before, down, after;
  for (const auto& o : outcomes) (o.answered < crashed ? before : o.answered < restarted ? down : after).add(o);
  std::printf(
      "[ crash ] before: %s\n[ crash ] until restarted (%lld ms): %s\n[ crash ] after:  %s (UP %lld ms "
      "after the restart)\n",
      before.str().c_str(), static_cast<long long>((restarted - crashed) / 1ms), down.str().c_str(),
      after.str().c_str(), up_ms);
  ASSERT_GT(before.signed_, 10u) << "the load never got going";
  EXPECT_GE(up_ms, 0) << "/healthcheck never came back UP";
  EXPECT_GT(after.signed_, 10u) << "signing resumes after crash recovery";
  EXPECT_EQ(before.other + down.other + after.other, 0u) << "only 200, 412 and 503";
  expect_safe_and_recorded(outcomes, keystores, db_url, keystores.dir);
}

TEST(PostgresSharedDatabase, ImportWhileSignersRunBindsEveryInstanceAtOnce) {
  // With PostgreSQL, import is allowed while signers run: nothing is decided from a signer's memory, so imported
  // history must bind both instances from the next request on.
  const TwoSigners signers(2, "import");
  ASSERT_EQ(signers.failure(), "");
  const auto& [keystores, db_url, a, b] = signers;
  HttpClient to_a(a->port()), to_b(b->port());
  const auto sign = [&](HttpClient& client, const std::string& body) {
    return client.post("/api/v1/eth2/sign/" + keystores.keys[0].pubkey_hex, body).status;
  };
  ASSERT_EQ(sign(to_a, block_request(100, 1)), 200u);
  ASSERT_EQ(sign(to_b, attestation_request(10, 11)), 200u);

  // History from elsewhere: a block at slot 500 and a vote 40 -> 41, imported into the running pair's database.
  slashing::Interchange history;
  history.genesis_validators_root = *from_hex_fixed<32>(kGenesisValidatorsRoot);
  history.data.push_back(
      {*from_hex_fixed<48>(keystores.keys[0].pubkey_hex), {{500, std::nullopt}}, {{40, 41, std::nullopt}}});
  const auto file = keystores.dir.path() / "history.json";
  write_file(file, slashing::serialize_interchange(history));
  auto imported =
      run_cachet({"slashing-protection", "import", "--from", file.string(), "--slashing-protection-db-url", db_url});
  ASSERT_EQ(imported.exit_code, 0) << imported.output;

  for (auto* client : {&to_a, &to_b}) {
    EXPECT_EQ(sign(*client, block_request(500, 1)), 412u) << "the imported slot";
    EXPECT_EQ(sign(*client, block_request(499, 1)), 412u) << "below the imported slot";
    EXPECT_EQ(sign(*client, attestation_request(40, 41)), 412u) << "the imported vote, root unknown";
    EXPECT_EQ(sign(*client, attestation_request(39, 42)), 412u) << "surrounds the imported vote";
  }
  EXPECT_EQ(sign(to_a, block_request(501, 1)), 200u);
  EXPECT_EQ(sign(to_b, block_request(501, 2)), 412u) << "A signed another block at 501";
  EXPECT_EQ(sign(to_b, attestation_request(41, 42)), 200u);
  EXPECT_EQ(sign(to_a, attestation_request(41, 42, 7)), 412u) << "B voted for another root at 42";
  // The history the other instance signed before the import is still there.
  EXPECT_EQ(sign(to_a, attestation_request(10, 11, 7)), 412u);
}

TEST(PostgresSharedDatabase, HaproxyFailsOverWhenAnInstanceIsKilled) {
  const TwoSigners signers(8, "haproxy");
  ASSERT_EQ(signers.failure(), "");
  const auto& [keystores, db_url, a, b] = signers;
  Haproxy proxy({a->port(), b->port()});

  RoundLoad load(keystores, keystores.keys.size(), {proxy.port()});
  const auto [outcomes, killed] = kill_under_load(load, *a, 2500ms);

  // HAProxy checks every 200 ms and takes a server out after two failed checks: a second is plenty.
  Tally before, during, after;
  for (const auto& o : outcomes) (o.answered < killed ? before : o.answered < killed + 1s ? during : after).add(o);
  std::printf("[ haproxy ] before kill: %s\n[ haproxy ] first second after: %s\n[ haproxy ] later: %s\n",
              before.str().c_str(), during.str().c_str(), after.str().c_str());
  ASSERT_GT(before.signed_, 10u) << "the load never got going";
  EXPECT_GT(after.signed_, 10u) << "signing must continue through the other instance";
  EXPECT_EQ(after.other + after.unavailable, 0u) << (after.others.empty() ? "" : after.others.front());
  expect_safe_and_recorded(outcomes, keystores, db_url, keystores.dir);
}

// The service over a storage the test controls: group commit, durability before Sign, failures and deadlines.
#include "../../../lib/slashing/protection_service.hpp"

#include <gtest/gtest.h>

#include <condition_variable>

#include "slashing_test_util.hpp"

using namespace cachet;
using namespace cachet::slashing;
using namespace cachet::slashing::detail;
using namespace cachet::slashing::cases;
using namespace std::chrono_literals;

namespace {

/// Remembers every committed batch; can be made to fail, or to hang until released.
class FakeStorage final : public Storage {
 public:
  struct State {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<WriteBatch> committed;
    bool fail = false, hang = false;
    int writes_started = 0;
    std::size_t records() {
      std::size_t n = 0;
      for (const auto& b : committed) n += b.blocks.size() + b.attestations.size();
      return n;
    }
  };
  explicit FakeStorage(std::shared_ptr<State> state) : state_(std::move(state)) {}

  std::expected<ScanSummary, std::string> scan(std::span<const Bytes48>, const Visitor&) override {
    return ScanSummary{};
  }
  std::expected<void, std::string> write(const WriteBatch& batch) override {
    std::unique_lock lock(state_->mutex);
    ++state_->writes_started;
    state_->cv.notify_all();
    state_->cv.wait(lock, [&] { return !state_->hang; });
    if (state_->fail) return std::unexpected("disk on fire");
    state_->committed.push_back(batch);
    return {};
  }
  std::expected<void, std::string> probe() override {
    std::lock_guard lock(state_->mutex);
    if (state_->fail || state_->hang) return std::unexpected("still on fire");
    return {};
  }

 private:
  std::shared_ptr<State> state_;
};

struct Fixture {
  explicit Fixture(std::chrono::milliseconds timeout = 2000ms) : state(std::make_shared<FakeStorage::State>()) {
    ServiceConfig config;
    config.options.commit_timeout = timeout;
    config.options.pruning_epochs_to_keep = 0;
    config.probe_interval = 10ms;
    auto created = ProtectionService::create(std::make_unique<FakeStorage>(state), config);
    EXPECT_TRUE(created);
    service = std::move(*created);
  }
  void set(bool FakeStorage::State::*flag, bool value) {
    {
      std::lock_guard lock(state->mutex);
      (*state).*flag = value;
    }
    state->cv.notify_all();
  }
  void wait_for_writes(int n) {
    std::unique_lock lock(state->mutex);
    ASSERT_TRUE(state->cv.wait_for(lock, 5s, [&] { return state->writes_started >= n; }));
  }
  std::shared_ptr<FakeStorage::State> state;
  std::unique_ptr<ProtectionService> service;
};

/// A decision that arrives later, on another thread.
struct Pending {
  std::shared_ptr<std::promise<Decision>> promise = std::make_shared<std::promise<Decision>>();
  std::future<Decision> future = promise->get_future();
  std::move_only_function<void(Decision)> callback() {
    return [p = promise](Decision d) { p->set_value(std::move(d)); };
  }
  bool ready(std::chrono::milliseconds wait = 0ms) { return future.wait_for(wait) == std::future_status::ready; }
};

}  // namespace

TEST(ProtectionService, SignOnlyAfterTheCommitAndOneTransactionForEverythingQueued) {
  Fixture f;
  f.set(&FakeStorage::State::hang, true);
  Pending first;
  f.service->check_and_record(block(0, 1, 1), first.callback());
  f.wait_for_writes(1);  // the writer is inside the first transaction
  std::vector<Pending> more(20);
  for (unsigned i = 0; i < more.size(); ++i) f.service->check_and_record(attestation(i, 0, 1, i), more[i].callback());
  EXPECT_FALSE(first.ready(50ms));  // not durable yet: no answer
  for (auto& p : more) EXPECT_FALSE(p.ready());
  f.set(&FakeStorage::State::hang, false);
  EXPECT_EQ(first.future.get().kind, Decision::Kind::Sign);
  for (auto& p : more) EXPECT_EQ(p.future.get().kind, Decision::Kind::Sign);
  std::lock_guard lock(f.state->mutex);
  ASSERT_EQ(f.state->committed.size(), 2u);  // the 20 that queued during the first commit share one transaction
  EXPECT_EQ(f.state->committed[1].attestations.size(), 20u);
  EXPECT_EQ(f.state->committed[0].validators.size(), 1u);   // new validators are written with their first record
  EXPECT_EQ(f.state->committed[1].validators.size(), 19u);  // validator 0 is stored already
  EXPECT_EQ(f.state->committed[0].genesis_validators_root, Bytes32{});  // first use records the genesis root
  EXPECT_FALSE(f.state->committed[1].genesis_validators_root);
  EXPECT_EQ(f.service->stats().transactions, 2u);
  EXPECT_EQ(f.service->stats().records, 21u);
}

TEST(ProtectionService, ARacingConflictIsRefusedWhileTheFirstIsPending) {
  Fixture f;
  f.set(&FakeStorage::State::hang, true);
  Pending first;
  f.service->check_and_record(block(0, 5, 1), first.callback());
  // Refused at once, on this thread, although the first record is not committed.
  auto second = decide(*f.service, block(0, 5, 2));
  EXPECT_EQ(second.kind, Decision::Kind::Refuse);
  EXPECT_EQ(second.reason_code, "double_block");
  f.set(&FakeStorage::State::hang, false);
  EXPECT_EQ(first.future.get().kind, Decision::Kind::Sign);
}

TEST(ProtectionService, ARepeatOfAPendingMessageWaitsForItsCommit) {
  Fixture f;
  f.set(&FakeStorage::State::hang, true);
  Pending first, repeat;
  f.service->check_and_record(attestation(0, 3, 4, 7), first.callback());
  f.wait_for_writes(1);
  f.service->check_and_record(attestation(0, 3, 4, 7), repeat.callback());
  EXPECT_FALSE(repeat.ready(50ms));
  f.set(&FakeStorage::State::hang, false);
  EXPECT_EQ(first.future.get().kind, Decision::Kind::Sign);
  EXPECT_EQ(repeat.future.get().kind, Decision::Kind::Sign);
  std::lock_guard lock(f.state->mutex);
  EXPECT_EQ(f.state->records(), 2u);  // the repeat was written again (idempotently) before its Sign
}

TEST(ProtectionService, AFailedCommitAnswersUnavailableKeepsRefusingAndRecovers) {
  Fixture f;
  f.set(&FakeStorage::State::fail, true);
  auto failed = decide(*f.service, block(0, 10, 1));
  EXPECT_EQ(failed.kind, Decision::Kind::Unavailable);
  EXPECT_EQ(failed.reason_code, "database");
  EXPECT_NE(failed.message.find("disk on fire"), std::string::npos) << failed.message;
  EXPECT_FALSE(f.service->healthy());
  // The failed record stays in the index: a conflict is still refused, anything new is Unavailable at once.
  EXPECT_EQ(decide(*f.service, block(0, 10, 2)).kind, Decision::Kind::Refuse);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(decide(*f.service, block(1, 10, 1)).kind, Decision::Kind::Unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 100ms);
  {
    std::lock_guard lock(f.state->mutex);
    EXPECT_EQ(f.state->writes_started, 1);  // nothing more was attempted
  }
  f.set(&FakeStorage::State::fail, false);
  for (int i = 0; i < 200 && !f.service->healthy(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(f.service->healthy());
  // The very same block (never released) can now be recorded and signed; its record is written this time.
  EXPECT_EQ(decide(*f.service, block(0, 10, 1)).kind, Decision::Kind::Sign);
  EXPECT_EQ(decide(*f.service, block(1, 10, 1)).kind, Decision::Kind::Sign);
  std::lock_guard lock(f.state->mutex);
  EXPECT_EQ(f.state->records(), 2u);
}

TEST(ProtectionService, NoCallerWaitsLongerThanTheCommitTimeout) {
  Fixture f(150ms);
  f.set(&FakeStorage::State::hang, true);  // a hung disk
  const auto start = std::chrono::steady_clock::now();
  auto late = decide(*f.service, attestation(0, 1, 2, 1));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(late.kind, Decision::Kind::Unavailable);
  EXPECT_EQ(late.reason_code, "database");
  EXPECT_GE(waited, 140ms);
  EXPECT_LT(waited, 1000ms);
  EXPECT_FALSE(f.service->healthy());
  EXPECT_EQ(f.service->stats().timeouts, 1u);
  // While the disk hangs, requests fail at once.
  const auto again = std::chrono::steady_clock::now();
  EXPECT_EQ(decide(*f.service, attestation(1, 1, 2, 1)).kind, Decision::Kind::Unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - again, 100ms);
  // The disk comes back: the late record lands (safe: nothing was released) and the service is healthy again.
  f.set(&FakeStorage::State::hang, false);
  ASSERT_TRUE(f.service->flush(2s));
  EXPECT_TRUE(f.service->healthy());
  {
    std::lock_guard lock(f.state->mutex);
    EXPECT_EQ(f.state->records(), 1u);
  }
  EXPECT_EQ(decide(*f.service, attestation(0, 1, 2, 1)).kind, Decision::Kind::Sign);  // its repeat is fine now
}

TEST(ProtectionService, GenesisRootRecordedOnFirstUse) {
  Fixture f;
  EXPECT_EQ(decide(*f.service, block(0, 1, 1, root(42))).kind, Decision::Kind::Sign);
  auto other = decide(*f.service, block(1, 1, 1, root(43)));
  EXPECT_EQ(other.kind, Decision::Kind::Refuse);
  EXPECT_EQ(other.reason_code, "genesis_mismatch");
  auto import = f.service->import_interchange(interchange({}, root(43)), {});
  ASSERT_FALSE(import);
  EXPECT_NE(import.error().find("genesis"), std::string::npos);
  EXPECT_TRUE(f.service->import_interchange(interchange({{1, {{5, {}}}, {}}}, root(42)), {}));
}

TEST(ProtectionService, ImportOnlySomeKeysAndReport) {
  Fixture f;
  const Bytes48 only[] = {pubkey(1)};
  auto report = f.service->import_interchange(
      interchange({{0, {{5, {}}}, {}}, {1, {{5, {}}, {6, {}}}, {{1, 2, {}}}}, {1, {}, {{2, 3, {}}}}}), only);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->validators, 1u);
  EXPECT_EQ(report->blocks, 2u);
  EXPECT_EQ(report->attestations, 2u);
  EXPECT_EQ(decide(*f.service, block(1, 6, 1)).kind, Decision::Kind::Refuse);
  EXPECT_EQ(decide(*f.service, block(0, 5, 1)).kind, Decision::Kind::Sign);  // validator 0 was left out
}

TEST(ProtectionService, ManyThreadsOneValidatorExactlyOneSign) {
  Fixture f;
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> signed_count{0}, refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&, t] {
        // Eight different attestations for the same target, or blocks at one slot: only one may be signed.
        auto message = round % 2 ? attestation(0, round, 100 + round, t) : block(0, 1000 + round, t);
        auto d = decide(*f.service, message);
        (d.kind == Decision::Kind::Sign ? signed_count : refused)++;
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(signed_count.load(), 1) << "round " << round;
    EXPECT_EQ(refused.load(), 7) << "round " << round;
  }
}

// The signing service on its own: every reference vector (test/reference, an independent implementation) signed
// identically and verifying; the outcomes an adapter maps to answers; slashing protection before the signature;
// a key deleted while its record was committed.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cachet/signing/signing_service.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

using namespace cachet;
using namespace cachet::signing;

namespace {

boost::json::value read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str());
}

const std::filesystem::path kReference = std::filesystem::path(CACHET_SOURCE_DIR) / "test/reference";

/// The reference's four interop keys in a KeyStore.
void load_reference_keys(keys::KeyStore& store) {
  const auto doc = read_json(kReference / "keys.json");  // alive through the loop
  for (const auto& k : doc.at("keys").as_array()) {
    auto bytes = from_hex_fixed<32>(std::string(k.at("privkey").as_string())).value();
    auto secret = crypto::SecretKey::from_bytes(bytes).value();
    auto key = std::make_shared<keys::Key>(keys::Key{std::move(secret), {}, keys::KeySource::External, {}, {}});
    key->pubkey = key->secret.public_key();
    ASSERT_EQ(to_hex(key->pubkey), k.at("pubkey").as_string());
    store.insert(std::move(key));
  }
}

SignOutcome sign(SigningService& service, const crypto::PublicKey& pk, std::string_view body) {
  std::promise<SignOutcome> promise;
  auto future = promise.get_future();
  service.sign_request(pk, body, [&](SignOutcome out) { promise.set_value(std::move(out)); });
  return future.get();
}

std::string attestation(std::uint64_t source, std::uint64_t target, const std::string& block_root) {
  return R"({"type":"ATTESTATION","fork_info":{"fork":{"previous_version":"0x00000000","current_version":"0x00000000",)"
         R"("epoch":"0"},"genesis_validators_root":"0x)" +
         std::string(64, '1') + R"("},"attestation":{"slot":"1","index":"0","beacon_block_root":"0x)" + block_root +
         R"(","source":{"epoch":")" + std::to_string(source) + R"(","root":"0x)" + std::string(64, '0') +
         R"("},"target":{"epoch":")" + std::to_string(target) + R"(","root":"0x)" + std::string(64, '0') + R"("}}})";
}

struct Fixture {
  keys::KeyStore keys;
  eth::NetworkConfig network = eth::load_network("mainnet").value();
  crypto::PublicKey first() { return keys.list().front()->pubkey; }
};

}  // namespace

TEST(SigningService, EveryReferenceVectorSignsIdenticallyAndVerifies) {
  Fixture f;
  load_reference_keys(f.keys);
  SigningService service(f.keys, f.network, nullptr);
  std::size_t checked = 0;
  const auto vectors = read_json(kReference / "vectors_mainnet.json");
  for (const auto& v : vectors.as_array()) {
    const auto pk = from_hex_fixed<48>(std::string(v.at("pubkey").as_string())).value();
    auto out = sign(service, pk, boost::json::serialize(v.at("request")));
    ASSERT_EQ(out.status, SignStatus::Ok) << out.message;
    ASSERT_TRUE(out.type);
    EXPECT_EQ(to_hex(out.signature), v.at("signature").as_string());
    const auto root = from_hex_fixed<32>(std::string(v.at("signing_root").as_string())).value();
    EXPECT_TRUE(crypto::verify(pk, root, out.signature));
    ++checked;
  }
  EXPECT_GT(checked, 100u);
}

TEST(SigningService, OutcomesForWhatAClientGetsWrong) {
  Fixture f;
  load_reference_keys(f.keys);
  SigningService service(f.keys, f.network, nullptr);
  crypto::PublicKey unknown{};
  unknown[0] = 0xc0;
  EXPECT_EQ(sign(service, unknown, "{}").status, SignStatus::NotFound);
  auto bad_json = sign(service, f.first(), "{");
  EXPECT_EQ(bad_json.status, SignStatus::BadRequest);
  EXPECT_FALSE(bad_json.type);
  auto bad_field = sign(service, f.first(), R"({"type":"RANDAO_REVEAL","randao_reveal":{"epoch":"x"}})");
  EXPECT_EQ(bad_field.status, SignStatus::BadRequest);
  ASSERT_TRUE(bad_field.type);  // labelled with the type it claimed
  EXPECT_EQ(*bad_field.type, eth::SignType::RandaoReveal);
  auto deep = sign(service, f.first(), std::string(100, '[') + std::string(100, ']'));
  EXPECT_EQ(deep.status, SignStatus::BadRequest);
}

TEST(SigningService, ProtectedMessagesPassSlashingProtectionFirst) {
  Fixture f;
  load_reference_keys(f.keys);
  const auto dir = std::filesystem::temp_directory_path() / ("cachet-signing-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    auto protection = slashing::SlashingProtection::open("sqlite:" + (dir / "db.sqlite").string()).value();
    SigningService service(f.keys, f.network, protection.get());
    auto first = sign(service, f.first(), attestation(1, 2, std::string(64, 'a')));
    ASSERT_EQ(first.status, SignStatus::Ok) << first.message;
    auto repeat = sign(service, f.first(), attestation(1, 2, std::string(64, 'a')));
    EXPECT_EQ(repeat.status, SignStatus::Ok);
    EXPECT_EQ(repeat.signature, first.signature);
    auto double_vote = sign(service, f.first(), attestation(1, 2, std::string(64, 'b')));
    EXPECT_EQ(double_vote.status, SignStatus::Refused);
    EXPECT_EQ(double_vote.refusal_reason, "double_vote");
    auto surround = sign(service, f.first(), attestation(0, 3, std::string(64, 'c')));
    EXPECT_EQ(surround.status, SignStatus::Refused);
    EXPECT_EQ(surround.refusal_reason, "surrounding_vote");
    // Deleted while its record is being committed: the signature is never released. Another connection holds the
    // database's write lock, so the decision waits until the key is gone.
    const auto pk = f.first();
    sqlite3* blocker = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "db.sqlite").string().c_str(), &blocker), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(blocker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    std::promise<SignOutcome> promise;
    service.sign_request(pk, attestation(2, 3, std::string(64, 'd')),
                         [&](SignOutcome out) { promise.set_value(std::move(out)); });
    f.keys.erase(pk);
    ASSERT_EQ(sqlite3_exec(blocker, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(blocker);
    auto late = promise.get_future().get();
    EXPECT_EQ(late.status, SignStatus::NotFound) << late.message;
    EXPECT_EQ(sign(service, pk, attestation(3, 4, std::string(64, 'e'))).status, SignStatus::NotFound);
  }
  std::filesystem::remove_all(dir);
}

TEST(SigningService, PreparedRequestsAreRecordedTogetherAndSignedLater) {
  // What the HTTP adapter does: prepare as requests arrive (records queued, not committed), sign on a pool thread.
  Fixture f;
  load_reference_keys(f.keys);
  const auto dir = std::filesystem::temp_directory_path() / ("cachet-prepared-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::atomic<std::size_t> batches{0}, largest{0};
    slashing::Options options;
    options.max_deferral = std::chrono::hours(1);  // only a signing thread reaching a request commits
    options.on_batch_committed = [&](auto, std::size_t n) {
      ++batches;
      largest = std::max<std::size_t>(largest, n);
    };
    auto protection = slashing::SlashingProtection::open("sqlite:" + (dir / "db.sqlite").string(), options).value();
    SigningService service(f.keys, f.network, protection.get());
    const auto keys = f.keys.list();
    std::vector<std::promise<SignOutcome>> answers(keys.size());
    std::vector<PreparedSignature> prepared;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      auto p = service.prepare(keys[i]->pubkey, attestation(1, 2, std::string(64, 'a')),
                               [&answers, i](SignOutcome out) { answers[i].set_value(std::move(out)); });
      ASSERT_TRUE(p);
      prepared.push_back(std::move(*p));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(batches.load(), 0u) << "a record was committed before a signing thread asked for it";
    for (auto& p : prepared) service.sign(std::move(p));
    for (std::size_t i = 0; i < keys.size(); ++i) {
      auto out = answers[i].get_future().get();
      ASSERT_EQ(out.status, SignStatus::Ok) << out.message;
      const auto root = sign(service, keys[i]->pubkey, attestation(1, 2, std::string(64, 'a')));  // the same again
      EXPECT_EQ(root.signature, out.signature);
    }
    EXPECT_EQ(largest.load(), keys.size());  // the first sign committed every queued record in one transaction

    // An immediate answer (unknown key, bad body) comes from prepare itself; a prepared request that is never
    // signed (a pool stopping with work queued) still gets its one answer.
    crypto::PublicKey unknown{};
    unknown[0] = 0xc0;
    std::optional<SignOutcome> immediate;
    EXPECT_FALSE(service.prepare(unknown, "{}", [&](SignOutcome out) { immediate = std::move(out); }));
    ASSERT_TRUE(immediate);
    EXPECT_EQ(immediate->status, SignStatus::NotFound);
    std::promise<SignOutcome> dropped_answer;
    {
      auto dropped = service.prepare(f.first(), attestation(2, 3, std::string(64, 'b')),
                                     [&](SignOutcome out) { dropped_answer.set_value(std::move(out)); });
      ASSERT_TRUE(dropped);
    }
    auto future = dropped_answer.get_future();
    // At once, not after the 5 s commit timeout: dropping it asks for its deferred record's transaction.
    ASSERT_EQ(future.wait_for(std::chrono::seconds(2)), std::future_status::ready);
    auto dropped = future.get();
    EXPECT_EQ(dropped.status, SignStatus::Unavailable) << dropped.message;
    EXPECT_NE(dropped.message.find("stopping"), std::string::npos) << dropped.message;
  }
  std::filesystem::remove_all(dir);
}

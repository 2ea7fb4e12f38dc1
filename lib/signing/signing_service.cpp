#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <cachet/signing/signing_service.hpp>
#include <utility>

namespace cachet::signing {
namespace {

using Clock = std::chrono::steady_clock;

// Deep enough for every request type (a full phase0/altair block nests about 8 levels), shallow enough that a
// hostile body cannot recurse the parser into the ground.
constexpr unsigned kMaxJsonDepth = 32;

SignOutcome failed(SignStatus status, std::optional<eth::SignType> type, std::string message) {
  SignOutcome out;
  out.status = status;
  out.type = type;
  out.message = std::move(message);
  return out;
}

/// Answers a request that ends before its signature (unknown key, bad body): nothing is left to prepare.
std::nullopt_t answer_now(SignDone& done, SignOutcome out, Clock::time_point start) {
  out.elapsed = Clock::now() - start;
  done(std::move(out));
  return std::nullopt;
}

SignOutcome not_found(const crypto::PublicKey& pubkey, Clock::time_point start) {
  auto out = failed(SignStatus::NotFound, std::nullopt, "no key for public key " + to_hex(pubkey));
  out.elapsed = Clock::now() - start;
  return out;
}

}  // namespace

// A protected message: the slashing decision and the signature arrive in either order, from different threads;
// whichever comes second answers.
struct ProtectedSigning {
  ProtectedSigning(const keys::KeyStore& k, slashing::SlashingProtection& p, slashing::Urgency u,
                   std::shared_ptr<const keys::Key> key_, eth::SignType t, Clock::time_point s, SignDone d)
      : keys(k), protection(p), urgency(u), key(std::move(key_)), type(t), start(s), done(std::move(d)) {}

  const keys::KeyStore& keys;
  slashing::SlashingProtection& protection;
  const slashing::Urgency urgency;  // Deferred: its transaction starts only when asked (expedite_if_pending)
  std::shared_ptr<const keys::Key> key;
  eth::SignType type;
  Clock::time_point start;
  SignDone done;

  std::atomic<int> pending{2};
  std::atomic<bool> decided{false};
  slashing::Decision decision;
  std::optional<crypto::Signature> signature;
  bool abandoned = false;  // never signed: its PreparedSignature was dropped (the signer is stopping)

  void on_decision(slashing::Decision d) {
    decision = std::move(d);
    decided.store(true, std::memory_order_release);
    arrive();
  }
  void on_signature(std::optional<crypto::Signature> s) {
    signature = s;
    arrive();
  }
  /// Starts the transaction of a Deferred record not decided yet (a Now record's has started already).
  void expedite_if_pending() {
    if (urgency == slashing::Urgency::Deferred && !decided.load(std::memory_order_acquire)) protection.expedite();
  }
  void arrive() {
    if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) finish();
  }

  void finish() {
    SignOutcome out;
    out.type = type;
    switch (decision.kind) {
      case slashing::Decision::Kind::Sign:
        // The key may have been deleted while its record was committed; a deleted key's history has been
        // exported already, so a signature released now could be slashable elsewhere.
        if (abandoned) {
          out = failed(SignStatus::Unavailable, type, "signer stopping; retry");
        } else if (keys.find(key->pubkey) != key || !signature) {
          out = failed(SignStatus::NotFound, type, "key was deleted");
        } else {
          out.status = SignStatus::Ok;
          out.signature = *signature;
        }
        break;
      case slashing::Decision::Kind::Refuse:
        out = failed(SignStatus::Refused, type, "slashing protection: " + decision.message);
        out.refusal_reason = decision.reason_code;
        break;
      case slashing::Decision::Kind::Unavailable:
        // The database's own error text stays in the log; the client learns what it can act on.
        out = failed(SignStatus::Unavailable, type, "slashing protection database unavailable; retry later");
        out.detail = std::move(decision.message);
        break;
    }
    out.elapsed = Clock::now() - start;
    done(std::move(out));
  }
};

PreparedSignature::PreparedSignature(PreparedSignature&& other) noexcept
    : key_(std::move(other.key_)),
      type_(other.type_),
      signing_root_(other.signing_root_),
      start_(other.start_),
      done_(std::exchange(other.done_, nullptr)),
      state_(std::move(other.state_)) {}

PreparedSignature::~PreparedSignature() {
  // Dropped without being signed (a pool stopping with work queued): the caller still gets its one answer.
  if (state_) {
    state_->abandoned = true;
    state_->expedite_if_pending();  // the answer waits for the decision: not for a deferral
    state_->on_signature(std::nullopt);
  } else if (done_) {
    (void)answer_now(done_, failed(SignStatus::Unavailable, type_, "signer stopping; retry"), start_);
  }
}

SigningService::SigningService(const keys::KeyStore& keys, const eth::NetworkConfig& network,
                               slashing::SlashingProtection* slashing, std::size_t hash_cache_capacity)
    : keys_(keys), network_(network), slashing_(slashing), hashed_messages_(hash_cache_capacity) {}

void SigningService::sign_request(const crypto::PublicKey& pubkey, std::string_view body, SignDone done) {
  if (auto prepared = prepare_text(pubkey, body, std::move(done), slashing::Urgency::Now)) sign(std::move(*prepared));
}

void SigningService::sign_request(const crypto::PublicKey& pubkey, const boost::json::value& body, SignDone done) {
  const auto start = Clock::now();
  auto key = keys_.find(pubkey);
  if (!key) return done(not_found(pubkey, start));
  if (auto prepared = prepare_json(std::move(key), body, start, std::move(done), slashing::Urgency::Now))
    sign(std::move(*prepared));
}

std::optional<PreparedSignature> SigningService::prepare(const crypto::PublicKey& pubkey, std::string_view body,
                                                         SignDone done) {
  return prepare_text(pubkey, body, std::move(done), slashing::Urgency::Deferred);
}

std::optional<PreparedSignature> SigningService::prepare_text(const crypto::PublicKey& pubkey, std::string_view body,
                                                              SignDone done, slashing::Urgency urgency) {
  const auto start = Clock::now();
  auto key = keys_.find(pubkey);
  if (!key) {
    done(not_found(pubkey, start));
    return std::nullopt;
  }
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  auto json = boost::json::parse(body, ec, {}, options);
  if (ec)
    return answer_now(
        done, failed(SignStatus::BadRequest, std::nullopt, "request body is not valid JSON: " + ec.message()), start);
  return prepare_json(std::move(key), json, start, std::move(done), urgency);
}

std::optional<PreparedSignature> SigningService::prepare_json(std::shared_ptr<const keys::Key> key,
                                                              const boost::json::value& body, Clock::time_point start,
                                                              SignDone done, slashing::Urgency urgency) {
  auto request = eth::parse_signing_request(body, network_);
  if (!request) {
    // The type, when it can be read, labels the refusal.
    std::optional<eth::SignType> type;
    const auto* t = body.is_object() ? body.as_object().if_contains("type") : nullptr;
    for (std::size_t i = 0; t && t->is_string() && i < eth::kSignTypeCount; ++i)
      if (eth::to_string(static_cast<eth::SignType>(i)) == t->get_string()) type = static_cast<eth::SignType>(i);
    return answer_now(done, failed(SignStatus::BadRequest, type, request.error().message), start);
  }
  PreparedSignature prepared;
  prepared.key_ = std::move(key);
  prepared.type_ = request->type;
  prepared.signing_root_ = request->signing_root;
  prepared.start_ = start;
  const bool is_protected = request->block || request->attestation;
  if (!is_protected || !slashing_) {
    prepared.done_ = std::move(done);
    return prepared;
  }
  if (!request->genesis_validators_root)
    return answer_now(done, failed(SignStatus::BadRequest, request->type, "fork_info.genesis_validators_root: missing"),
                      start);
  slashing::ProtectedMessage message{
      prepared.key_->pubkey, *request->genesis_validators_root, request->signing_root, {}};
  if (request->block) {
    message.what = slashing::BlockProposal{request->block->slot};
  } else {
    message.what = slashing::AttestationVote{request->attestation->source_epoch, request->attestation->target_epoch};
  }
  auto state = std::make_shared<ProtectedSigning>(keys_, *slashing_, urgency, prepared.key_, request->type, start,
                                                  std::move(done));
  slashing_->check_and_record(
      message, [state](slashing::Decision d) { state->on_decision(std::move(d)); }, urgency);
  prepared.state_ = std::move(state);
  return prepared;
}

void SigningService::sign(PreparedSignature&& prepared) {
  auto key = std::move(prepared.key_);
  if (auto state = std::move(prepared.state_)) {
    // A refusal that came at once, or while the request waited for this thread, leaves nothing to sign. Otherwise
    // the record's transaction runs now if it has not yet (its batch is everything queued meanwhile), and the
    // signature is computed while it commits.
    if (state->decided.load(std::memory_order_acquire) && state->decision.kind != slashing::Decision::Kind::Sign)
      return state->on_signature(std::nullopt);
    state->expedite_if_pending();
    return state->on_signature(key->secret.sign(hashed_messages_.get(prepared.signing_root_)));
  }
  auto done = std::exchange(prepared.done_, nullptr);
  SignOutcome out;
  out.status = SignStatus::Ok;
  out.type = prepared.type_;
  out.signature = key->secret.sign(hashed_messages_.get(prepared.signing_root_));
  out.elapsed = Clock::now() - prepared.start_;
  done(std::move(out));
}

SignOutcome SigningService::sign_unprotected_root(const crypto::PublicKey& pubkey, const Bytes32& signing_root) {
  const auto start = Clock::now();
  auto key = keys_.find(pubkey);
  if (!key) return not_found(pubkey, start);
  SignOutcome out;
  out.status = SignStatus::Ok;
  out.signature = key->secret.sign(hashed_messages_.get(signing_root));
  out.elapsed = Clock::now() - start;
  return out;
}

}  // namespace cachet::signing

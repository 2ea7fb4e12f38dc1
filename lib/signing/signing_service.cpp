#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <cachet/signing/signing_service.hpp>

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

// A protected message: the slashing decision and the signature arrive in either order, from different threads;
// whichever comes second answers.
struct ProtectedSigning {
  const keys::KeyStore& keys;
  std::shared_ptr<const keys::Key> key;
  eth::SignType type;
  Clock::time_point start;
  SignDone done;

  std::atomic<int> pending{2};
  std::atomic<bool> decided{false};
  slashing::Decision decision;
  std::optional<crypto::Signature> signature;

  void on_decision(slashing::Decision d) {
    decision = std::move(d);
    decided.store(true, std::memory_order_release);
    arrive();
  }
  void on_signature(std::optional<crypto::Signature> s) {
    signature = s;
    arrive();
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
        if (keys.find(key->pubkey) != key || !signature) {
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

SignOutcome not_found(const crypto::PublicKey& pubkey, Clock::time_point start) {
  auto out = failed(SignStatus::NotFound, std::nullopt, "no key for public key " + to_hex(pubkey));
  out.elapsed = Clock::now() - start;
  return out;
}

}  // namespace

SigningService::SigningService(const keys::KeyStore& keys, const eth::NetworkConfig& network,
                               slashing::SlashingProtection* slashing, std::size_t hash_cache_capacity)
    : keys_(keys), network_(network), slashing_(slashing), hashed_messages_(hash_cache_capacity) {}

void SigningService::sign_request(const crypto::PublicKey& pubkey, std::string_view body, SignDone done) {
  const auto start = Clock::now();
  auto key = keys_.find(pubkey);
  if (!key) return done(not_found(pubkey, start));
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  auto json = boost::json::parse(body, ec, {}, options);
  if (ec) {
    auto out = failed(SignStatus::BadRequest, std::nullopt, "request body is not valid JSON: " + ec.message());
    out.elapsed = Clock::now() - start;
    return done(std::move(out));
  }
  sign_json(std::move(key), json, start, std::move(done));
}

void SigningService::sign_request(const crypto::PublicKey& pubkey, const boost::json::value& body, SignDone done) {
  const auto start = Clock::now();
  auto key = keys_.find(pubkey);
  if (!key) return done(not_found(pubkey, start));
  sign_json(std::move(key), body, start, std::move(done));
}

void SigningService::sign_json(std::shared_ptr<const keys::Key> key, const boost::json::value& body,
                               Clock::time_point start, SignDone done) {
  auto parsed = eth::parse_signing_request(body, network_);
  if (!parsed) {
    // The type, when it can be read, labels the refusal.
    std::optional<eth::SignType> type;
    const auto* t = body.is_object() ? body.as_object().if_contains("type") : nullptr;
    for (std::size_t i = 0; t && t->is_string() && i < eth::kSignTypeCount; ++i)
      if (eth::to_string(static_cast<eth::SignType>(i)) == t->get_string()) type = static_cast<eth::SignType>(i);
    auto out = failed(SignStatus::BadRequest, type, parsed.error().message);
    out.elapsed = Clock::now() - start;
    return done(std::move(out));
  }
  sign_parsed(std::move(key), *parsed, start, std::move(done));
}

void SigningService::sign_parsed(std::shared_ptr<const keys::Key> key, const eth::SigningRequest& request,
                                 Clock::time_point start, SignDone done) {
  const bool is_protected = request.block || request.attestation;
  if (!is_protected || !slashing_) {
    SignOutcome out;
    out.status = SignStatus::Ok;
    out.type = request.type;
    out.signature = key->secret.sign(hashed_messages_.get(request.signing_root));
    out.elapsed = Clock::now() - start;
    return done(std::move(out));
  }
  if (!request.genesis_validators_root) {
    auto out = failed(SignStatus::BadRequest, request.type, "fork_info.genesis_validators_root: missing");
    out.elapsed = Clock::now() - start;
    return done(std::move(out));
  }
  slashing::ProtectedMessage message{key->pubkey, *request.genesis_validators_root, request.signing_root, {}};
  if (request.block) {
    message.what = slashing::BlockProposal{request.block->slot};
  } else {
    message.what = slashing::AttestationVote{request.attestation->source_epoch, request.attestation->target_epoch};
  }
  auto state = std::make_shared<ProtectedSigning>(keys_, key, request.type, start, std::move(done));
  slashing_->check_and_record(message, [state](slashing::Decision d) { state->on_decision(std::move(d)); });
  // A refusal that came at once leaves nothing to sign; otherwise sign while the record is being committed.
  if (state->decided.load(std::memory_order_acquire) && state->decision.kind != slashing::Decision::Kind::Sign)
    return state->on_signature(std::nullopt);
  state->on_signature(key->secret.sign(hashed_messages_.get(request.signing_root)));
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

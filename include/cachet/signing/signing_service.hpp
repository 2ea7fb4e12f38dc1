// The signing workflow, once, for every API: look up the key, compute the signing root from the typed request
// (never trusting a root it is sent), pass slashing protection (blocks and attestations: the signature leaves only
// after its record is durable), sign with the hash-to-curve cache, and re-check that the key still exists. HTTP
// (Web3Signer's API), Commit-Boost and any batch endpoint are thin adapters that turn a SignOutcome into their
// answers; none of them repeats a step of this.
#pragma once

#include <boost/json/value.hpp>
#include <cachet/crypto/bls.hpp>
#include <cachet/crypto/hashed_message_cache.hpp>
#include <cachet/eth/network.hpp>
#include <cachet/eth/signing_request.hpp>
#include <cachet/keys/key_store.hpp>
#include <cachet/slashing/slashing_protection.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace cachet::signing {

/// How a sign request ended; each maps to one answer of an API (HTTP: 200, 400, 404, 412, 503).
enum class SignStatus { Ok, BadRequest, NotFound, Refused, Unavailable };

struct SignOutcome {
  SignStatus status = SignStatus::BadRequest;
  /// Known once the request was parsed (metrics label it; "UNKNOWN" before).
  std::optional<eth::SignType> type;
  crypto::Signature signature{};  // Ok only
  /// For a refusal or an error: one line for the client and the log (never internal or secret text).
  std::string message;
  /// Refused: slashing protection's reason code ("double_vote", ...); Unavailable: the database's own error, for
  /// the log only.
  std::string_view refusal_reason;
  std::string detail;
  /// From the call to the answer.
  std::chrono::steady_clock::duration elapsed{};
};

using SignDone = std::move_only_function<void(SignOutcome)>;

struct ProtectedSigning;

/// A request checked and parsed, its signing root computed and, for a block or attestation, its slashing record
/// queued: what is left is the BLS work (SigningService::sign). Move-only; signing it is what calls its `done`.
class PreparedSignature {
 public:
  PreparedSignature(PreparedSignature&& other) noexcept;
  PreparedSignature& operator=(PreparedSignature&&) = delete;
  /// Answers Unavailable if it was never signed (a pool stopping with work queued): `done` is called exactly once.
  ~PreparedSignature();

 private:
  friend class SigningService;
  PreparedSignature() = default;
  std::shared_ptr<const keys::Key> key_;
  eth::SignType type_{};
  Bytes32 signing_root_{};
  std::chrono::steady_clock::time_point start_;
  SignDone done_;                            // unprotected messages
  std::shared_ptr<ProtectedSigning> state_;  // blocks and attestations (slashing protection on)
};

class SigningService {
 public:
  /// `slashing` null: protection disabled. The references outlive the service.
  SigningService(const keys::KeyStore& keys, const eth::NetworkConfig& network, slashing::SlashingProtection* slashing,
                 std::size_t hash_cache_capacity = 4096);

  /// Signs a Web3Signer / remote-signing-API request body (JSON text) with the key `pubkey`. `done` is called
  /// exactly once: on the calling thread, or, for blocks and attestations, on the slashing database's thread once
  /// the record is committed (then it must not block). The BLS work runs on the calling thread: call it where
  /// signing may take a few hundred microseconds.
  void sign_request(const crypto::PublicKey& pubkey, std::string_view body, SignDone done);

  /// The same for a request already parsed into JSON.
  void sign_request(const crypto::PublicKey& pubkey, const boost::json::value& body, SignDone done);

  /// sign_request in two steps, for an adapter that admits requests on one thread and signs on another: prepare
  /// does everything but the BLS work (microseconds for a small body: no blocking, fine on an I/O thread) and
  /// queues the slashing record Deferred, so that the records of the requests waiting for a signing thread share
  /// one transaction; sign, on a signing thread, asks for that transaction if it has not run yet and signs.
  /// prepare returns nothing when it has already called `done` (unknown key, bad request, an immediate refusal).
  std::optional<PreparedSignature> prepare(const crypto::PublicKey& pubkey, std::string_view body, SignDone done);
  void sign(PreparedSignature&& prepared);

  /// Signs a signing root computed by an adapter for a domain that no consensus message uses (Commit-Boost's), so
  /// that it can never be slashable: no slashing protection applies. The adapter is responsible for the domain.
  SignOutcome sign_unprotected_root(const crypto::PublicKey& pubkey, const Bytes32& signing_root);

  crypto::HashedMessageCache& hashed_messages() { return hashed_messages_; }

 private:
  std::optional<PreparedSignature> prepare_json(std::shared_ptr<const keys::Key> key, const boost::json::value& body,
                                                std::chrono::steady_clock::time_point start, SignDone done,
                                                slashing::Urgency urgency);
  std::optional<PreparedSignature> prepare_text(const crypto::PublicKey& pubkey, std::string_view body, SignDone done,
                                                slashing::Urgency urgency);

  const keys::KeyStore& keys_;
  const eth::NetworkConfig& network_;
  slashing::SlashingProtection* const slashing_;
  crypto::HashedMessageCache hashed_messages_;
};

}  // namespace cachet::signing

#include <crypto++/keccak.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <cachet/commit_boost/ecdsa.hpp>
#include <cachet/crypto/secure_memory.hpp>
#include <cstring>

namespace cachet::commit_boost {
namespace {

// One context for the process: signing and verification need no per-call randomisation state here, and the
// library documents a context as safe for concurrent use once created.
const secp256k1_context* context() {
  static secp256k1_context* const ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  return ctx;
}

EcdsaAddress address_of(const secp256k1_pubkey& pubkey) {
  std::array<std::uint8_t, 65> uncompressed{};
  std::size_t length = uncompressed.size();
  secp256k1_ec_pubkey_serialize(context(), uncompressed.data(), &length, &pubkey, SECP256K1_EC_UNCOMPRESSED);
  return ethereum_address(std::span<const std::uint8_t, 64>(uncompressed.data() + 1, 64));
}

}  // namespace

Bytes32 keccak256(std::span<const std::uint8_t> data) {
  CryptoPP::Keccak_256 hash;
  hash.Update(data.data(), data.size());
  Bytes32 out;
  hash.Final(out.data());
  return out;
}

EcdsaAddress ethereum_address(std::span<const std::uint8_t, 64> uncompressed_xy) {
  const auto digest = keccak256(uncompressed_xy);
  EcdsaAddress out;
  std::memcpy(out.data(), digest.data() + 12, out.size());
  return out;
}

void EcdsaSecretKey::SlotFree::operator()(std::uint8_t* slot) const noexcept { crypto::free_secret_slot(slot); }

EcdsaSecretKey::EcdsaSecretKey(std::unique_ptr<std::uint8_t, SlotFree> secret) : secret_(std::move(secret)) {
  secp256k1_pubkey pubkey;
  // from_bytes and generate checked the key, so this cannot fail.
  [[maybe_unused]] const int created = secp256k1_ec_pubkey_create(context(), &pubkey, secret_.get());
  address_ = address_of(pubkey);
}

std::expected<EcdsaSecretKey, std::string> EcdsaSecretKey::from_bytes(std::span<const std::uint8_t, 32> bytes) {
  if (!secp256k1_ec_seckey_verify(context(), bytes.data()))
    return std::unexpected("not a valid secp256k1 secret key (zero or not below the group order)");
  std::unique_ptr<std::uint8_t, SlotFree> slot(static_cast<std::uint8_t*>(crypto::allocate_secret_slot()));
  std::memcpy(slot.get(), bytes.data(), 32);
  return EcdsaSecretKey(std::move(slot));
}

std::expected<EcdsaSecretKey, std::string> EcdsaSecretKey::generate() {
  // A value at or above the group order has probability about 2^-128; draw again rather than reduce.
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::unique_ptr<std::uint8_t, SlotFree> slot(static_cast<std::uint8_t*>(crypto::allocate_secret_slot()));
    if (RAND_priv_bytes(slot.get(), 32) != 1) return std::unexpected("the random generator failed");
    if (secp256k1_ec_seckey_verify(context(), slot.get())) return EcdsaSecretKey(std::move(slot));
  }
  return std::unexpected("could not draw a valid secp256k1 key");
}

std::span<const std::uint8_t, 32> EcdsaSecretKey::bytes() const {
  return std::span<const std::uint8_t, 32>(secret_.get(), 32);
}

EcdsaSignature EcdsaSecretKey::sign(const Bytes32& prehashed) const {
  secp256k1_ecdsa_recoverable_signature signature;
  // Default nonce function: RFC 6979; the result is low-s.
  [[maybe_unused]] const int signed_ok =
      secp256k1_ecdsa_sign_recoverable(context(), &signature, prehashed.data(), secret_.get(), nullptr, nullptr);
  EcdsaSignature out{};
  int recovery_id = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(context(), out.data(), &recovery_id, &signature);
  out[64] = static_cast<std::uint8_t>(27 + recovery_id);
  return out;
}

std::expected<EcdsaAddress, std::string> recover_address(const Bytes32& prehashed, const EcdsaSignature& signature) {
  const int v = signature[64];
  const int recovery_id = v >= 27 ? v - 27 : v;
  if (recovery_id < 0 || recovery_id > 3) return std::unexpected("bad recovery id");
  secp256k1_ecdsa_recoverable_signature parsed;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(context(), &parsed, signature.data(), recovery_id))
    return std::unexpected("malformed signature");
  secp256k1_pubkey pubkey;
  if (!secp256k1_ecdsa_recover(context(), &pubkey, &parsed, prehashed.data()))
    return std::unexpected("no key recovers from this signature");
  return address_of(pubkey);
}

}  // namespace cachet::commit_boost

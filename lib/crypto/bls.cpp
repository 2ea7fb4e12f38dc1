// BLS over blst, as the consensus specs use it: the proof-of-possession ciphersuite with minimal-pubkey-size
// (pubkeys in G1, signatures in G2), consensus-specs phase0/beacon-chain.md "BLS signatures" and the IETF
// draft-irtf-cfrg-bls-signature-05 that it cites.
#include <openssl/rand.h>

#include <cachet/crypto/bls.hpp>
#include <cachet/crypto/secure_memory.hpp>
#include <cachet/util/bytes.hpp>

namespace cachet::crypto {

namespace {

const byte* dst_data() { return reinterpret_cast<const byte*>(kEthDst.data()); }

// KeyValidate (draft-irtf-cfrg-bls-signature-05 §2.5): decodes, is not the identity and is in the G1 subgroup.
bool decode_public_key(const PublicKey& pubkey, blst_p1_affine& out) {
  if (blst_p1_uncompress(&out, pubkey.data()) != BLST_SUCCESS) return false;
  return !blst_p1_affine_is_inf(&out) && blst_p1_affine_in_g1(&out);
}

}  // namespace

HashedMessage hash_to_g2(std::span<const std::uint8_t> message) {
  HashedMessage hashed;
  // No augmentation: the POP ciphersuite signs the bare message (the "aug" is only for the AUG scheme).
  blst_hash_to_g2(&hashed.point, message.data(), message.size(), dst_data(), kEthDst.size(), nullptr, 0);
  return hashed;
}

void SecretKey::Wiper::operator()(blst_scalar* s) const noexcept {
  free_secret_slot(s);  // wipes it
}

std::expected<SecretKey, std::string> SecretKey::from_bytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != 32) return std::unexpected("a BLS secret key is 32 bytes, got " + std::to_string(bytes.size()));
  // The scalar lives in locked, undumpable memory (secure_memory.hpp) for as long as the key exists.
  static_assert(sizeof(blst_scalar) == 32 && alignof(blst_scalar) <= 8);
  std::unique_ptr<blst_scalar, Wiper> scalar(new (allocate_secret_slot()) blst_scalar{});
  blst_scalar_from_bendian(scalar.get(), bytes.data());
  // The spec's KeyGen only yields 0 < SK < r; zero would sign everything with the identity point.
  if (!blst_sk_check(scalar.get()))
    return std::unexpected(std::string("the BLS secret key is zero or not below the group order"));
  return SecretKey(std::move(scalar));
}

std::expected<SecretKey, std::string> SecretKey::generate() {
  // EIP-2333's KeyGen (blst_keygen) over 32 bytes of fresh randomness always yields 0 < SK < r.
  std::array<std::uint8_t, 32> ikm{};
  if (RAND_priv_bytes(ikm.data(), static_cast<int>(ikm.size())) != 1)
    return std::unexpected(std::string("the random generator failed"));
  std::unique_ptr<blst_scalar, Wiper> scalar(new (allocate_secret_slot()) blst_scalar{});
  blst_keygen(scalar.get(), ikm.data(), ikm.size(), nullptr, 0);
  secure_wipe(ikm.data(), ikm.size());
  return SecretKey(std::move(scalar));
}

PublicKey SecretKey::public_key() const {
  blst_p1 point;
  blst_sk_to_pk_in_g1(&point, scalar_.get());
  PublicKey out;
  blst_p1_compress(out.data(), &point);
  return out;
}

Signature SecretKey::sign(std::span<const std::uint8_t> message) const { return sign(hash_to_g2(message)); }

Signature SecretKey::sign(const HashedMessage& hashed) const {
  blst_p2 point;
  blst_sign_pk_in_g1(&point, &hashed.point, scalar_.get());
  Signature out;
  blst_p2_compress(out.data(), &point);
  return out;
}

Bytes32 SecretKey::to_bytes() const {
  Bytes32 out;
  blst_bendian_from_scalar(out.data(), scalar_.get());
  return out;
}

bool verify(const PublicKey& pubkey, std::span<const std::uint8_t> message, const Signature& signature) {
  blst_p1_affine pk;
  if (!decode_public_key(pubkey, pk)) return false;
  // CoreVerify §2.7: the signature must decode and be in G2. The identity never verifies against a valid key.
  blst_p2_affine sig;
  if (blst_p2_uncompress(&sig, signature.data()) != BLST_SUCCESS) return false;
  if (blst_p2_affine_is_inf(&sig) || !blst_p2_affine_in_g2(&sig)) return false;
  return blst_core_verify_pk_in_g1(&pk, &sig, /*hash_or_encode=*/true, message.data(), message.size(), dst_data(),
                                   kEthDst.size(), nullptr, 0) == BLST_SUCCESS;
}

bool is_valid_public_key(const PublicKey& pubkey) {
  blst_p1_affine pk;
  return decode_public_key(pubkey, pk);
}

// blst.h has no version call; this is the version of the sources cmake/blst.cmake builds (@chainsafe/blst 0.2.11
// ships blst 0.3.10, see bindings/rust/Cargo.toml there). Update together with package-lock.json.
std::string_view blst_version() { return "0.3.10"; }

}  // namespace cachet::crypto

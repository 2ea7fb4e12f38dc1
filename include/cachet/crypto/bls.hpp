// BLS12-381 signatures as Ethereum consensus uses them (IETF BLS, proof-of-possession ciphersuite,
// public keys in G1, signatures in G2), over blst.
#pragma once

#include <blst.h>

#include <cachet/util/bytes.hpp>
#include <expected>
#include <memory>
#include <span>
#include <string>

namespace cachet::crypto {

/// Domain separation tag of the Ethereum consensus ciphersuite (consensus-specs phase0/beacon-chain.md, "BLS
/// signatures").
inline constexpr std::string_view kEthDst = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

using PublicKey = Bytes48;  // compressed G1 point
using Signature = Bytes96;  // compressed G2 point

/// hash_to_G2(message) with the Ethereum DST. Public data: safe to cache and share between keys.
struct HashedMessage {
  blst_p2 point;
};
HashedMessage hash_to_g2(std::span<const std::uint8_t> message);

/// A BLS secret key. Move-only; the scalar lives on the heap at a stable address and is wiped on destruction.
class SecretKey {
 public:
  /// 32 big-endian bytes; refuses zero and values >= the group order.
  static std::expected<SecretKey, std::string> from_bytes(std::span<const std::uint8_t> bytes);
  /// A fresh key (EIP-2333 KeyGen over 32 bytes from the operating system's CSPRNG).
  static std::expected<SecretKey, std::string> generate();

  SecretKey(SecretKey&&) noexcept = default;
  SecretKey& operator=(SecretKey&&) noexcept = default;
  ~SecretKey() = default;

  PublicKey public_key() const;
  Signature sign(std::span<const std::uint8_t> message) const;
  /// Signs a message already hashed to G2: only the scalar multiplication is done here.
  Signature sign(const HashedMessage& hashed) const;
  /// The 32 big-endian bytes (for writing a keystore). The caller must wipe them.
  Bytes32 to_bytes() const;

 private:
  struct Wiper {
    void operator()(blst_scalar* s) const noexcept;
  };
  explicit SecretKey(std::unique_ptr<blst_scalar, Wiper> scalar) : scalar_(std::move(scalar)) {}
  std::unique_ptr<blst_scalar, Wiper> scalar_;
};

/// Full verification: public key and signature must decode, be in their subgroups and not be infinity.
bool verify(const PublicKey& pubkey, std::span<const std::uint8_t> message, const Signature& signature);

/// Whether `pubkey` is a valid compressed G1 point in the subgroup (not infinity).
bool is_valid_public_key(const PublicKey& pubkey);

/// blst's version string, for `cachet --version`.
std::string_view blst_version();

}  // namespace cachet::crypto

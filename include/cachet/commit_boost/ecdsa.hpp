// secp256k1 proxy keys as Commit-Boost uses them (libsecp256k1): identified by their Ethereum address, signing a
// 32-byte signing root as a prehashed message into a 65-byte recoverable signature r || s || v (v = 27 + recovery
// id, low s, RFC 6979 nonces, so the same key and root always give the same signature).
#pragma once

#include <cachet/util/bytes.hpp>
#include <expected>
#include <memory>
#include <span>
#include <string>

namespace cachet::commit_boost {

using EcdsaAddress = Bytes20;
using EcdsaSignature = std::array<std::uint8_t, 65>;

/// Keccak-256 (the original Keccak padding Ethereum uses, not SHA3-256).
Bytes32 keccak256(std::span<const std::uint8_t> data);

/// The Ethereum address of an uncompressed public key (64 bytes x || y, without the 0x04 prefix): the last 20
/// bytes of its Keccak-256.
EcdsaAddress ethereum_address(std::span<const std::uint8_t, 64> uncompressed_xy);

/// A secp256k1 secret key in locked memory, wiped on destruction.
class EcdsaSecretKey {
 public:
  /// A fresh key from the operating system's CSPRNG.
  static std::expected<EcdsaSecretKey, std::string> generate();
  /// 32 big-endian bytes; refuses zero and values >= the group order.
  static std::expected<EcdsaSecretKey, std::string> from_bytes(std::span<const std::uint8_t, 32> bytes);

  EcdsaSecretKey(EcdsaSecretKey&&) noexcept = default;
  EcdsaSecretKey& operator=(EcdsaSecretKey&&) noexcept = default;

  const EcdsaAddress& address() const { return address_; }
  EcdsaSignature sign(const Bytes32& prehashed) const;
  /// The secret bytes (for writing a keystore).
  std::span<const std::uint8_t, 32> bytes() const;

 private:
  struct SlotFree {
    void operator()(std::uint8_t* slot) const noexcept;
  };
  explicit EcdsaSecretKey(std::unique_ptr<std::uint8_t, SlotFree> secret);
  std::unique_ptr<std::uint8_t, SlotFree> secret_;
  EcdsaAddress address_{};
};

/// The address that signed `prehashed` (for tests and checks): nullopt-like error when the signature is malformed.
std::expected<EcdsaAddress, std::string> recover_address(const Bytes32& prehashed, const EcdsaSignature& signature);

}  // namespace cachet::commit_boost

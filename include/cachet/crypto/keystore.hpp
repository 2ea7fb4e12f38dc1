// EIP-2335 BLS12-381 keystores (version 4): decryption, and encryption for tests and tools.
#pragma once

#include <cachet/crypto/bls.hpp>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>

namespace cachet::crypto {

/// Caps on the key-derivation cost a keystore may ask for, enforced before any work is done,
/// so a hostile file cannot exhaust memory or CPU.
struct KeystoreLimits {
  std::uint64_t max_scrypt_n = 1ULL << 18;
  std::uint64_t max_scrypt_memory_bytes = 1ULL << 30;  // what OpenSSL allocates: 128 * r * (n + p + 2) bytes
  std::uint64_t max_pbkdf2_c = 1ULL << 22;
  std::uint64_t max_scrypt_p = 16;  // p multiplies scrypt's time without adding memory (EIP-2335 uses p = 1)
};

struct DecryptedKeystore {
  SecretKey secret;
  PublicKey pubkey;
  std::string derivation_path;  // "" when the keystore has none
  std::string uuid;
};

/// Decrypts an EIP-2335 keystore. The password is processed as EIP-2335 says (NFKD, control characters removed).
/// Refuses a checksum mismatch (compared in constant time) and a keystore whose `pubkey` differs from the key's.
/// The error is a one-line reason fit for a log line or an API `message` (it never contains secrets).
std::expected<DecryptedKeystore, std::string> decrypt_keystore(std::string_view keystore_json,
                                                               std::string_view password,
                                                               const KeystoreLimits& limits = {});

/// EIP-2335 password processing: UTF-8 NFKD, then C0 (0x00-0x1F), DEL (0x7F) and C1 (0x80-0x9F) code points removed.
std::expected<std::string, std::string> normalize_password(std::string_view password);

enum class Kdf { Scrypt, Pbkdf2 };
struct KeystoreParams {
  Kdf kdf = Kdf::Scrypt;
  std::uint64_t scrypt_n = 1ULL << 18;  // EIP-2335's recommended cost
  std::uint32_t pbkdf2_c = 262144;
  std::string derivation_path;
  std::string description;
};

/// Writes a version-4 keystore JSON for `secret` with a random salt, IV and UUID.
std::expected<std::string, std::string> encrypt_keystore(const SecretKey& secret, std::string_view password,
                                                         const KeystoreParams& params = {});

/// EIP-2335's crypto object (kdf, sha256 checksum, aes-128-ctr) over a secret of any length, with a fresh salt and
/// IV: the JSON text of the object. For the signer's key cache, which holds many secrets under one KDF.
std::expected<std::string, std::string> encrypt_crypto_object(std::span<const std::uint8_t> secret,
                                                              std::string_view password,
                                                              const KeystoreParams& params = {});

/// The secret of an `encrypt_crypto_object` result; the caller must wipe it. Refuses a checksum mismatch and a KDF
/// cost above `limits`, as for a keystore.
std::expected<std::string, std::string> decrypt_crypto_object(std::string_view crypto_json, std::string_view password,
                                                              const KeystoreLimits& limits = {});

}  // namespace cachet::crypto

// libFuzzer target: EIP-2335 keystore JSON → crypto::decrypt_keystore with the password "password" and KDF caps so
// small that no input can make one run slow (scrypt n ≤ 2^10 and ≤ 2 MiB, pbkdf2 c ≤ 2^10); the seed keystores in
// corpus/keystore/gen_* are encrypted with "password" at such costs, so mutations reach the checksum, the cipher
// and the pubkey check. The same bytes also go through normalize_password (keymanager passwords are client input).
#include <cachet/crypto/keystore.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  cachet::crypto::KeystoreLimits limits;
  limits.max_scrypt_n = 1 << 10;
  limits.max_scrypt_memory_bytes = 2 << 20;
  limits.max_pbkdf2_c = 1 << 10;
  limits.max_scrypt_p = 2;

  auto decrypted = cachet::crypto::decrypt_keystore(text, "password", limits);
  if (decrypted) {
    check(decrypted->secret.public_key() == decrypted->pubkey, "the pubkey is the secret's");
  } else {
    check(!decrypted.error().empty(), "an error has a message");
    check(decrypted.error().find('\n') == std::string::npos, "the error is one line");
  }

  auto password = cachet::crypto::normalize_password(text);
  if (password) {
    for (unsigned char c : *password) check(c >= 0x20 && c != 0x7f, "no C0 or DEL left in a processed password");
  }
  return 0;
}

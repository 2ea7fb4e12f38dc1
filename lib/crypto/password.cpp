// EIP-2335 "Password requirements": the password is NFKD-normalised, then the control code points C0 (0x00-0x1F),
// DEL (0x7F) and C1 (0x80-0x9F) are removed, and the result is UTF-8 encoded before it goes into the KDF.
#include <uninorm.h>
#include <unistr.h>

#include <cachet/crypto/keystore.hpp>
#include <cstdlib>
#include <memory>

namespace cachet::crypto {

namespace {

bool is_control(ucs4_t c) { return c <= 0x1F || (c >= 0x7F && c <= 0x9F); }

// libunistring returns malloc'd memory; this one holds a password, so it is wiped before it is freed.
struct WipeAndFree {
  std::size_t size = 0;
  void operator()(std::uint8_t* p) const noexcept {
    secure_wipe(p, size);
    std::free(p);
  }
};

}  // namespace

std::expected<std::string, std::string> normalize_password(std::string_view password) {
  const auto* in = reinterpret_cast<const std::uint8_t*>(password.data());
  // NFKD is only defined over code points: a password that is not UTF-8 cannot be processed as the EIP says, and
  // guessing an encoding would make the same file decrypt differently elsewhere.
  if (u8_check(in, password.size()) != nullptr) return std::unexpected(std::string("the password is not valid UTF-8"));
  if (password.empty()) return std::string();

  std::size_t length = 0;
  std::uint8_t* raw = u8_normalize(UNINORM_NFKD, in, password.size(), nullptr, &length);
  if (raw == nullptr) return std::unexpected(std::string("the password could not be NFKD-normalised"));
  std::unique_ptr<std::uint8_t, WipeAndFree> normalized(raw, WipeAndFree{length});

  std::string out;
  out.reserve(length);  // no reallocation, so no stray copy of the password is left behind
  for (std::size_t i = 0; i < length;) {
    ucs4_t c = 0;
    int n = u8_mbtoucr(&c, normalized.get() + i, length - i);  // -1/-2 on an invalid or truncated sequence
    if (n <= 0) {
      secure_wipe(out.data(), out.size());
      return std::unexpected(std::string("the password is not valid UTF-8 after normalisation"));
    }
    if (!is_control(c)) out.append(reinterpret_cast<const char*>(normalized.get() + i), static_cast<std::size_t>(n));
    i += static_cast<std::size_t>(n);
  }
  return out;
}

}  // namespace cachet::crypto

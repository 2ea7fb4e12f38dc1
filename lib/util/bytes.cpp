#include <openssl/crypto.h>

#include <cachet/util/bytes.hpp>

namespace cachet {

std::string to_hex(std::span<const std::uint8_t> bytes, bool prefix) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2 + 2);
  if (prefix) out += "0x";
  for (auto b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0xf];
  }
  return out;
}

namespace {
int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool decode_hex(std::string_view digits, std::span<std::uint8_t> out) {
  if (digits.size() != 2 * out.size()) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(digits[2 * i]), lo = nibble(digits[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::expected<std::vector<std::uint8_t>, std::string> from_hex(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  if (text.size() % 2 != 0) return std::unexpected(std::string("hex has an odd number of digits"));
  std::vector<std::uint8_t> out(text.size() / 2);
  if (!decode_hex(text, out)) return std::unexpected(std::string("invalid hex character"));
  return out;
}

void secure_wipe(void* data, std::size_t size) { OPENSSL_cleanse(data, size); }

}  // namespace cachet

// Fixed-size byte strings used across the core and their hex forms as the APIs write them (0x-prefixed, lower case).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cachet {

using Bytes4 = std::array<std::uint8_t, 4>;
using Bytes20 = std::array<std::uint8_t, 20>;
using Bytes32 = std::array<std::uint8_t, 32>;
using Bytes48 = std::array<std::uint8_t, 48>;
using Bytes96 = std::array<std::uint8_t, 96>;

/// Lower-case hex, "0x"-prefixed unless `prefix` is false.
std::string to_hex(std::span<const std::uint8_t> bytes, bool prefix = true);

/// Decodes exactly 2 * out.size() hex digits (no prefix) into `out` without allocating; false on a non-hex digit.
bool decode_hex(std::string_view digits, std::span<std::uint8_t> out);

/// Parses hex with an optional "0x" prefix; the error says what is wrong (odd length, bad character).
std::expected<std::vector<std::uint8_t>, std::string> from_hex(std::string_view text);

/// Parses hex of exactly N bytes (optional "0x" prefix).
template <std::size_t N>
std::expected<std::array<std::uint8_t, N>, std::string> from_hex_fixed(std::string_view text) {
  auto bytes = from_hex(text);
  if (!bytes) return std::unexpected(bytes.error());
  if (bytes->size() != N)
    return std::unexpected("expected " + std::to_string(N) + " bytes of hex, got " + std::to_string(bytes->size()));
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = (*bytes)[i];
  return out;
}

/// Overwrites memory in a way the optimiser cannot drop (for secrets).
void secure_wipe(void* data, std::size_t size);

/// Hash for byte arrays used as map keys (pubkeys, roots): their bytes are already uniformly distributed.
struct BytesHash {
  template <std::size_t N>
  std::size_t operator()(const std::array<std::uint8_t, N>& a) const noexcept {
    static_assert(N >= sizeof(std::size_t));
    std::size_t h;
    __builtin_memcpy(&h, a.data() + N - sizeof(std::size_t), sizeof h);
    return h;
  }
};

}  // namespace cachet

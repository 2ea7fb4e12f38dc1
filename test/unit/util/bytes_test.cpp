#include <gtest/gtest.h>

#include <cachet/util/bytes.hpp>

using namespace cachet;

TEST(Hex, RoundTrip) {
  std::vector<std::uint8_t> v{0x00, 0xab, 0xff, 0x10};
  EXPECT_EQ(to_hex(v), "0x00abff10");
  EXPECT_EQ(to_hex(v, false), "00abff10");
  EXPECT_EQ(*from_hex("0x00ABff10"), v);
  EXPECT_EQ(*from_hex("00abff10"), v);
}

TEST(Hex, RejectsBadInput) {
  EXPECT_FALSE(from_hex("0x0"));
  EXPECT_FALSE(from_hex("0xzz"));
  EXPECT_FALSE(from_hex_fixed<4>("0x001122"));
  EXPECT_TRUE(from_hex_fixed<4>("0x00112233"));
}

TEST(Wipe, ZeroesMemory) {
  std::array<std::uint8_t, 8> secret{1, 2, 3, 4, 5, 6, 7, 8};
  secure_wipe(secret.data(), secret.size());
  EXPECT_EQ(secret, (std::array<std::uint8_t, 8>{}));
}

#include <gtest/gtest.h>

#include "server/http_server.hpp"

using cachet::server::host_of;
using cachet::server::HostAllowlist;

TEST(HostOf, HostPartLowerCaseWithoutPortOrBrackets) {
  EXPECT_EQ(host_of("localhost"), "localhost");
  EXPECT_EQ(host_of("LocalHost:8080"), "localhost");
  EXPECT_EQ(host_of(" 127.0.0.1:9000 "), "127.0.0.1");
  EXPECT_EQ(host_of("localhost:"), "localhost");
  EXPECT_EQ(host_of("[::1]"), "::1");
  EXPECT_EQ(host_of("[::1]:8080"), "::1");
  EXPECT_EQ(host_of("[0:0:0:0:0:0:0:1]:8080"), "::1");
  EXPECT_EQ(host_of("[FE80::A]"), "fe80::a");
  EXPECT_EQ(host_of("signer.internal"), "signer.internal");
}

TEST(HostOf, MalformedIsNullopt) {
  for (const char* bad : {"", ":8080", "::1", "[::1", "[::1]x", "[::1]:x", "[nothex]", "host:port", "a:1:2",
                          "host:123456", "evil.example/path", "user@host", "host name", "localhost\r"}) {
    EXPECT_FALSE(host_of(bad).has_value()) << bad;
  }
}

TEST(HostAllowlist, DefaultConstructedAllowsAny) {
  HostAllowlist any;
  EXPECT_TRUE(any.allows_any());
  EXPECT_TRUE(any.allows("evil.example"));
  EXPECT_TRUE(any.allows(""));
}

TEST(HostAllowlist, NamesCaseInsensitivePortIgnored) {
  auto list = HostAllowlist::parse("localhost,127.0.0.1");
  ASSERT_TRUE(list) << list.error();
  EXPECT_FALSE(list->allows_any());
  EXPECT_TRUE(list->allows("localhost"));
  EXPECT_TRUE(list->allows("LOCALHOST:8080"));
  EXPECT_TRUE(list->allows("127.0.0.1:1"));
  EXPECT_FALSE(list->allows("evil.example"));
  EXPECT_FALSE(list->allows("localhost.evil.example"));
  EXPECT_FALSE(list->allows("127.0.0.2"));
  EXPECT_FALSE(list->allows("[::1]:8080"));
  EXPECT_FALSE(list->allows(""));
  EXPECT_FALSE(list->allows("localhost:8080:1"));
}

TEST(HostAllowlist, Ipv6WithOrWithoutBrackets) {
  auto list = HostAllowlist::parse(" [::1] , 2001:DB8::5 ");
  ASSERT_TRUE(list) << list.error();
  EXPECT_EQ(list->hosts(), (std::vector<std::string>{"::1", "2001:db8::5"}));
  EXPECT_TRUE(list->allows("[::1]:9000"));
  EXPECT_TRUE(list->allows("[2001:db8:0::5]"));
  EXPECT_FALSE(list->allows("localhost"));
}

TEST(HostAllowlist, StarAllowsAny) {
  auto list = HostAllowlist::parse("localhost,*");
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->allows_any());
  EXPECT_TRUE(list->allows("evil.example"));
}

TEST(HostAllowlist, BadListsSayWhy) {
  EXPECT_NE(HostAllowlist::parse("localhost:8080").error().find("without a port"), std::string::npos);
  EXPECT_NE(HostAllowlist::parse("").error().find("names no host"), std::string::npos);
  EXPECT_NE(HostAllowlist::parse(" , ,").error().find("names no host"), std::string::npos);
  EXPECT_NE(HostAllowlist::parse("http://x").error().find("'http://x'"), std::string::npos);
  EXPECT_FALSE(HostAllowlist::parse("[zz::1]"));
  EXPECT_FALSE(HostAllowlist::parse("a b"));
}

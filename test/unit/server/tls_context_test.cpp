#include "server/tls_context.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace cachet::server;

namespace {
const std::string kFp =
    "DF:65:B8:02:08:5E:91:82:0F:91:F5:1C:96:56:92:C4:1A:F6:C6:27:FD:6C:FC:31:F2:BB:90:17:22:59:5B:50";
}

TEST(KnownClients, ParsesWeb3SignerFormat) {
  std::string lower = kFp;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto clients = parse_known_clients(
      "# comment\n\nlighthouse " + kFp + "\r\n   \t\n  teku\t" +
      "11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11" +
      "  \n  # indented comment\nnimbus " + std::string(64, 'a'));
  ASSERT_TRUE(clients) << clients.error();
  ASSERT_EQ(clients->size(), 3u);
  EXPECT_EQ((*clients)[0].name, "lighthouse");
  EXPECT_EQ(format_fingerprint((*clients)[0].fingerprint), kFp);
  EXPECT_EQ((*clients)[1].name, "teku");
  EXPECT_EQ((*clients)[1].fingerprint[31], 0x11);
  EXPECT_EQ((*clients)[2].fingerprint[0], 0xaa);
  auto from_lower = parse_known_clients("x " + lower);
  ASSERT_TRUE(from_lower);
  EXPECT_EQ(format_fingerprint((*from_lower)[0].fingerprint), kFp);
  EXPECT_TRUE(parse_known_clients("")->empty());
  EXPECT_TRUE(parse_known_clients("# only\n\n")->empty());
}

TEST(KnownClients, BadLinesNameTheLine) {
  struct Case {
    std::string text;
    std::string says;
  };
  for (const auto& [text, says] : std::vector<Case>{
           {"lighthouse", "line 1: expected NAME SHA256-FINGERPRINT"},
           {"# c\nlighthouse " + kFp + " extra", "line 2: expected NAME SHA256-FINGERPRINT, found more fields"},
           {"\n\nteku " + kFp.substr(3), "line 3: the fingerprint"},
           {"teku " + kFp.substr(0, kFp.size() - 1) + "G", "line 1: the fingerprint"},
           {"teku " + std::string(kFp).replace(2, 1, "-"), "line 1: the fingerprint"},
           {"teku " + std::string(63, 'a'), "line 1: the fingerprint"},
           {"a " + kFp + "\nb " + kFp, "line 2: fingerprint already listed for 'a'"},
       }) {
    auto parsed = parse_known_clients(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().substr(0, says.size()), says) << parsed.error();
  }
}

TEST(TlsContext, FlagCombinations) {
  EXPECT_NE(TlsContext::create({"cert.pem", "", "", ""}).error().find("must be given together"), std::string::npos);
  EXPECT_NE(TlsContext::create({"", "key.pem", "", ""}).error().find("must be given together"), std::string::npos);
  EXPECT_NE(TlsContext::create({"", "", "ca.pem", ""}).error().find("need --tls-cert-file"), std::string::npos);
  auto missing = TlsContext::create({"/nonexistent/cert.pem", "/nonexistent/key.pem", "", ""});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("--tls-cert-file: cannot read /nonexistent/cert.pem"), std::string::npos)
      << missing.error();
}

TEST(TlsContext, KeyFilePermissionWarning) {
  const auto path = std::filesystem::temp_directory_path() / ("cachet-key-" + std::to_string(::getpid()) + ".pem");
  std::ofstream(path) << "x";
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_FALSE(key_file_permission_warning(path));
  std::filesystem::permissions(path, std::filesystem::perms::group_read, std::filesystem::perm_options::add);
  auto warning = key_file_permission_warning(path);
  ASSERT_TRUE(warning);
  EXPECT_NE(warning->find("mode 0640"), std::string::npos) << *warning;
  std::filesystem::remove(path);
}

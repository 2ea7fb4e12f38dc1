// The keymanager bearer token: the same whitespace rule for the file and the header, the minimum length, and the
// permission warning, on real files.
#include "server/api_token.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

using namespace cachet::server;

namespace {

class TokenFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("cachet-token-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "token.txt";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& content, mode_t mode = 0600) {
    std::ofstream(path_) << content;
    ::chmod(path_.c_str(), mode);
  }
  std::filesystem::path dir_, path_;
};

const std::string kToken(40, 'a');

TEST(TrimToken, SpacesTabsAndLineEndsOnBothSides) {
  EXPECT_EQ(trim_token(" \t abc \r\n"), "abc");
  EXPECT_EQ(trim_token("a b"), "a b");
  EXPECT_EQ(trim_token(" \n "), "");
}

TEST(CheckBearer, TheHeaderIsTrimmedLikeTheFile) {
  EXPECT_EQ(check_bearer("Bearer " + kToken, kToken), AuthResult::Ok);
  EXPECT_EQ(check_bearer("bearer   " + kToken + " \t", kToken), AuthResult::Ok);
  EXPECT_EQ(check_bearer("Bearer " + kToken + "b", kToken), AuthResult::Wrong);
  EXPECT_EQ(check_bearer("Basic " + kToken, kToken), AuthResult::Wrong);
  EXPECT_EQ(check_bearer("", kToken), AuthResult::Missing);
}

TEST_F(TokenFile, SurroundingWhitespaceIsStripped) {
  write("  " + kToken + " \r\n\n");
  const auto token = load_or_create_token(path_);
  ASSERT_TRUE(token) << token.error();
  EXPECT_EQ(*token, kToken);
  EXPECT_EQ(check_bearer("Bearer " + kToken, *token), AuthResult::Ok);
}

TEST_F(TokenFile, ShorterThan32IsRefusedWithoutTheToken) {
  write(std::string(31, 'z') + "\n");
  const auto token = load_or_create_token(path_);
  ASSERT_FALSE(token);
  EXPECT_NE(token.error().find("at least 32"), std::string::npos) << token.error();
  EXPECT_EQ(token.error().find(std::string(31, 'z')), std::string::npos) << "the token reached the error";
  write(std::string(32, 'z'));
  EXPECT_TRUE(load_or_create_token(path_));
}

TEST_F(TokenFile, CreatedWhenAbsentOwnerOnly) {
  const auto token = load_or_create_token(path_);
  ASSERT_TRUE(token) << token.error();
  EXPECT_EQ(token->size(), 64u);
  EXPECT_FALSE(token_file_permission_warning(path_));
}

TEST_F(TokenFile, ReadableByGroupOrOthersIsAWarning) {
  write(kToken, 0640);
  const auto warning = token_file_permission_warning(path_);
  ASSERT_TRUE(warning);
  EXPECT_NE(warning->find("mode 0640"), std::string::npos) << *warning;
  write(kToken, 0604);
  EXPECT_TRUE(token_file_permission_warning(path_));
  write(kToken, 0600);
  EXPECT_FALSE(token_file_permission_warning(path_));
}

}  // namespace

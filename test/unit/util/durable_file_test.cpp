#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cachet/util/durable_file.hpp>
#include <fstream>
#include <sstream>

using namespace cachet;
namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

TEST(DurableFile, WritesReplacesAndRemoves) {
  const auto dir = fs::temp_directory_path() / ("cachet-durable-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ASSERT_TRUE(ensure_directory(dir / "sub", 0700));
  struct stat st {};
  ASSERT_EQ(::stat((dir / "sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  const auto file = dir / "sub" / "a.json";
  ASSERT_TRUE(write_file_durably(file, "first"));
  ASSERT_TRUE(write_file_durably(file, "second", 0600));
  EXPECT_EQ(slurp(file), "second");
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // No temporary files are left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "sub"), fs::directory_iterator{}), 1);

  ASSERT_TRUE(remove_file_durably(file));
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(remove_file_durably(file));  // absent is fine
  EXPECT_FALSE(write_file_durably(dir / "missing-dir" / "x", "y"));
  fs::remove_all(dir);
}

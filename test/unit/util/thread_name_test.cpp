#include <gtest/gtest.h>
#include <pthread.h>

#include <cachet/util/thread_name.hpp>
#include <string>
#include <thread>

using namespace cachet;

namespace {

std::string name_of_this_thread() {
  char buffer[64] = {};
  EXPECT_EQ(::pthread_getname_np(::pthread_self(), buffer, sizeof buffer), 0);
  return buffer;
}

// The name a new thread reports after naming itself `name`.
std::string name_seen_by_a_thread_named(std::string_view name) {
  std::string seen;
  std::thread([&] {
    name_this_thread(name);
    seen = name_of_this_thread();
  }).join();
  return seen;
}

}  // namespace

TEST(ThreadName, NamesTheCallingThreadOnly) {
  EXPECT_EQ(name_seen_by_a_thread_named("slashing-write"), "slashing-write");
  EXPECT_NE(name_of_this_thread(), "slashing-write");  // the test's own thread keeps its name
}

TEST(ThreadName, KeepsTheFirstFifteenCharacters) {
  EXPECT_EQ(name_seen_by_a_thread_named("a-name-far-longer-than-the-kernel-keeps"), "a-name-far-long");
}

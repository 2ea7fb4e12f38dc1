#include <gtest/gtest.h>
#include <sched.h>

#include <cachet/util/cpu.hpp>
#include <thread>

TEST(UsableCores, FollowsTheAffinityMask) {
  const unsigned all = cachet::usable_cores();
  EXPECT_GE(all, 1u);
  EXPECT_LE(all, std::max(1u, std::thread::hardware_concurrency()));
  cpu_set_t saved;
  ASSERT_EQ(::sched_getaffinity(0, sizeof saved, &saved), 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &saved)) {
      CPU_SET(cpu, &one);
      break;
    }
  ASSERT_EQ(::sched_setaffinity(0, sizeof one, &one), 0);
  EXPECT_EQ(cachet::usable_cores(), 1u);
  ASSERT_EQ(::sched_setaffinity(0, sizeof saved, &saved), 0);
}

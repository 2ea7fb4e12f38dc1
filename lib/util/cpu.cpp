#include <sched.h>

#include <cachet/util/cpu.hpp>
#include <thread>

namespace cachet {

unsigned usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
  const unsigned all = std::thread::hardware_concurrency();
  return all ? all : 1;
}

}  // namespace cachet

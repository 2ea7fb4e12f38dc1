#include <pthread.h>

#include <algorithm>
#include <cachet/util/thread_name.hpp>

namespace cachet {

void name_this_thread(std::string_view name) {
  char buffer[16] = {};  // the kernel's limit (TASK_COMM_LEN), terminator included
  std::copy_n(name.data(), std::min(name.size(), sizeof buffer - 1), buffer);
  (void)::pthread_setname_np(::pthread_self(), buffer);
}

}  // namespace cachet

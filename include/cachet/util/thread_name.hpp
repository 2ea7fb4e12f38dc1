// Names for the signer's threads, so that `top -H`, `perf report --sort comm` and /proc/PID/task/*/comm show which
// thread is which (signing, slashing writer, I/O) instead of a row of identical "cachet" entries.
#pragma once

#include <string_view>

namespace cachet {

/// Names the calling thread; Linux keeps the first 15 characters. Failure is ignored: a name is a diagnostic aid.
void name_this_thread(std::string_view name);

}  // namespace cachet

// How many cores this process may run on.
#pragma once

namespace cachet {

/// The CPUs in the process's affinity mask (what `taskset` or a container's cpuset allows), at least 1.
/// std::thread::hardware_concurrency() counts every CPU of the machine instead, which oversubscribes a pinned
/// signer with threads that only take turns on the same core.
unsigned usable_cores();

}  // namespace cachet

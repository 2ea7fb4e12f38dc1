// Process-wide protections for a process that holds secret keys.
#pragma once

namespace cachet::server {

/// No core dumps (RLIMIT_CORE 0) and not dumpable (PR_SET_DUMPABLE 0: no core file, and other processes of the
/// same user cannot ptrace it or read its memory through /proc). Call first thing in main.
void harden_process();

}  // namespace cachet::server

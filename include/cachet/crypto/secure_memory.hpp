// Memory for secret keys: locked in RAM (mlock, so it is never written to swap), left out of core dumps
// (MADV_DONTDUMP), and wiped when freed.
#pragma once

#include <cstddef>

namespace cachet::crypto {

/// A 32-byte slot (one BLS secret scalar) from the locked arena; never null (throws std::bad_alloc when the
/// system has no memory at all). Locking is best effort: see secure_memory_locked().
void* allocate_secret_slot();
/// Wipes the slot and returns it to the arena.
void free_secret_slot(void* slot) noexcept;

/// Whether every page of the arena so far is locked in RAM (false when RLIMIT_MEMLOCK refused one: the signer
/// logs a warning at start).
bool secure_memory_locked();

}  // namespace cachet::crypto

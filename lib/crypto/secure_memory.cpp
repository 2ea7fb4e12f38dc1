#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cachet/crypto/secure_memory.hpp>
#include <cachet/util/bytes.hpp>
#include <mutex>
#include <new>
#include <vector>

namespace cachet::crypto {
namespace {

constexpr std::size_t kSlot = 32;

// Pages are taken from the kernel directly (not the heap, which may hand the same page to other data and
// cannot be locked or excluded from dumps precisely) and never returned: a signer's key count only grows to
// its peak. Allocation happens at key load and import, never on the signing path, so one mutex is enough.
class Arena {
 public:
  void* allocate() {
    std::lock_guard lock(mutex_);
    if (free_.empty()) grow();
    void* slot = free_.back();
    free_.pop_back();
    return slot;
  }
  void release(void* slot) noexcept {
    secure_wipe(slot, kSlot);
    std::lock_guard lock(mutex_);
    free_.push_back(slot);  // capacity reserved in grow(): no allocation here
  }
  bool locked() const { return all_locked_.load(std::memory_order_relaxed); }

 private:
  void grow() {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    void* mem = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) throw std::bad_alloc();
    ::madvise(mem, page, MADV_DONTDUMP);
    if (::mlock(mem, page) != 0) all_locked_.store(false, std::memory_order_relaxed);
    total_ += page / kSlot;
    free_.reserve(total_);
    for (std::size_t off = 0; off + kSlot <= page; off += kSlot) free_.push_back(static_cast<char*>(mem) + off);
  }

  std::mutex mutex_;
  std::vector<void*> free_;
  std::size_t total_ = 0;
  std::atomic<bool> all_locked_{true};
};

Arena& arena() {
  static Arena* instance = new Arena;  // never destroyed: keys may outlive static destructors
  return *instance;
}

}  // namespace

void* allocate_secret_slot() { return arena().allocate(); }
void free_secret_slot(void* slot) noexcept {
  if (slot) arena().release(slot);
}
bool secure_memory_locked() { return arena().locked(); }

}  // namespace cachet::crypto

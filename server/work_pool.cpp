#include "server/work_pool.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cachet/util/thread_name.hpp>
#include <memory>

namespace cachet::server {

WorkPool::WorkPool(unsigned threads, std::size_t max_queued, int nice, std::string name)
    : threads_(threads), nice_(nice), name_(std::move(name)), max_queued_(max_queued), pool_(threads) {}

WorkPool::~WorkPool() { join(); }

bool WorkPool::try_reserve() {
  if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= max_queued_) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void WorkPool::release() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }

void WorkPool::post_reserved(
    std::move_only_function<void()> work) {  // asio needs a copyable handler; the job is moved in once and run once.
  auto job = std::make_shared<std::move_only_function<void()>>(std::move(work));
  boost::asio::post(pool_, [this, job] {
    // Linux applies a nice value and a name per thread; set them the first time each pool thread runs a job.
    thread_local bool set_up = false;
    if (!set_up) {
      if (nice_ > 0) ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), nice_);
      name_this_thread(name_);
      set_up = true;
    }
    (*job)();
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
  });
}

void WorkPool::join() { pool_.join(); }

}  // namespace cachet::server

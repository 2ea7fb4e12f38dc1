// A bounded queue of CPU work. Either on threads of its own (keystore decryption, proxy key generation: seconds of
// work that must never stall the I/O threads), or on the I/O threads themselves (signing: a few hundred
// microseconds a job, where handing the work to another thread and back cost more than the HTTP path itself). The
// bound is the same in both: when it is reached, callers are told at once (and answer 503) instead of letting
// requests time out.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <functional>
#include <optional>

namespace cachet::server {

class WorkPool {
 public:
  /// `nice` > 0 lowers the threads' scheduling priority (keystore imports yield the CPU to signing).
  WorkPool(unsigned threads, std::size_t max_queued, int nice = 0);
  /// Runs the work on the threads that run `io`, after the handlers already queued there (so a burst of requests is
  /// read, and the excess refused, before the first of them is signed).
  WorkPool(boost::asio::io_context& io, std::size_t max_queued);
  ~WorkPool();

  /// Queues `work`; false when `max_queued` jobs are already waiting or running, and then `work` is left
  /// untouched so the caller can still answer with what it holds.
  template <class Work>
  bool try_post(Work&& work) {
    if (!reserve()) return false;
    post_reserved(std::move_only_function<void()>(std::forward<Work>(work)));
    return true;
  }
  void join();

  unsigned threads() const { return threads_; }
  std::size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  std::size_t max_queued() const { return max_queued_; }

 private:
  bool reserve();
  void post_reserved(std::move_only_function<void()> work);

  unsigned threads_;
  int nice_;
  std::size_t max_queued_;
  std::atomic<std::size_t> in_flight_{0};
  std::optional<boost::asio::thread_pool> pool_;  // empty when the work runs on an io_context
  boost::asio::any_io_executor executor_;
};

}  // namespace cachet::server

// A pool of threads for CPU work (BLS signing; keystore decryption), so that slow requests never stall the I/O
// threads. The queue in front of it is bounded: when it is full, callers are told at once (and answer 503)
// instead of letting requests time out.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <functional>
#include <string>

namespace cachet::server {

class WorkPool {
 public:
  /// `nice` > 0 lowers the threads' scheduling priority (keystore imports yield the CPU to signing); `name` names
  /// the threads (as `top -H` and `perf` show them).
  WorkPool(unsigned threads, std::size_t max_queued, int nice = 0, std::string name = "cachet-work");
  ~WorkPool();

  /// Queues `work`; false when `max_queued` jobs are already waiting or running, and then `work` is left
  /// untouched so the caller can still answer with what it holds.
  template <class Work>
  bool try_post(Work&& work) {
    if (!try_reserve()) return false;
    post_reserved(std::move_only_function<void()>(std::forward<Work>(work)));
    return true;
  }
  /// try_post in two steps, for a caller with work to do between the admission and the queueing: a place in the
  /// queue (false when full), then exactly one of post_reserved (the job takes the place) or release.
  bool try_reserve();
  void post_reserved(std::move_only_function<void()> work);
  void release();
  void join();

  unsigned threads() const { return threads_; }
  std::size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  std::size_t max_queued() const { return max_queued_; }

 private:
  unsigned threads_;
  int nice_;
  std::string name_;
  std::size_t max_queued_;
  std::atomic<std::size_t> in_flight_{0};
  boost::asio::thread_pool pool_;
};

}  // namespace cachet::server

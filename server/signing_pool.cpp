#include "server/signing_pool.hpp"

#include <boost/asio/post.hpp>
#include <memory>

namespace cachet::server {

SigningPool::SigningPool(unsigned threads, std::size_t max_queued)
    : threads_(threads), max_queued_(max_queued), pool_(threads) {}

SigningPool::~SigningPool() { join(); }

bool SigningPool::reserve() {
  if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= max_queued_) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void SigningPool::post_reserved(
    std::move_only_function<void()> work) {  // asio needs a copyable handler; the job is moved in once and run once.
  auto job = std::make_shared<std::move_only_function<void()>>(std::move(work));
  boost::asio::post(pool_, [this, job] {
    (*job)();
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
  });
}

void SigningPool::join() { pool_.join(); }

}  // namespace cachet::server

#include <cachet/crypto/hashed_message_cache.hpp>

namespace cachet::crypto {

HashedMessageCache::HashedMessageCache(std::size_t capacity)
    : per_shard_(capacity == 0 ? 0 : std::max<std::size_t>(1, capacity / kShards)) {}

HashedMessage HashedMessageCache::get(const Bytes32& root) {
  if (per_shard_ == 0) return hash_to_g2(root);
  // Signing roots are SHA-256 outputs: any byte picks a shard evenly.
  Shard& shard = shards_[root[0] % kShards];
  {
    std::lock_guard lock(shard.mutex);
    if (auto it = shard.entries.find(root); it != shard.entries.end()) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  HashedMessage hashed = hash_to_g2(root);
  std::lock_guard lock(shard.mutex);
  if (shard.entries.emplace(root, hashed).second) {
    shard.order.push_back(root);
    if (shard.order.size() > per_shard_) {
      shard.entries.erase(shard.order.front());
      shard.order.pop_front();
    }
  }
  return hashed;
}

}  // namespace cachet::crypto

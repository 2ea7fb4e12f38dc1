// A bounded, thread-safe cache of hash_to_G2(signing root). Many validators sign the same root (RANDAO per
// epoch, selection proofs per slot, sync committee messages per block root, attestations since EIP-7549), and
// hash-to-curve is about half of a signature's cost; with the hash cached, only the scalar multiplication is
// done per key. It holds public data only.
#pragma once

#include <array>
#include <atomic>
#include <cachet/crypto/bls.hpp>
#include <cstddef>
#include <deque>
#include <mutex>
#include <unordered_map>

namespace cachet::crypto {

class HashedMessageCache {
 public:
  /// `capacity` roots in all (0 disables the cache: every call hashes).
  explicit HashedMessageCache(std::size_t capacity = 4096);

  /// hash_to_g2(root), from the cache when another request hashed the same root recently. No lock is held while
  /// hashing, so two requests may hash the same new root at once; both get the same point.
  HashedMessage get(const Bytes32& root);

  std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    std::mutex mutex;
    std::unordered_map<Bytes32, HashedMessage, BytesHash> entries;
    std::deque<Bytes32> order;  // insertion order: the oldest root is evicted first
  };
  std::size_t per_shard_;
  std::array<Shard, kShards> shards_;
  std::atomic<std::uint64_t> hits_{0}, misses_{0};
};

}  // namespace cachet::crypto

// SSZ merkleization (consensus-specs ssz/simple-serialize.md, "Merkleization"): just what the signed containers
// need. Hashing is SHA-256 from OpenSSL; nothing here allocates.
#pragma once

#include <array>
#include <cachet/util/bytes.hpp>
#include <cstddef>
#include <cstdint>
#include <span>

namespace cachet::eth::ssz {

using Root = Bytes32;

/// SHA-256(a || b): the node hash of the merkle tree.
Root hash_pair(const Root& a, const Root& b);

/// zero_hash(0) is the zero chunk, zero_hash(i + 1) = hash_pair(zero_hash(i), zero_hash(i)). i <= 64.
const Root& zero_hash(std::size_t depth);

/// ceil(log2(n)) for n >= 1 (0 for n <= 1): the depth of a tree with room for n chunks.
unsigned ceil_log2(std::uint64_t n);

/// merkleize(chunks, limit) computed progressively: chunks are added one by one and only one partial root per level
/// is kept, so lists of any length hash without a buffer. The caller guarantees at most `limit_chunks` chunks
/// (decoders validate lengths first); the tree is padded with zero hashes up to next_pow_of_two(limit_chunks).
class Merkleizer {
 public:
  explicit Merkleizer(std::uint64_t limit_chunks) : depth_(ceil_log2(limit_chunks)) {}

  void add(const Root& chunk);
  /// Packs bytes into 32-byte chunks (basic-type packing, "pack" / "pack_bits" in the SSZ spec); may be called
  /// repeatedly, a partial chunk is kept until it is full or finish() zero-pads it.
  void add_bytes(std::span<const std::uint8_t> bytes);
  Root finish();

 private:
  void flush_pending();

  unsigned depth_;
  std::uint64_t count_ = 0;
  std::array<Root, 65> partial_{};  // partial_[level]: root of the complete left subtree waiting at `level`
  Root pending_{};                  // add_bytes() chunk being filled
  std::size_t pending_len_ = 0;
};

/// mix_in_length(root, length): the root of a list or bitlist.
Root mix_in_length(const Root& root, std::uint64_t length);

/// hash_tree_root(uint64): little-endian in a zero-padded chunk.
Root uint64_root(std::uint64_t value);

/// hash_tree_root(ByteVector[N]) (Bytes4, Bytes20, Bytes32, BLSPubkey, BLSSignature, ...).
Root bytes_root(std::span<const std::uint8_t> bytes);
template <std::size_t N>
Root bytes_root(const std::array<std::uint8_t, N>& bytes) {
  if constexpr (N == 32) {
    return bytes;  // one chunk is its own root
  } else {
    return bytes_root(std::span<const std::uint8_t>(bytes));
  }
}

/// hash_tree_root(Bitvector[bits]) of its serialized bytes (no bits set beyond `bits`: the decoder checks).
Root bitvector_root(std::span<const std::uint8_t> bytes, std::uint64_t bits);

/// hash_tree_root(Bitlist[limit]) of its serialized bytes, which end with the delimiter bit: the decoder has checked
/// that the last byte is non-zero and that the length fits the limit.
Root bitlist_root(std::span<const std::uint8_t> bytes, std::uint64_t limit);

/// The bit length of a serialized bitlist (bits before the delimiter). `bytes` must be non-empty and end non-zero.
std::uint64_t bitlist_length(std::span<const std::uint8_t> bytes);

/// hash_tree_root(List[uint64, limit]).
Root uint64_list_root(std::span<const std::uint64_t> values, std::uint64_t limit);

/// hash_tree_root of a container from its field roots, in field order.
template <class... Fields>
Root container_root(const Fields&... field_roots) {
  Merkleizer m(sizeof...(Fields));
  (m.add(field_roots), ...);
  return m.finish();
}

}  // namespace cachet::eth::ssz

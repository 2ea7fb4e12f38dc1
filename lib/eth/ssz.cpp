#include "ssz.hpp"

#include <openssl/evp.h>

#include <bit>
#include <cstring>
#include <memory>
#include <new>

namespace cachet::eth::ssz {
namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
struct MdFree {
  void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};

// SHA-256 is fetched once and every thread keeps one digest context: EVP_Q_digest/SHA256() would fetch the
// algorithm and allocate a context per call, which is most of the cost of hashing 64 bytes.
const EVP_MD* sha256() {
  static const std::unique_ptr<EVP_MD, MdFree> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (!md) throw std::bad_alloc();  // only when OpenSSL cannot provide SHA-256 at all
  return md.get();
}

EVP_MD_CTX* thread_ctx() {
  thread_local const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx) throw std::bad_alloc();
  return ctx.get();
}

std::array<Root, 65> make_zero_hashes() {
  std::array<Root, 65> z{};
  for (std::size_t i = 1; i < z.size(); ++i) z[i] = hash_pair(z[i - 1], z[i - 1]);
  return z;
}

}  // namespace

Root hash_pair(const Root& a, const Root& b) {
  EVP_MD_CTX* ctx = thread_ctx();
  Root out;
  unsigned len = 0;
  if (EVP_DigestInit_ex2(ctx, sha256(), nullptr) != 1 || EVP_DigestUpdate(ctx, a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx, b.data(), b.size()) != 1 || EVP_DigestFinal_ex(ctx, out.data(), &len) != 1)
    throw std::bad_alloc();  // OpenSSL only fails here on allocation failure
  return out;
}

const Root& zero_hash(std::size_t depth) {
  static const std::array<Root, 65> zero_hashes = make_zero_hashes();
  return zero_hashes[depth];
}

unsigned ceil_log2(std::uint64_t n) { return n <= 1 ? 0 : static_cast<unsigned>(std::bit_width(n - 1)); }

void Merkleizer::add(const Root& chunk) {
  // Binary-counter merge: a chunk completes the subtrees of every trailing 1-bit of the count.
  Root node = chunk;
  unsigned level = 0;
  while ((count_ >> level) & 1) {
    node = hash_pair(partial_[level], node);
    ++level;
  }
  partial_[level] = node;
  ++count_;
}

void Merkleizer::add_bytes(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const std::size_t n = std::min(bytes.size(), pending_.size() - pending_len_);
    std::memcpy(pending_.data() + pending_len_, bytes.data(), n);
    pending_len_ += n;
    bytes = bytes.subspan(n);
    if (pending_len_ == pending_.size()) flush_pending();
  }
}

void Merkleizer::flush_pending() {
  if (pending_len_ == 0) return;
  std::memset(pending_.data() + pending_len_, 0, pending_.size() - pending_len_);
  add(pending_);
  pending_len_ = 0;
}

Root Merkleizer::finish() {
  flush_pending();
  if (count_ == 0) return zero_hash(depth_);
  // Walk up from the leaves: at each level the right-most, incomplete part of the tree (`node`) is either the right
  // child of a waiting partial subtree (count bit set) or the left child of an all-zero subtree.
  Root node{};
  bool have_node = false;
  for (unsigned level = 0; level < depth_; ++level) {
    if ((count_ >> level) & 1) {
      node = hash_pair(partial_[level], have_node ? node : zero_hash(level));
      have_node = true;
    } else if (have_node) {
      node = hash_pair(node, zero_hash(level));
    }
  }
  return have_node ? node : partial_[depth_];  // count == 2**depth: the merges already reached the top
}

Root mix_in_length(const Root& root, std::uint64_t length) { return hash_pair(root, uint64_root(length)); }

Root uint64_root(std::uint64_t value) {
  Root r{};
  for (std::size_t i = 0; i < 8; ++i) r[i] = static_cast<std::uint8_t>(value >> (8 * i));
  return r;
}

Root bytes_root(std::span<const std::uint8_t> bytes) {
  Merkleizer m((bytes.size() + 31) / 32);
  m.add_bytes(bytes);
  return m.finish();
}

Root bitvector_root(std::span<const std::uint8_t> bytes, std::uint64_t bits) {
  Merkleizer m((bits + 255) / 256);
  m.add_bytes(bytes);
  return m.finish();
}

std::uint64_t bitlist_length(std::span<const std::uint8_t> bytes) {
  const unsigned last = bytes.back();
  return 8 * (bytes.size() - 1) + static_cast<unsigned>(std::bit_width(last)) - 1;
}

Root bitlist_root(std::span<const std::uint8_t> bytes, std::uint64_t limit) {
  // The delimiter is not part of the value: pack the `length` bits before it (SSZ "Bitlist[N]" merkleization:
  // mix_in_length(merkleize(pack_bits(value), limit=chunk_count(type)), len(value))).
  const std::uint64_t length = bitlist_length(bytes);
  Merkleizer m((limit + 255) / 256);
  m.add_bytes(bytes.first(bytes.size() - 1));
  const std::uint8_t last = bytes.back() & static_cast<std::uint8_t>(~(1u << (length % 8)));
  if (length % 8 != 0) m.add_bytes(std::span(&last, 1));  // else the delimiter had a byte of its own
  return mix_in_length(m.finish(), length);
}

Root uint64_list_root(std::span<const std::uint64_t> values, std::uint64_t limit) {
  Merkleizer m((limit * 8 + 31) / 32);
  for (std::uint64_t v : values) {
    const Root le = uint64_root(v);
    m.add_bytes(std::span(le).first(8));
  }
  return mix_in_length(m.finish(), values.size());
}

}  // namespace cachet::eth::ssz

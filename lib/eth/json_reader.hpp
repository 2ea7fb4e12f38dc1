// Reading typed fields out of a sign request without throwing: every accessor validates (uint64 decimal strings,
// exact-length hex, bitlists/bitvectors against their limits) and the first failure is kept as a RequestError that
// names the field's path ("beacon_block.block_header.slot: expected a decimal string").
#pragma once

#include <boost/json/value.hpp>
#include <cachet/eth/signing_request.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "containers.hpp"

namespace cachet::eth {

/// A position in the request: the JSON value there (nullptr when absent) and how it was reached. Children link to
/// their parent by address, so only take children of named nodes (chaining on a temporary does not compile).
class Node {
 public:
  explicit Node(const boost::json::value& root) : value_(&root) {}

  /// The member `key` (absent when this is not an object or has no such member). `key` must outlive the node.
  Node operator[](std::string_view key) const&;
  Node operator[](std::string_view key) const&& = delete;
  /// Element `index` of an array.
  Node at(std::size_t index) const&;
  Node at(std::size_t index) const&& = delete;

  const boost::json::value* value() const { return value_; }
  /// Present and not JSON null (optional fields may be sent as null).
  bool present() const { return value_ != nullptr && !value_->is_null(); }
  /// "a.b[2].c"; the top-level node is "request".
  std::string path() const;

 private:
  Node(const boost::json::value* value, const Node* parent, std::string_view key, std::size_t index)
      : value_(value), parent_(parent), key_(key), index_(index) {}
  void append_path(std::string& out) const;

  const boost::json::value* value_;
  const Node* parent_ = nullptr;
  std::string_view key_;
  std::size_t index_ = 0;  // for array elements (key_ empty)
};

/// Reads fields and remembers the first error. After a failure the accessors return zero values without looking, so a
/// container can be read field by field and checked once at the end.
class Decoder {
 public:
  bool ok() const { return !error_; }
  RequestError error() const { return error_.value_or(RequestError{}); }
  /// Records "<path>: <problem>" unless an error is already recorded.
  void fail(const Node& node, std::string_view problem);

  /// Requires a JSON object; false (and an error) otherwise.
  bool object(const Node& node);
  /// Requires a JSON array of at most `max_length` elements; nullptr (and an error) otherwise.
  const boost::json::array* array(const Node& node, std::uint64_t max_length);
  /// Requires a JSON string.
  std::string_view string(const Node& node);
  /// A uint64 as the API writes it: a decimal string (digits only, no sign, within uint64), or a plain non-negative
  /// JSON integer.
  std::uint64_t u64(const Node& node);
  /// Exactly N bytes of 0x-prefixed hex.
  template <std::size_t N>
  std::array<std::uint8_t, N> bytes(const Node& node) {
    std::array<std::uint8_t, N> out{};
    read_hex(node, out);
    return out;
  }
  /// An SSZ Bitlist[limit] in hex, delimiter bit included: non-empty, last byte non-zero, length <= limit.
  Bitlist bitlist(const Node& node, std::uint64_t limit);
  /// An SSZ Bitvector[bits] in hex: exactly ceil(bits / 8) bytes, no bit set at or beyond `bits`.
  Bitvector bitvector(const Node& node, std::uint64_t bits);

 private:
  struct HexShape;
  void read_hex(const Node& node, std::span<std::uint8_t> out);
  /// The hex digits of a 0x-prefixed string of that shape (prefix removed), or nullopt after recording an error.
  std::optional<std::string_view> hex_digits(const Node& node, const HexShape& shape);

  std::optional<RequestError> error_;
};

}  // namespace cachet::eth

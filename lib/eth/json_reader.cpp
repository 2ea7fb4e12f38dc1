#include "json_reader.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <charconv>

namespace cachet::eth {
namespace json = boost::json;
namespace {}  // namespace

Node Node::operator[](std::string_view key) const& {
  const json::object* obj = value_ ? value_->if_object() : nullptr;
  return Node(obj ? obj->if_contains(key) : nullptr, this, key, 0);
}

Node Node::at(std::size_t index) const& {
  const json::array* arr = value_ ? value_->if_array() : nullptr;
  return Node(arr && index < arr->size() ? &(*arr)[index] : nullptr, this, {}, index);
}

void Node::append_path(std::string& out) const {
  if (!parent_) return;  // the request itself
  parent_->append_path(out);
  if (key_.empty()) {
    out += '[' + std::to_string(index_) + ']';
  } else {
    if (!out.empty()) out += '.';
    out += key_;
  }
}

std::string Node::path() const {
  std::string out;
  append_path(out);
  return out.empty() ? "request" : out;
}

void Decoder::fail(const Node& node, std::string_view problem) {
  if (error_) return;
  std::string message = node.path();
  message += ": ";
  message += problem;
  error_ = RequestError{RequestError::Kind::Invalid, std::move(message)};
}

bool Decoder::object(const Node& node) {
  if (error_) return false;
  if (!node.present()) return fail(node, "missing"), false;
  if (!node.value()->is_object()) return fail(node, "expected an object"), false;
  return true;
}

const json::array* Decoder::array(const Node& node, std::uint64_t max_length) {
  if (error_) return nullptr;
  if (!node.present()) return fail(node, "missing"), nullptr;
  const json::array* arr = node.value()->if_array();
  if (!arr) return fail(node, "expected an array"), nullptr;
  if (arr->size() > max_length) {
    fail(node,
         "has " + std::to_string(arr->size()) + " elements, more than the limit of " + std::to_string(max_length));
    return nullptr;
  }
  return arr;
}

std::string_view Decoder::string(const Node& node) {
  if (error_) return {};
  if (!node.present()) return fail(node, "missing"), std::string_view{};
  const json::string* s = node.value()->if_string();
  if (!s) return fail(node, "expected a string"), std::string_view{};
  return *s;
}

std::uint64_t Decoder::u64(const Node& node) {
  if (error_) return 0;
  if (!node.present()) return fail(node, "missing"), 0;
  const json::value& v = *node.value();
  if (const auto* u = v.if_uint64()) return *u;
  if (const auto* i = v.if_int64()) {
    if (*i < 0) return fail(node, "expected a non-negative integer"), 0;
    return static_cast<std::uint64_t>(*i);
  }
  const json::string* s = v.if_string();
  if (!s) return fail(node, "expected a decimal string"), 0;
  if (s->empty()) return fail(node, "expected a decimal string, got an empty string"), 0;
  // Digits only: from_chars alone would accept nothing else either, but say so explicitly (no sign, no spaces).
  if (!std::all_of(s->begin(), s->end(), [](char c) { return c >= '0' && c <= '9'; }))
    return fail(node, "expected a decimal string of digits only"), 0;
  std::uint64_t out = 0;
  const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
  if (ec == std::errc::result_out_of_range) return fail(node, "value does not fit in uint64"), 0;
  if (ec != std::errc() || end != s->data() + s->size()) return fail(node, "expected a decimal string"), 0;
  return out;
}

// What a hex field must look like; spelled out only in an error, so that reading a valid field allocates nothing.
struct Decoder::HexShape {
  std::size_t bytes = 0;             // exact length, unless a bitlist
  std::uint64_t bitvector_bits = 0;  // non-zero for a Bitvector
  bool bitlist = false;

  std::string describe() const {
    if (bitlist) return "a bitlist as 0x-prefixed hex";
    std::string out = std::to_string(bytes) + " bytes of 0x-prefixed hex";
    if (bitvector_bits != 0) out += " (Bitvector[" + std::to_string(bitvector_bits) + "])";
    return out;
  }
};

std::optional<std::string_view> Decoder::hex_digits(const Node& node, const HexShape& shape) {
  if (error_) return std::nullopt;
  if (!node.present()) return fail(node, "missing"), std::nullopt;
  const json::string* s = node.value()->if_string();
  if (!s || !(s->starts_with("0x") || s->starts_with("0X")) || s->size() % 2 != 0) {
    fail(node, "expected " + shape.describe());
    return std::nullopt;
  }
  const std::string_view digits = std::string_view(*s).substr(2);
  if (!shape.bitlist && digits.size() != 2 * shape.bytes) {
    fail(node, "expected " + shape.describe() + ", got " + std::to_string(digits.size() / 2) + " bytes");
    return std::nullopt;
  }
  return digits;
}

void Decoder::read_hex(const Node& node, std::span<std::uint8_t> out) {
  const auto digits = hex_digits(node, {.bytes = out.size()});
  if (digits && !decode_hex(*digits, out)) fail(node, "invalid hex character");
}

Bitlist Decoder::bitlist(const Node& node, std::uint64_t limit) {
  const auto digits = hex_digits(node, {.bitlist = true});
  if (!digits) return {};
  const std::size_t size = digits->size() / 2;
  // At most limit bits plus the delimiter: checked before decoding so that a huge string is not copied.
  if (size == 0) return fail(node, "empty bitlist: the delimiter bit is missing"), Bitlist{};
  if (size > limit / 8 + 1) {
    fail(node, "bitlist of " + std::to_string(size) + " bytes is longer than Bitlist[" + std::to_string(limit) + "]");
    return {};
  }
  Bitlist bits(size);
  if (!decode_hex(*digits, bits)) return fail(node, "invalid hex character"), Bitlist{};
  if (bits.back() == 0) return fail(node, "bitlist's last byte is zero: the delimiter bit is missing"), Bitlist{};
  if (const std::uint64_t length = ssz::bitlist_length(bits); length > limit) {
    fail(node, "bitlist of " + std::to_string(length) + " bits is longer than Bitlist[" + std::to_string(limit) + "]");
    return {};
  }
  return bits;
}

Bitvector Decoder::bitvector(const Node& node, std::uint64_t bits) {
  Bitvector out;
  out.bits = bits;
  const std::size_t size = (bits + 7) / 8;
  if (size > Bitvector::kMaxBytes) return fail(node, "Bitvector[" + std::to_string(bits) + "] is not supported"), out;
  const auto digits = hex_digits(node, {.bytes = size, .bitvector_bits = bits});
  if (!digits) return out;
  if (!decode_hex(*digits, std::span(out.bytes).first(size))) return fail(node, "invalid hex character"), out;
  // Bits past the length in the last byte must be zero (SSZ "Bitvector[N]" deserialization).
  if (bits % 8 != 0 && (out.bytes[size - 1] >> (bits % 8)) != 0)
    fail(node, "bit set beyond the length of Bitvector[" + std::to_string(bits) + "]");
  return out;
}

}  // namespace cachet::eth

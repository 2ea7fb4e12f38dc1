#include "tools/interchange_runner/test_file.hpp"

#include <boost/json.hpp>
#include <charconv>

namespace cachet::interchange_test {
namespace {

namespace json = boost::json;

// A field that is missing or malformed, named by its path ("steps[1].blocks[0].slot: ...").
struct FieldError {
  std::string message;
};

// Field access with the path of the field in every error.
class Object {
 public:
  Object(const json::object& object, std::string path) : object_(object), path_(std::move(path)) {}

  [[noreturn]] void fail(std::string_view key, std::string_view what) const {
    throw FieldError{path_ + (path_.empty() ? "" : ".") + std::string(key) + ": " + std::string(what)};
  }

  const json::value& get(std::string_view key) const {
    const auto* value = object_.if_contains(key);
    if (!value) fail(key, "missing");
    return *value;
  }

  bool boolean(std::string_view key) const {
    const auto& v = get(key);
    if (!v.is_bool()) fail(key, "expected true or false");
    return v.get_bool();
  }

  std::string string(std::string_view key) const {
    const auto& v = get(key);
    if (!v.is_string()) fail(key, "expected a string");
    return std::string(v.get_string());
  }

  std::uint64_t u64(std::string_view key) const {
    const auto& v = get(key);
    if (v.is_uint64()) return v.get_uint64();
    if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
    if (v.is_string()) {
      std::string_view s = v.get_string();
      std::uint64_t out = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      if (!s.empty() && ec == std::errc{} && end == s.data() + s.size()) return out;
    }
    fail(key, "expected a decimal u64");
  }

  template <std::size_t N>
  std::array<std::uint8_t, N> hex(std::string_view key) const {
    const auto& v = get(key);
    if (!v.is_string() || !v.get_string().starts_with("0x")) fail(key, "expected 0x-prefixed hex");
    auto bytes = from_hex_fixed<N>(v.get_string());
    if (!bytes) fail(key, bytes.error());
    return *bytes;
  }

  std::vector<Object> objects(std::string_view key) const {
    const auto& v = get(key);
    if (!v.is_array()) fail(key, "expected an array");
    std::vector<Object> out;
    for (const auto& item : v.get_array()) {
      std::string path = path_ + (path_.empty() ? "" : ".") + std::string(key) + "[" + std::to_string(out.size()) + "]";
      if (!item.is_object()) throw FieldError{path + ": expected an object"};
      out.emplace_back(item.get_object(), std::move(path));
    }
    return out;
  }

 private:
  const json::object& object_;
  std::string path_;
};

// The fields shared by block and attestation checks.
template <typename Check>
Check read_check(const Object& o) {
  Check check;
  check.pubkey = o.hex<48>("pubkey");
  check.signing_root = o.hex<32>("signing_root");
  check.should_succeed = o.boolean("should_succeed");
  check.should_succeed_complete = o.boolean("should_succeed_complete");
  if (check.should_succeed && !check.should_succeed_complete)
    o.fail("should_succeed",
           "true while should_succeed_complete is false (a complete history refuses nothing the minimal strategy "
           "signs)");
  return check;
}

Step read_step(const Object& o) {
  Step step;
  step.should_succeed = o.boolean("should_succeed");
  step.contains_slashable_data = o.boolean("contains_slashable_data");
  step.interchange_json = json::serialize(o.get("interchange"));
  for (const auto& b : o.objects("blocks")) {
    auto check = read_check<BlockCheck>(b);
    check.slot = b.u64("slot");
    step.blocks.push_back(check);
  }
  for (const auto& a : o.objects("attestations")) {
    auto check = read_check<AttestationCheck>(a);
    check.source_epoch = a.u64("source_epoch");
    check.target_epoch = a.u64("target_epoch");
    step.attestations.push_back(check);
  }
  return step;
}

}  // namespace

std::expected<TestFile, std::string> parse_test_file(std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) return std::unexpected("not valid JSON: " + ec.message());
  if (!doc.is_object()) return std::unexpected("expected a JSON object");
  try {
    Object root(doc.get_object(), "");
    TestFile file;
    file.name = root.string("name");
    file.genesis_validators_root = root.hex<32>("genesis_validators_root");
    for (const auto& s : root.objects("steps")) file.steps.push_back(read_step(s));
    return file;
  } catch (const FieldError& e) {
    return std::unexpected(e.message);
  }
}

}  // namespace cachet::interchange_test

#include "tools/interchange_runner/test_file.hpp"

#include <boost/json.hpp>
#include <charconv>

namespace cachet::interchange_test {
namespace {

namespace json = boost::json;
using Error = std::unexpected<std::string>;

// Field access with the path of the field in every error.
class Object {
 public:
  Object(const json::object& object, std::string path) : object_(object), path_(std::move(path)) {}

  std::string where(std::string_view key) const { return path_ + (path_.empty() ? "" : ".") + std::string(key); }

  std::expected<const json::value*, std::string> get(std::string_view key) const {
    const auto* value = object_.if_contains(key);
    if (!value) return Error(where(key) + ": missing");
    return value;
  }

  std::expected<bool, std::string> boolean(std::string_view key) const {
    auto value = get(key);
    if (!value) return Error(value.error());
    if (!(*value)->is_bool()) return Error(where(key) + ": expected true or false");
    return (*value)->get_bool();
  }

  std::expected<std::uint64_t, std::string> u64(std::string_view key) const {
    auto value = get(key);
    if (!value) return Error(value.error());
    const json::value& v = **value;
    if (v.is_uint64()) return v.get_uint64();
    if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
    if (v.is_string()) {
      std::string_view s = v.get_string();
      std::uint64_t out = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      if (!s.empty() && ec == std::errc{} && end == s.data() + s.size()) return out;
    }
    return Error(where(key) + ": expected a decimal u64");
  }

  template <std::size_t N>
  std::expected<std::array<std::uint8_t, N>, std::string> hex(std::string_view key) const {
    auto value = get(key);
    if (!value) return Error(value.error());
    if (!(*value)->is_string() || !(*value)->get_string().starts_with("0x"))
      return Error(where(key) + ": expected 0x-prefixed hex");
    auto bytes = from_hex_fixed<N>((*value)->get_string());
    if (!bytes) return Error(where(key) + ": " + bytes.error());
    return *bytes;
  }

  std::expected<std::vector<Object>, std::string> objects(std::string_view key) const {
    auto value = get(key);
    if (!value) return Error(value.error());
    if (!(*value)->is_array()) return Error(where(key) + ": expected an array");
    std::vector<Object> out;
    std::size_t i = 0;
    for (const auto& item : (*value)->get_array()) {
      std::string path = where(key) + "[" + std::to_string(i++) + "]";
      if (!item.is_object()) return Error(path + ": expected an object");
      out.emplace_back(item.get_object(), std::move(path));
    }
    return out;
  }

 private:
  const json::object& object_;
  std::string path_;
};

// Reads the fields shared by block and attestation checks.
template <typename Check>
std::expected<void, std::string> read_common(const Object& o, Check& check) {
  auto pubkey = o.hex<48>("pubkey");
  if (!pubkey) return Error(pubkey.error());
  auto root = o.hex<32>("signing_root");
  if (!root) return Error(root.error());
  auto minimal = o.boolean("should_succeed");
  if (!minimal) return Error(minimal.error());
  auto complete = o.boolean("should_succeed_complete");
  if (!complete) return Error(complete.error());
  if (*minimal && !*complete)
    return Error(o.where("should_succeed") +
                 ": true while should_succeed_complete is false (a complete history "
                 "refuses nothing the minimal strategy signs)");
  check.pubkey = *pubkey;
  check.signing_root = *root;
  check.should_succeed = *minimal;
  check.should_succeed_complete = *complete;
  return {};
}

std::expected<Step, std::string> read_step(const Object& o) {
  Step step;
  auto should_succeed = o.boolean("should_succeed");
  if (!should_succeed) return Error(should_succeed.error());
  auto slashable = o.boolean("contains_slashable_data");
  if (!slashable) return Error(slashable.error());
  auto interchange = o.get("interchange");
  if (!interchange) return Error(interchange.error());
  step.should_succeed = *should_succeed;
  step.contains_slashable_data = *slashable;
  step.interchange_json = json::serialize(**interchange);

  auto blocks = o.objects("blocks");
  if (!blocks) return Error(blocks.error());
  for (const auto& b : *blocks) {
    BlockCheck check;
    if (auto ok = read_common(b, check); !ok) return Error(ok.error());
    auto slot = b.u64("slot");
    if (!slot) return Error(slot.error());
    check.slot = *slot;
    step.blocks.push_back(check);
  }
  auto attestations = o.objects("attestations");
  if (!attestations) return Error(attestations.error());
  for (const auto& a : *attestations) {
    AttestationCheck check;
    if (auto ok = read_common(a, check); !ok) return Error(ok.error());
    auto source = a.u64("source_epoch");
    if (!source) return Error(source.error());
    auto target = a.u64("target_epoch");
    if (!target) return Error(target.error());
    check.source_epoch = *source;
    check.target_epoch = *target;
    step.attestations.push_back(check);
  }
  return step;
}

}  // namespace

std::expected<TestFile, std::string> parse_test_file(std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) return Error("not valid JSON: " + ec.message());
  if (!doc.is_object()) return Error("expected a JSON object");
  Object root(doc.get_object(), "");

  TestFile file;
  auto name = root.get("name");
  if (!name) return Error(name.error());
  if (!(*name)->is_string()) return Error("name: expected a string");
  file.name = std::string((*name)->get_string());
  auto gvr = root.hex<32>("genesis_validators_root");
  if (!gvr) return Error(gvr.error());
  file.genesis_validators_root = *gvr;
  auto steps = root.objects("steps");
  if (!steps) return Error(steps.error());
  for (const auto& s : *steps) {
    auto step = read_step(s);
    if (!step) return Error(step.error());
    file.steps.push_back(std::move(*step));
  }
  return file;
}

}  // namespace cachet::interchange_test

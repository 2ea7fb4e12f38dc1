#include <boost/json.hpp>
#include <cachet/slashing/interchange.hpp>
#include <charconv>

namespace cachet::slashing {
namespace {

namespace json = boost::json;
using Error = std::unexpected<std::string>;

std::expected<std::uint64_t, std::string> read_u64(const json::object& o, std::string_view key,
                                                   const std::string& where) {
  const auto* v = o.if_contains(key);
  if (!v) return Error(where + "." + std::string(key) + ": missing");
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  if (v->is_string()) {
    std::string_view s = v->get_string();
    std::uint64_t out = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (!s.empty() && ec == std::errc{} && end == s.data() + s.size()) return out;
  }
  return Error(where + "." + std::string(key) + ": expected a decimal uint64 string");
}

template <std::size_t N>
std::expected<std::optional<std::array<std::uint8_t, N>>, std::string> read_hex(const json::object& o,
                                                                                std::string_view key,
                                                                                const std::string& where,
                                                                                bool required) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) {
    if (required) return Error(where + "." + std::string(key) + ": missing");
    return std::optional<std::array<std::uint8_t, N>>{};
  }
  if (!v->is_string()) return Error(where + "." + std::string(key) + ": expected a hex string");
  std::string_view s = v->get_string();
  if (!s.starts_with("0x")) return Error(where + "." + std::string(key) + ": expected 0x-prefixed hex");
  auto bytes = from_hex_fixed<N>(s);
  if (!bytes) return Error(where + "." + std::string(key) + ": " + bytes.error());
  return std::optional(*bytes);
}

}  // namespace

std::expected<Interchange, std::string> parse_interchange(std::string_view text) {
  json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  auto doc = json::parse(text, ec, {}, options);
  if (ec) return Error("interchange is not valid JSON: " + ec.message());
  if (!doc.is_object()) return Error("interchange: expected a JSON object");
  const auto& root = doc.get_object();

  const auto* metadata = root.if_contains("metadata");
  if (!metadata || !metadata->is_object()) return Error("metadata: missing");
  const auto& meta = metadata->get_object();
  const auto* version = meta.if_contains("interchange_format_version");
  if (!version) return Error("metadata.interchange_format_version: missing");
  const bool v5 = (version->is_string() && version->get_string() == "5") ||
                  (version->is_int64() && version->get_int64() == 5) ||
                  (version->is_uint64() && version->get_uint64() == 5);
  if (!v5) return Error("metadata.interchange_format_version: only version 5 is supported");
  Interchange out;
  auto gvr = read_hex<32>(meta, "genesis_validators_root", "metadata", true);
  if (!gvr) return Error(gvr.error());
  out.genesis_validators_root = **gvr;

  const auto* data = root.if_contains("data");
  if (!data || !data->is_array()) return Error("data: expected an array");
  std::size_t i = 0;
  for (const auto& entry : data->get_array()) {
    const std::string where = "data[" + std::to_string(i++) + "]";
    if (!entry.is_object()) return Error(where + ": expected an object");
    const auto& e = entry.get_object();
    ValidatorHistory history;
    auto pubkey = read_hex<48>(e, "pubkey", where, true);
    if (!pubkey) return Error(pubkey.error());
    history.pubkey = **pubkey;

    if (const auto* blocks = e.if_contains("signed_blocks")) {
      if (!blocks->is_array()) return Error(where + ".signed_blocks: expected an array");
      std::size_t j = 0;
      for (const auto& b : blocks->get_array()) {
        const std::string at = where + ".signed_blocks[" + std::to_string(j++) + "]";
        if (!b.is_object()) return Error(at + ": expected an object");
        auto slot = read_u64(b.get_object(), "slot", at);
        if (!slot) return Error(slot.error());
        auto root_hex = read_hex<32>(b.get_object(), "signing_root", at, false);
        if (!root_hex) return Error(root_hex.error());
        history.signed_blocks.push_back({*slot, *root_hex});
      }
    }
    if (const auto* atts = e.if_contains("signed_attestations")) {
      if (!atts->is_array()) return Error(where + ".signed_attestations: expected an array");
      std::size_t j = 0;
      for (const auto& a : atts->get_array()) {
        const std::string at = where + ".signed_attestations[" + std::to_string(j++) + "]";
        if (!a.is_object()) return Error(at + ": expected an object");
        auto source = read_u64(a.get_object(), "source_epoch", at);
        if (!source) return Error(source.error());
        auto target = read_u64(a.get_object(), "target_epoch", at);
        if (!target) return Error(target.error());
        auto root_hex = read_hex<32>(a.get_object(), "signing_root", at, false);
        if (!root_hex) return Error(root_hex.error());
        history.signed_attestations.push_back({*source, *target, *root_hex});
      }
    }
    out.data.push_back(std::move(history));
  }
  return out;
}

std::string serialize_interchange(const Interchange& interchange) {
  json::object metadata{{"interchange_format_version", "5"},
                        {"genesis_validators_root", to_hex(interchange.genesis_validators_root)}};
  json::array data;
  for (const auto& v : interchange.data) {
    json::array blocks;
    for (const auto& b : v.signed_blocks) {
      json::object o{{"slot", std::to_string(b.slot)}};
      if (b.signing_root) o["signing_root"] = to_hex(*b.signing_root);
      blocks.push_back(std::move(o));
    }
    json::array atts;
    for (const auto& a : v.signed_attestations) {
      json::object o{{"source_epoch", std::to_string(a.source_epoch)},
                     {"target_epoch", std::to_string(a.target_epoch)}};
      if (a.signing_root) o["signing_root"] = to_hex(*a.signing_root);
      atts.push_back(std::move(o));
    }
    data.push_back(json::object{
        {"pubkey", to_hex(v.pubkey)}, {"signed_blocks", std::move(blocks)}, {"signed_attestations", std::move(atts)}});
  }
  return json::serialize(json::object{{"metadata", std::move(metadata)}, {"data", std::move(data)}});
}

}  // namespace cachet::slashing

// libFuzzer target: keymanager API request bodies (POST and DELETE /eth/v1/keystores).
//
// This mirrors the parsing in server/keymanager_handler.cpp (parse_body, string_array, import_keys, delete_keys),
// whose functions are file-local: it is a copy of that path over the same public pieces, so keep it in step with the
// handler. Body → boost::json::parse with max_depth 8 → a JSON object →
//   POST:   "keystores" and "passwords" arrays of strings of equal length, an optional "slashing_protection" JSON
//           string → slashing::parse_interchange, then each keystore → crypto::decrypt_keystore with its password
//           (tiny KDF caps, so no input is slow; at most 4 keystores a run);
//   DELETE: "pubkeys" array of strings → each "0x"-prefixed from_hex_fixed<48>; the answer's history is an
//           interchange over those keys, serialized and parsed back.
// Both shapes are tried on every input (the handler picks one by the HTTP method).
#include <boost/json.hpp>
#include <cachet/crypto/keystore.hpp>
#include <cachet/slashing/interchange.hpp>
#include <cachet/util/bytes.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace json = boost::json;
using namespace cachet;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

// As the handler's parse_body.
std::optional<json::object> parse_body(std::string_view body) {
  json::parse_options options;
  options.max_depth = 8;
  boost::system::error_code ec;
  auto value = json::parse(body, ec, {}, options);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.get_object());
}

// As the handler's string_array.
std::expected<std::vector<std::string>, std::string> string_array(const json::object& body, std::string_view key) {
  const auto* v = body.if_contains(key);
  if (!v) return std::unexpected(std::string(key) + ": missing");
  if (!v->is_array()) return std::unexpected(std::string(key) + ": expected an array of strings");
  std::vector<std::string> out;
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) return std::unexpected(std::string(key) + ": expected an array of strings");
    out.emplace_back(item.get_string());
  }
  return out;
}

void import_shape(const json::object& body) {
  auto keystores = string_array(body, "keystores");
  if (!keystores) return;
  auto passwords = string_array(body, "passwords");
  if (!passwords || keystores->size() != passwords->size()) return;
  if (const auto* sp = body.if_contains("slashing_protection"); sp && !sp->is_null()) {
    if (!sp->is_string()) return;
    auto parsed = slashing::parse_interchange(sp->get_string());
    if (!parsed) return;
    auto again = slashing::parse_interchange(slashing::serialize_interchange(*parsed));
    check(again.has_value(), "an imported interchange serializes to one that parses");
  }
  crypto::KeystoreLimits limits;
  limits.max_scrypt_n = 1 << 10;
  limits.max_scrypt_memory_bytes = 2 << 20;
  limits.max_pbkdf2_c = 1 << 10;
  limits.max_scrypt_p = 2;
  for (std::size_t i = 0; i < keystores->size() && i < 4; ++i) {
    auto decrypted = crypto::decrypt_keystore((*keystores)[i], (*passwords)[i], limits);
    if (decrypted)
      check(decrypted->secret.public_key() == decrypted->pubkey, "the pubkey is the secret's");
    else
      check(!decrypted.error().empty(), "an import error has a message");
  }
}

void delete_shape(const json::object& body) {
  auto pubkeys = string_array(body, "pubkeys");
  if (!pubkeys) return;
  slashing::Interchange history;
  for (const auto& p : *pubkeys) {
    auto pk = from_hex_fixed<48>(p);
    if (!pk || !p.starts_with("0x")) return;  // the handler answers 400 naming the key
    check(
        to_hex(*pk) ==
            [&] {
              std::string lower = p;
              for (auto& c : lower) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
              return lower;
            }(),
        "a parsed pubkey writes back as its lower-case hex");
    history.data.push_back({*pk, {}, {}});
  }
  auto again = slashing::parse_interchange(slashing::serialize_interchange(history));
  check(again.has_value() && again->data.size() == history.data.size(), "the DELETE answer's history parses back");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto body = parse_body(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!body) return 0;
  import_shape(*body);
  delete_shape(*body);
  return 0;
}

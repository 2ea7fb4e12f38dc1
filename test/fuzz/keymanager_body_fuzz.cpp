// libFuzzer target: keymanager API request bodies (POST and DELETE /eth/v1/keystores), through the very functions
// the handler calls (server/keymanager_request.cpp):
//   parse_keymanager_body (JSON, max_depth 8, an object), then
//   POST:   parse_import_request ("keystores" and "passwords" arrays of strings of equal length, an optional
//           "slashing_protection" JSON string → slashing::parse_interchange); an accepted interchange must
//           serialize to one that parses, and each keystore goes → crypto::decrypt_keystore with its password as
//           the key service would (tiny KDF caps, so no input is slow; at most 4 keystores a run);
//   DELETE: parse_delete_request ("pubkeys" → 0x-prefixed 48-byte keys); each accepted key must be its input in
//           lower case, and the answer's history over those keys must serialize and parse back.
// Both shapes are tried on every input (the handler picks one by the HTTP method).
#include <boost/json.hpp>
#include <cachet/crypto/keystore.hpp>
#include <cachet/slashing/interchange.hpp>
#include <cachet/util/bytes.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/keymanager_request.hpp"

namespace {

namespace json = boost::json;
using namespace cachet;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

void import_shape(const json::object& body) {
  auto request = server::parse_import_request(body);
  if (!request) {
    check(!request.error().empty(), "a refused import has a message");
    return;
  }
  check(request->keystores.size() == request->passwords.size(), "as many passwords as keystores");
  if (request->slashing_protection) {
    auto again = slashing::parse_interchange(slashing::serialize_interchange(*request->slashing_protection));
    check(again.has_value(), "an imported interchange serializes to one that parses");
  }
  crypto::KeystoreLimits limits;
  limits.max_scrypt_n = 1 << 10;
  limits.max_scrypt_memory_bytes = 2 << 20;
  limits.max_pbkdf2_c = 1 << 10;
  limits.max_scrypt_p = 2;
  for (std::size_t i = 0; i < request->keystores.size() && i < 4; ++i) {
    auto decrypted = crypto::decrypt_keystore(request->keystores[i], request->passwords[i], limits);
    if (decrypted)
      check(decrypted->secret.public_key() == decrypted->pubkey, "the pubkey is the secret's");
    else
      check(!decrypted.error().empty(), "an import error has a message");
  }
}

void delete_shape(const json::object& body) {
  auto pubkeys = server::parse_delete_request(body);
  if (!pubkeys) {
    check(!pubkeys.error().empty(), "a refused delete has a message");
    return;
  }
  const auto* given = body.if_contains("pubkeys");
  check(given && given->is_array() && given->get_array().size() == pubkeys->size(), "one key per string given");
  slashing::Interchange history;
  for (std::size_t i = 0; i < pubkeys->size(); ++i) {
    std::string lower(given->get_array()[i].get_string());
    for (auto& c : lower) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    check(to_hex((*pubkeys)[i]) == lower, "a parsed pubkey writes back as its lower-case hex");
    history.data.push_back({(*pubkeys)[i], {}, {}});
  }
  auto again = slashing::parse_interchange(slashing::serialize_interchange(history));
  check(again.has_value() && again->data.size() == history.data.size(), "the DELETE answer's history parses back");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto body = server::parse_keymanager_body(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!body) return 0;
  import_shape(*body);
  delete_shape(*body);
  server::wipe_passwords(*body);
  return 0;
}

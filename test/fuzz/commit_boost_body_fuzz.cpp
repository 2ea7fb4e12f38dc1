// libFuzzer target: Commit-Boost signer API request bodies (POST /signer/v1/request_signature and
// /signer/v1/generate_proxy_key), through the very functions the handler calls (lib/commit_boost/requests.cpp).
// Both parsers are tried on every input. Invariant: a body that parses, written back as the canonical JSON of what was
// read, parses again to the same request.
#include <boost/json.hpp>
#include <cachet/commit_boost/requests.hpp>
#include <cachet/util/bytes.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

namespace json = boost::json;
using namespace cachet;
using namespace cachet::commit_boost;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

void sign_request(std::string_view body) {
  auto parsed = parse_sign_request(body);
  if (!parsed) {
    check(!parsed.error().empty(), "a refusal has a message");
    return;
  }
  json::object again{{"object_root", to_hex(parsed->object_root)}};
  switch (parsed->kind) {
    case SignRequest::Kind::Consensus:
      again["type"] = "consensus";
      again["pubkey"] = to_hex(parsed->pubkey);
      break;
    case SignRequest::Kind::ProxyBls:
      again["type"] = "proxy_bls";
      again["proxy"] = to_hex(parsed->pubkey);
      break;
    case SignRequest::Kind::ProxyEcdsa:
      again["type"] = "proxy_ecdsa";
      again["proxy"] = to_hex(parsed->address);
      break;
  }
  auto reparsed = parse_sign_request(json::serialize(again));
  check(reparsed.has_value(), "the canonical form parses");
  check(reparsed->kind == parsed->kind && reparsed->pubkey == parsed->pubkey && reparsed->address == parsed->address &&
            reparsed->object_root == parsed->object_root,
        "the canonical form reads the same");
}

void generate_proxy(std::string_view body) {
  auto parsed = parse_generate_proxy_request(body);
  if (!parsed) {
    check(!parsed.error().empty(), "a refusal has a message");
    return;
  }
  json::object again{{"pubkey", to_hex(parsed->delegator)},
                     {"scheme", parsed->scheme == Scheme::Bls ? "bls" : "ecdsa"}};
  auto reparsed = parse_generate_proxy_request(json::serialize(again));
  check(reparsed && reparsed->delegator == parsed->delegator && reparsed->scheme == parsed->scheme,
        "the canonical form reads the same");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  sign_request(body);
  generate_proxy(body);
  return 0;
}

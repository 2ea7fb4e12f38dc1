// libFuzzer target: a sign request body as the signing API receives it → boost::json::parse with the server's depth
// limit (server/sign_handler.cpp, kMaxJsonDepth = 32) → eth::parse_signing_request for the mainnet and minimal
// presets. Any input must give a root or an error naming the field: never a crash, a leak, UB or an exception.
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <cachet/eth/network.hpp>
#include <cachet/eth/signing_request.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

const cachet::eth::NetworkConfig& network(std::string_view name) {
  auto loaded = cachet::eth::load_network(name);
  if (!loaded) {
    std::fprintf(stderr, "load_network(%.*s): %s\n", static_cast<int>(name.size()), name.data(),
                 loaded.error().c_str());
    std::abort();
  }
  return *new cachet::eth::NetworkConfig(std::move(*loaded));  // lives for the whole run
}

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

void parse_for(const boost::json::value& body, const cachet::eth::NetworkConfig& net) {
  using cachet::eth::SignType;
  auto parsed = cachet::eth::parse_signing_request(body, net);
  if (!parsed) {
    check(!parsed.error().message.empty(), "an error has a message");
    return;
  }
  const auto type = parsed->type;
  check(parsed->block.has_value() == (type == SignType::Block || type == SignType::BlockV2),
        "block facts exactly for BLOCK and BLOCK_V2");
  check(parsed->attestation.has_value() == (type == SignType::Attestation),
        "attestation facts exactly for ATTESTATION");
  if (parsed->attestation) {
    // Nothing more to assert on source <= target: slashing protection refuses that, the parser need not.
    (void)parsed->attestation->source_epoch;
  }
  check(!cachet::eth::to_string(type).empty(), "the type has a name");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto& mainnet = network("mainnet");
  static const auto& minimal = network("minimal");

  boost::json::parse_options options;
  options.max_depth = 32;  // as the server
  boost::system::error_code ec;
  const auto body = boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec, {}, options);
  if (ec) return 0;
  parse_for(body, mainnet);
  parse_for(body, minimal);
  return 0;
}

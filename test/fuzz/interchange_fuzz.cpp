// libFuzzer target: EIP-3076 interchange JSON → slashing::parse_interchange; whatever parses must serialize, parse
// again to an equal Interchange, and serialize to the same text (serialize ∘ parse is a fixed point).
#include <cachet/slashing/interchange.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace cachet::slashing;

[[noreturn]] void broken(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "invariant broken: %s\n%s\n", what, detail.c_str());
  std::abort();
}

bool equal(const Interchange& a, const Interchange& b) {
  if (a.genesis_validators_root != b.genesis_validators_root || a.data.size() != b.data.size()) return false;
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    const auto &x = a.data[i], &y = b.data[i];
    if (x.pubkey != y.pubkey || x.signed_blocks.size() != y.signed_blocks.size() ||
        x.signed_attestations.size() != y.signed_attestations.size())
      return false;
    for (std::size_t j = 0; j < x.signed_blocks.size(); ++j) {
      const auto &p = x.signed_blocks[j], &q = y.signed_blocks[j];
      if (p.slot != q.slot || p.signing_root != q.signing_root) return false;
    }
    for (std::size_t j = 0; j < x.signed_attestations.size(); ++j) {
      const auto &p = x.signed_attestations[j], &q = y.signed_attestations[j];
      if (p.source_epoch != q.source_epoch || p.target_epoch != q.target_epoch || p.signing_root != q.signing_root)
        return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = parse_interchange(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed) {
    if (parsed.error().empty()) broken("an error has a message");
    return 0;
  }
  const std::string text = serialize_interchange(*parsed);
  auto again = parse_interchange(text);
  if (!again) broken("the serialized interchange does not parse", again.error() + "\n" + text);
  if (!equal(*parsed, *again)) broken("parse(serialize(x)) != x", text);
  if (serialize_interchange(*again) != text) broken("serialize(parse(serialize(x))) != serialize(x)", text);
  return 0;
}

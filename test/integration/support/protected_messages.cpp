#include "support/protected_messages.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "support/requests.hpp"

namespace cachet::test {

ProtectedMessage ProtectedMessage::block(std::size_t key, std::uint64_t slot, std::uint64_t body_seed) {
  ProtectedMessage m{Kind::Block};
  m.key = key;
  m.slot = slot;
  m.body = block_request(slot, body_seed);
  m.signing_root = signing_root_of(m.body);
  return m;
}

ProtectedMessage ProtectedMessage::attestation(std::size_t key, std::uint64_t source, std::uint64_t target,
                                               std::uint64_t block_root_seed) {
  ProtectedMessage m{Kind::Attestation};
  m.key = key;
  m.source = source;
  m.target = target;
  m.body = attestation_request(source, target, block_root_seed);
  m.signing_root = signing_root_of(m.body);
  return m;
}

std::string ProtectedMessage::describe() const {
  const auto root = to_hex(std::span(signing_root).first(6));
  if (kind == Kind::Block) return "block k" + std::to_string(key) + " slot " + std::to_string(slot) + " " + root;
  return "attestation k" + std::to_string(key) + " " + std::to_string(source) + "->" + std::to_string(target) + " " +
         root;
}

std::vector<ProtectedMessage> conflicting_messages(std::size_t count, std::size_t keys, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const auto uniform = [&](std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
  };
  std::vector<ProtectedMessage> out;
  out.reserve(count);
  while (out.size() < count) {
    const std::size_t key = uniform(0, keys - 1);
    if (uniform(0, 99) < 35) {
      out.push_back(ProtectedMessage::block(key, uniform(1, 64), uniform(1, 2)));
    } else {
      // Sources up to 6 epochs back: (t-6 -> t) surrounds (t-5 -> t-1), and the other way round.
      const auto target = uniform(2, 49);
      out.push_back(ProtectedMessage::attestation(key, target - uniform(1, std::min<std::uint64_t>(6, target)), target,
                                                  uniform(0, 1)));
    }
  }
  return out;
}

std::vector<ProtectedMessage> conflicting_round(std::size_t key, std::uint64_t round, std::mt19937& rng) {
  std::uniform_int_distribution<std::uint64_t> coin(0, 1);
  const std::uint64_t back = round >= 2 ? 1 + coin(rng) : 1;
  return {ProtectedMessage::block(key, round, 1 + coin(rng)),
          ProtectedMessage::attestation(key, round - back, round, coin(rng))};
}

std::string_view slashable_together(const ProtectedMessage& a, const ProtectedMessage& b) {
  if (a.key != b.key || a.kind != b.kind || a.signing_root == b.signing_root) return {};
  if (a.kind == ProtectedMessage::Kind::Block) return a.slot == b.slot ? "double proposal" : "";
  if (a.target == b.target) return "double vote";
  if ((a.source < b.source && b.target < a.target) || (b.source < a.source && a.target < b.target))
    return "surround vote";
  return {};
}

std::vector<std::string> slashable_pairs(const std::vector<ProtectedMessage>& signed_messages) {
  std::map<std::size_t, std::vector<const ProtectedMessage*>> by_key;
  for (const auto& m : signed_messages) by_key[m.key].push_back(&m);
  std::vector<std::string> out;
  for (const auto& [key, messages] : by_key)
    for (std::size_t i = 0; i < messages.size(); ++i)
      for (std::size_t j = i + 1; j < messages.size(); ++j)
        if (const auto why = slashable_together(*messages[i], *messages[j]); !why.empty())
          out.push_back(std::string(why) + ": " + messages[i]->describe() + " / " + messages[j]->describe());
  return out;
}

std::vector<ProtectedMessage> missing_from(const slashing::Interchange& history,
                                           const std::vector<ProtectedMessage>& signed_messages,
                                           const std::vector<KnownKey>& keys) {
  // (pubkey, slot or source, 0 or target, root) of everything recorded with its root.
  std::set<std::tuple<std::string, std::uint64_t, std::uint64_t, Bytes32>> blocks, attestations;
  for (const auto& v : history.data) {
    const auto pubkey = to_hex(v.pubkey);
    for (const auto& b : v.signed_blocks)
      if (b.signing_root) blocks.insert({pubkey, b.slot, 0, *b.signing_root});
    for (const auto& a : v.signed_attestations)
      if (a.signing_root) attestations.insert({pubkey, a.source_epoch, a.target_epoch, *a.signing_root});
  }
  std::vector<ProtectedMessage> out;
  for (const auto& m : signed_messages) {
    const auto& pubkey = keys.at(m.key).pubkey_hex;
    const bool found = m.kind == ProtectedMessage::Kind::Block
                           ? blocks.contains({pubkey, m.slot, 0, m.signing_root})
                           : attestations.contains({pubkey, m.source, m.target, m.signing_root});
    if (!found) out.push_back(m);
  }
  return out;
}

}  // namespace cachet::test

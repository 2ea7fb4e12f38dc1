// parse_signing_request rules: fork version selection, EIP-7044, fork-independent domains, the optional root check,
// and a clean Invalid error naming the field for every kind of malformed input.
#include <random>

#include "eth_test_util.hpp"

namespace cachet::eth {
namespace {

namespace json = boost::json;
using ssz::Root;
using test::hex;
using test::root;

constexpr std::string_view kGvr = "0x04700007fabc8282644aed6d1c7c9e21d38a03a0c4ba193f3afe428824b3a673";
constexpr std::string_view kRoot = "0xb2eedb01adbd02c828d5eec09b4c70cbba12ffffba525ebf48aca33028e8ad89";

json::value fork_info(std::string_view previous, std::string_view current, std::string_view epoch) {
  return {{"fork", {{"previous_version", previous}, {"current_version", current}, {"epoch", epoch}}},
          {"genesis_validators_root", kGvr}};
}

json::value attestation(std::string_view slot, std::string_view source_epoch, std::string_view target_epoch) {
  return {{"slot", slot},
          {"index", "0"},
          {"beacon_block_root", kRoot},
          {"source", {{"epoch", source_epoch}, {"root", kRoot}}},
          {"target", {{"epoch", target_epoch}, {"root", kRoot}}}};
}

json::value header(std::string_view slot) {
  return {{"slot", slot}, {"proposer_index", "5"}, {"parent_root", kRoot}, {"state_root", kRoot}, {"body_root", kRoot}};
}

// A valid request of each shape, on a fork that changes from 0x02000000 to 0x03000000 at epoch 10.
json::value attestation_request(std::string_view slot = "320", std::string_view target = "10") {
  return {{"type", "ATTESTATION"},
          {"fork_info", fork_info("0x02000000", "0x03000000", "10")},
          {"attestation", attestation(slot, "1", target)}};
}
json::value block_v2_request(std::string_view slot) {
  return {{"type", "BLOCK_V2"},
          {"fork_info", fork_info("0x02000000", "0x03000000", "10")},
          {"beacon_block", {{"version", "CAPELLA"}, {"block_header", header(slot)}}}};
}
json::value randao_request(std::string_view epoch) {
  return {{"type", "RANDAO_REVEAL"},
          {"fork_info", fork_info("0x02000000", "0x03000000", "10")},
          {"randao_reveal", {{"epoch", epoch}}}};
}
json::value exit_request(std::string_view previous, std::string_view current, std::string_view epoch) {
  return {{"type", "VOLUNTARY_EXIT"},
          {"fork_info", fork_info(previous, current, "10")},
          {"voluntary_exit", {{"epoch", epoch}, {"validator_index", "7"}}}};
}

// A published example from the minimal vector file (first of its name).
json::value example(std::string_view example_name) {
  static const json::value data = test::read_json("signing_vectors/spec_examples_minimal.json");
  for (const auto& v : data.at("vectors").as_array())
    if (v.at("example_name").as_string() == example_name) {
      json::value request = v.at("request");
      request.as_object().erase("signingRoot");
      return request;
    }
  throw std::runtime_error("no example " + std::string(example_name));
}

Bytes4 version(std::string_view hex4) { return *from_hex_fixed<4>(hex4); }

SigningParts ok(const json::value& request, std::string_view net = "mainnet") {
  auto parts = compute_signing_parts(request, test::network(net));
  if (!parts) throw std::runtime_error("unexpected error: " + parts.error().message);
  return *parts;
}

// The Invalid message of a request that must be refused.
std::string invalid(const json::value& request, std::string_view net = "mainnet") {
  auto parsed = parse_signing_request(request, test::network(net));
  if (parsed) return "<accepted>";
  EXPECT_EQ(parsed.error().kind, RequestError::Kind::Invalid) << parsed.error().message;
  return parsed.error().message;
}

// Sets the member at a dotted path ("a.b.c") of a copy of `request`.
json::value with(json::value request, std::string_view path, json::value value) {
  json::value* at = &request;
  while (true) {
    const auto dot = path.find('.');
    const std::string key(path.substr(0, dot));
    if (dot == std::string_view::npos) {
      at->as_object()[key] = std::move(value);
      return request;
    }
    at = &at->as_object()[key];
    path.remove_prefix(dot + 1);
  }
}
json::value without(json::value request, std::string_view path) {
  const auto dot = path.rfind('.');
  json::value* at = &request;
  if (dot != std::string_view::npos) {
    std::string_view parents = path.substr(0, dot);
    while (!parents.empty()) {
      const auto d = parents.find('.');
      at = &at->as_object()[std::string(parents.substr(0, d))];
      parents = d == std::string_view::npos ? std::string_view{} : parents.substr(d + 1);
    }
  }
  at->as_object().erase(std::string(path.substr(dot == std::string_view::npos ? 0 : dot + 1)));
  return request;
}

// --- Fork version selection (phase0/beacon-chain.md get_domain) --------------------------------------------------

TEST(ForkSelection, BlockUsesTheEpochOfItsSlot) {
  const Root gvr = root(kGvr);
  // Mainnet preset: 32 slots per epoch; the fork is at epoch 10 = slot 320.
  EXPECT_EQ(ok(block_v2_request("319")).domain, compute_domain(kDomainBeaconProposer, version("0x02000000"), gvr));
  EXPECT_EQ(ok(block_v2_request("320")).domain, compute_domain(kDomainBeaconProposer, version("0x03000000"), gvr));
  // Minimal preset: 8 slots per epoch, epoch 10 = slot 80.
  EXPECT_EQ(ok(block_v2_request("79"), "minimal").domain,
            compute_domain(kDomainBeaconProposer, version("0x02000000"), gvr));
  EXPECT_EQ(ok(block_v2_request("80"), "minimal").domain,
            compute_domain(kDomainBeaconProposer, version("0x03000000"), gvr));
  EXPECT_EQ(ok(block_v2_request("319")).request.block->slot, 319u);
}

TEST(ForkSelection, AttestationUsesTheTargetEpochNotTheSlot) {
  const Root gvr = root(kGvr);
  // Slot 400 is in epoch 12, but target epoch 9 is before the fork.
  const auto before = ok(attestation_request("400", "9"));
  EXPECT_EQ(before.domain, compute_domain(kDomainBeaconAttester, version("0x02000000"), gvr));
  EXPECT_EQ(before.request.attestation->source_epoch, 1u);
  EXPECT_EQ(before.request.attestation->target_epoch, 9u);
  EXPECT_EQ(ok(attestation_request("0", "10")).domain,
            compute_domain(kDomainBeaconAttester, version("0x03000000"), gvr));
  EXPECT_EQ(*ok(attestation_request()).request.genesis_validators_root, gvr);
}

TEST(ForkSelection, RandaoUsesItsEpoch) {
  const Root gvr = root(kGvr);
  const auto before = ok(randao_request("9"));
  EXPECT_EQ(before.domain, compute_domain(kDomainRandao, version("0x02000000"), gvr));
  EXPECT_EQ(before.object_root, ssz::uint64_root(9));
  EXPECT_EQ(ok(randao_request("10")).domain, compute_domain(kDomainRandao, version("0x03000000"), gvr));
}

TEST(ForkSelection, AggregateUsesTheAggregatesSlot) {
  const Root gvr = root(kGvr);
  json::value request = example("AGGREGATE_AND_PROOF (DEPRECATED)");
  request.as_object()["fork_info"] = fork_info("0x02000000", "0x03000000", "10");
  // Target epoch far after the fork; the aggregate's slot decides (8 slots per epoch on minimal).
  request = with(request, "aggregate_and_proof.aggregate.data.target.epoch", "100");
  EXPECT_EQ(ok(with(request, "aggregate_and_proof.aggregate.data.slot", "79"), "minimal").domain,
            compute_domain(kDomainAggregateAndProof, version("0x02000000"), gvr));
  EXPECT_EQ(ok(with(request, "aggregate_and_proof.aggregate.data.slot", "80"), "minimal").domain,
            compute_domain(kDomainAggregateAndProof, version("0x03000000"), gvr));
}

TEST(ForkSelection, SlotBasedSyncCommitteeTypes) {
  const Root gvr = root(kGvr);
  json::value message = {{"type", "SYNC_COMMITTEE_MESSAGE"},
                         {"fork_info", fork_info("0x02000000", "0x03000000", "10")},
                         {"sync_committee_message", {{"beacon_block_root", kRoot}, {"slot", "319"}}}};
  const auto before = ok(message);
  EXPECT_EQ(before.domain, compute_domain(kDomainSyncCommittee, version("0x02000000"), gvr));
  EXPECT_EQ(before.object_root, root(kRoot));  // the block root itself is signed
  EXPECT_EQ(ok(with(message, "sync_committee_message.slot", "320")).domain,
            compute_domain(kDomainSyncCommittee, version("0x03000000"), gvr));

  json::value selection = {{"type", "SYNC_COMMITTEE_SELECTION_PROOF"},
                           {"fork_info", fork_info("0x02000000", "0x03000000", "10")},
                           {"sync_aggregator_selection_data", {{"slot", "320"}, {"subcommittee_index", "3"}}}};
  EXPECT_EQ(ok(selection).domain, compute_domain(kDomainSyncCommitteeSelectionProof, version("0x03000000"), gvr));
  EXPECT_EQ(ok(selection).object_root, ssz::container_root(ssz::uint64_root(320), ssz::uint64_root(3)));

  json::value slot = {{"type", "AGGREGATION_SLOT"},
                      {"fork_info", fork_info("0x02000000", "0x03000000", "10")},
                      {"aggregation_slot", {{"slot", "319"}}}};
  EXPECT_EQ(ok(slot).domain, compute_domain(kDomainSelectionProof, version("0x02000000"), gvr));
  EXPECT_EQ(ok(slot).object_root, ssz::uint64_root(319));
}

TEST(ForkSelection, ForkInfoIsTrustedAsSent) {
  // Versions unknown to the network and a fork epoch that is really the message's epoch (as Lodestar sends it):
  // used as they are, never checked against the schedule.
  json::value request = attestation_request("0", "364032");
  request.as_object()["fork_info"] = fork_info("0xdeadbeef", "0xcafef00d", "364032");
  EXPECT_EQ(ok(request).domain, compute_domain(kDomainBeaconAttester, version("0xcafef00d"), root(kGvr)));
}

TEST(ForkSelection, CamelCaseForkFieldsAreAccepted) {
  json::value request = attestation_request("0", "9");
  request.as_object()["fork_info"] = {
      {"fork", {{"previousVersion", "0x02000000"}, {"currentVersion", "0x03000000"}, {"epoch", "10"}}},
      {"genesis_validators_root", kGvr}};
  EXPECT_EQ(ok(request).domain, ok(attestation_request("0", "9")).domain);
}

// --- EIP-7044 (deneb/beacon-chain.md "Modified process_voluntary_exit") -------------------------------------------

TEST(VoluntaryExit, FromDenebOnTheCapellaVersionIsUsed) {
  const Root gvr = root(kGvr);
  const Domain capella = compute_domain(kDomainVoluntaryExit, version("0x03000000"), gvr);
  // current_version = mainnet Deneb, Electra, Fulu: always Capella, whatever the exit's epoch.
  EXPECT_EQ(ok(exit_request("0x03000000", "0x04000000", "11")).domain, capella);
  EXPECT_EQ(ok(exit_request("0x03000000", "0x04000000", "1")).domain, capella);
  EXPECT_EQ(ok(exit_request("0x04000000", "0x05000000", "11")).domain, capella);
  EXPECT_EQ(ok(exit_request("0x05000000", "0x06000000", "11")).domain, capella);
  // On minimal the Deneb version is 0x04000001, Capella 0x03000001.
  EXPECT_EQ(ok(exit_request("0x03000001", "0x04000001", "11"), "minimal").domain,
            compute_domain(kDomainVoluntaryExit, version("0x03000001"), gvr));
  EXPECT_EQ(ok(exit_request("0x03000000", "0x04000000", "11")).object_root,
            ssz::container_root(ssz::uint64_root(11), ssz::uint64_root(7)));
}

TEST(VoluntaryExit, BeforeDenebTheNormalRuleApplies) {
  const Root gvr = root(kGvr);
  // current_version = Capella: previous/current by the exit's epoch against fork_info.fork.epoch (10).
  EXPECT_EQ(ok(exit_request("0x02000000", "0x03000000", "10")).domain,
            compute_domain(kDomainVoluntaryExit, version("0x03000000"), gvr));
  EXPECT_EQ(ok(exit_request("0x02000000", "0x03000000", "9")).domain,
            compute_domain(kDomainVoluntaryExit, version("0x02000000"), gvr));
  // 0x04000000 is not Deneb on minimal: normal rule there.
  EXPECT_EQ(ok(exit_request("0x03000000", "0x04000000", "11"), "minimal").domain,
            compute_domain(kDomainVoluntaryExit, version("0x04000000"), gvr));
}

// --- Fork-independent domains ---------------------------------------------------------------------------------------

TEST(ForkFreeTypes, ValidatorRegistrationUsesTheNetworksGenesisVersion) {
  json::value request = example("VALIDATOR_REGISTRATION");
  EXPECT_EQ(ok(request, "mainnet").domain, compute_domain(kDomainApplicationBuilder, version("0x00000000")));
  EXPECT_EQ(ok(request, "minimal").domain, compute_domain(kDomainApplicationBuilder, version("0x00000001")));
  EXPECT_EQ(ok(request, "hoodi").domain, compute_domain(kDomainApplicationBuilder, version("0x10000910")));
  // fork_info is not needed, and ignored when sent.
  request.as_object()["fork_info"] = "not even an object";
  EXPECT_FALSE(ok(request).request.genesis_validators_root);
}

TEST(ForkFreeTypes, DepositUsesItsOwnForkVersionAndAZeroRoot) {
  const json::value request = example("DEPOSIT");
  const auto parts = ok(request, "hoodi");
  EXPECT_EQ(parts.domain, compute_domain(kDomainDeposit, version("0x00000001"), Root{}));
  EXPECT_EQ(parts.request.signing_root, ok(request, "mainnet").request.signing_root);
}

// --- signing_root / signingRoot ---------------------------------------------------------------------------------

TEST(GivenRoot, MatchingRootsAreAccepted) {
  const json::value request = attestation_request();
  const std::string computed = hex(ok(request).request.signing_root);
  EXPECT_NO_THROW(ok(with(request, "signingRoot", json::value(computed))));  // ok() throws on an error
  EXPECT_NO_THROW(ok(with(request, "signing_root", json::value(computed))));
  EXPECT_NO_THROW(ok(with(with(request, "signing_root", json::value(computed)), "signingRoot", json::value(computed))));
  EXPECT_NO_THROW(ok(with(request, "signingRoot", nullptr)));  // null = absent
}

TEST(GivenRoot, MismatchIsRefusedForBothSpellings) {
  const json::value request = attestation_request();
  const std::string computed = hex(ok(request).request.signing_root);
  const std::string other = "0x" + std::string(64, '1');
  for (const char* key : {"signing_root", "signingRoot"}) {
    auto parsed = parse_signing_request(with(request, key, json::value(other)), test::network("mainnet"));
    ASSERT_FALSE(parsed) << key;
    EXPECT_EQ(parsed.error().kind, RequestError::Kind::RootMismatch);
    EXPECT_EQ(parsed.error().message,
              "signing_root " + other + " does not match the computed signing root " + computed);
  }
  // One right, one wrong: still refused.
  auto parsed = parse_signing_request(
      with(with(request, "signing_root", json::value(computed)), "signingRoot", json::value(other)),
      test::network("mainnet"));
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().kind, RequestError::Kind::RootMismatch);
}

TEST(GivenRoot, MalformedRootIsInvalid) {
  EXPECT_EQ(invalid(with(attestation_request(), "signingRoot", "0x1234")),
            "signingRoot: expected 32 bytes of 0x-prefixed hex, got 2 bytes");
  EXPECT_EQ(invalid(with(attestation_request(), "signing_root", 5)),
            "signing_root: expected 32 bytes of 0x-prefixed hex");
}

// --- Malformed requests ---------------------------------------------------------------------------------------------

TEST(Invalid, RequestShapeAndType) {
  EXPECT_EQ(invalid(json::value(json::array{})), "request: expected an object");
  EXPECT_EQ(invalid(json::value("ATTESTATION")), "request: expected an object");
  EXPECT_EQ(invalid(json::value(nullptr)), "request: missing");
  EXPECT_EQ(invalid(json::value(json::object{})), "type: missing");
  EXPECT_EQ(invalid(with(attestation_request(), "type", 3)), "type: expected a string");
  EXPECT_EQ(invalid(with(attestation_request(), "type", "ATTESTATION_V9")),
            "type: unknown sign request type 'ATTESTATION_V9'");
  EXPECT_EQ(invalid(with(attestation_request(), "type", "attestation")),
            "type: unknown sign request type 'attestation'");
}

TEST(Invalid, ForkInfo) {
  EXPECT_EQ(invalid(without(attestation_request(), "fork_info")), "fork_info: missing");
  EXPECT_EQ(invalid(with(attestation_request(), "fork_info", "x")), "fork_info: expected an object");
  EXPECT_EQ(invalid(without(attestation_request(), "fork_info.fork")), "fork_info.fork: missing");
  EXPECT_EQ(invalid(without(attestation_request(), "fork_info.fork.previous_version")),
            "fork_info.fork.previous_version: missing");
  EXPECT_EQ(invalid(with(attestation_request(), "fork_info.fork.current_version", "0x030000")),
            "fork_info.fork.current_version: expected 4 bytes of 0x-prefixed hex, got 3 bytes");
  EXPECT_EQ(invalid(with(attestation_request(), "fork_info.fork.epoch", "ten")),
            "fork_info.fork.epoch: expected a decimal string of digits only");
  EXPECT_EQ(invalid(without(attestation_request(), "fork_info.genesis_validators_root")),
            "fork_info.genesis_validators_root: missing");
}

TEST(Invalid, Uint64Fields) {
  const auto bad = [](json::value v) {
    return invalid(with(block_v2_request("1"), "beacon_block.block_header.slot", v));
  };
  const std::string path = "beacon_block.block_header.slot: ";
  EXPECT_EQ(bad("-1"), path + "expected a decimal string of digits only");
  EXPECT_EQ(bad("+1"), path + "expected a decimal string of digits only");
  EXPECT_EQ(bad(" 1"), path + "expected a decimal string of digits only");
  EXPECT_EQ(bad("1.5"), path + "expected a decimal string of digits only");
  EXPECT_EQ(bad("0x10"), path + "expected a decimal string of digits only");
  EXPECT_EQ(bad(""), path + "expected a decimal string, got an empty string");
  EXPECT_EQ(bad("18446744073709551616"), path + "value does not fit in uint64");
  EXPECT_EQ(bad("99999999999999999999999999"), path + "value does not fit in uint64");
  EXPECT_EQ(bad(-1), path + "expected a non-negative integer");
  EXPECT_EQ(bad(1.5), path + "expected a decimal string");
  EXPECT_EQ(bad(1e30), path + "expected a decimal string");
  EXPECT_EQ(bad(true), path + "expected a decimal string");
  EXPECT_EQ(bad(json::object{}), path + "expected a decimal string");
  EXPECT_EQ(bad(nullptr), path + "missing");
  EXPECT_EQ(invalid(without(block_v2_request("1"), "beacon_block.block_header.slot")), path + "missing");
  // The extremes are fine, as strings and as JSON numbers.
  EXPECT_EQ(
      ok(with(block_v2_request("1"), "beacon_block.block_header.slot", "18446744073709551615")).request.block->slot,
      18446744073709551615u);
  EXPECT_EQ(ok(with(block_v2_request("1"), "beacon_block.block_header.slot", std::uint64_t{18446744073709551615u}))
                .request.block->slot,
            18446744073709551615u);
  EXPECT_EQ(ok(with(block_v2_request("1"), "beacon_block.block_header.slot", 320)).domain,
            ok(block_v2_request("320")).domain);
  EXPECT_EQ(ok(with(block_v2_request("1"), "beacon_block.block_header.slot", "000320")).domain,
            ok(block_v2_request("320")).domain);
}

TEST(Invalid, HexFields) {
  const auto bad = [](json::value v) {
    return invalid(with(block_v2_request("1"), "beacon_block.block_header.parent_root", v));
  };
  const std::string path = "beacon_block.block_header.parent_root: ";
  EXPECT_EQ(bad(json::value(std::string(kRoot).substr(0, 65))),
            path + "expected 32 bytes of 0x-prefixed hex");  // odd length
  EXPECT_EQ(bad(json::value(std::string(kRoot).substr(2))), path + "expected 32 bytes of 0x-prefixed hex");  // no 0x
  EXPECT_EQ(bad(json::value(std::string(kRoot) + "00")), path + "expected 32 bytes of 0x-prefixed hex, got 33 bytes");
  EXPECT_EQ(bad(json::value("0x" + std::string(62, '0') + "zz")), path + "invalid hex character");
  EXPECT_EQ(bad(""), path + "expected 32 bytes of 0x-prefixed hex");
  EXPECT_EQ(bad(32), path + "expected 32 bytes of 0x-prefixed hex");
  EXPECT_NO_THROW(ok(with(block_v2_request("1"), "beacon_block.block_header.parent_root",
                          json::value("0X" + std::string(64, 'A')))));  // upper case is fine
}

TEST(Invalid, NestedObjectsAndVersions) {
  EXPECT_EQ(invalid(with(attestation_request(), "attestation", "x")), "attestation: expected an object");
  EXPECT_EQ(invalid(without(attestation_request(), "attestation.source")), "attestation.source: missing");
  EXPECT_EQ(invalid(with(attestation_request(), "attestation.target.root", "0x00")),
            "attestation.target.root: expected 32 bytes of 0x-prefixed hex, got 1 bytes");
  EXPECT_EQ(invalid(with(block_v2_request("1"), "beacon_block.version", "GLOAS")),
            "beacon_block.version: unknown version 'GLOAS' (expected PHASE0 .. FULU)");
  EXPECT_EQ(invalid(without(block_v2_request("1"), "beacon_block.version")), "beacon_block.version: missing");
  // From Bellatrix on only the header is accepted; for PHASE0/ALTAIR only the full block.
  json::value full = block_v2_request("1");
  full = with(full, "beacon_block.block", header("1"));
  full = without(full, "beacon_block.block_header");
  EXPECT_EQ(invalid(full), "beacon_block.block_header: missing");
  EXPECT_EQ(invalid(with(block_v2_request("1"), "beacon_block.version", "ALTAIR")), "beacon_block.block: missing");
  // Versions are matched without case.
  EXPECT_NO_THROW(ok(with(block_v2_request("1"), "beacon_block.version", "capella")));
  EXPECT_EQ(
      invalid(with(example("BLOCK_V2 (PHASE 0)"), "beacon_block.block.body.deposits", json::array{json::object{}})),
      "beacon_block.block.body.deposits[0].proof: missing");
  EXPECT_EQ(invalid(with(example("BLOCK_V2 (PHASE 0)"), "beacon_block.block.body.graffiti", "0x00")),
            "beacon_block.block.body.graffiti: expected 32 bytes of 0x-prefixed hex, got 1 bytes");
}

TEST(Invalid, ListLimits) {
  // phase0 body: MAX_ATTESTER_SLASHINGS = 2, MAX_DEPOSITS = 16.
  const json::value block = example("BLOCK_V2 (PHASE 0)");
  json::array three_slashings(3, json::object{});
  EXPECT_EQ(invalid(with(block, "beacon_block.block.body.attester_slashings", three_slashings)),
            "beacon_block.block.body.attester_slashings: has 3 elements, more than the limit of 2");
  EXPECT_EQ(invalid(with(block, "beacon_block.block.body.voluntary_exits", "none")),
            "beacon_block.block.body.voluntary_exits: expected an array");
  // IndexedAttestation.attesting_indices: List[ValidatorIndex, 2048].
  const json::value altair = example("BLOCK_V2 (ALTAIR)");
  json::object attestation_1;
  attestation_1["attesting_indices"] = json::array(2049, "1");
  json::object slashing;
  slashing["attestation_1"] = std::move(attestation_1);
  EXPECT_EQ(invalid(with(altair, "beacon_block.block.body.attester_slashings", json::array{slashing}), "minimal"),
            "beacon_block.block.body.attester_slashings[0].attestation_1.attesting_indices: has 2049 elements, more "
            "than the limit of 2048");
  // Deposit.proof: exactly 33 roots.
  json::value deposit = {{"proof", json::array(32, json::value(kRoot))}, {"data", json::object{}}};
  EXPECT_EQ(invalid(with(block, "beacon_block.block.body.deposits", json::array{deposit})),
            "beacon_block.block.body.deposits[0].proof: expected 33 elements (DEPOSIT_CONTRACT_TREE_DEPTH + 1)");
}

// --- Bitfields ------------------------------------------------------------------------------------------------------

std::string ones(std::size_t bytes, std::string_view last) {
  return "0x" + std::string(2 * bytes, 'f') + std::string(last);
}

TEST(Bitfields, Phase0AggregationBitsAgainstMaxValidatorsPerCommittee) {
  const json::value request = example("AGGREGATE_AND_PROOF (DEPRECATED)");
  const std::string field = "aggregate_and_proof.aggregate.aggregation_bits";
  const auto set = [&](const std::string& bits) { return with(request, field, json::value(bits)); };
  // 2048 bits + a delimiter byte: the largest Bitlist[2048].
  EXPECT_NO_THROW(ok(set(ones(256, "01")), "minimal"));
  EXPECT_NO_THROW(ok(set("0x01"), "minimal"));  // empty bitlist
  EXPECT_EQ(invalid(set(ones(256, "03")), "minimal"), field + ": bitlist of 2049 bits is longer than Bitlist[2048]");
  EXPECT_EQ(invalid(set(ones(257, "01")), "minimal"), field + ": bitlist of 258 bytes is longer than Bitlist[2048]");
  EXPECT_EQ(invalid(set("0x"), "minimal"), field + ": empty bitlist: the delimiter bit is missing");
  EXPECT_EQ(invalid(set("0x0100"), "minimal"), field + ": bitlist's last byte is zero: the delimiter bit is missing");
  EXPECT_EQ(invalid(set("0x1"), "minimal"), field + ": expected a bitlist as 0x-prefixed hex");
}

TEST(Bitfields, ElectraAggregateBitsAndCommitteeBits) {
  // The Electra example's committee_bits is a mainnet Bitvector[64] (8 bytes); on minimal it must be 1 byte.
  json::value request = example("AGGREGATE_AND_PROOF_V2 (ELECTRA)");
  const std::string committee = "aggregate_and_proof.data.aggregate.committee_bits";
  const std::string aggregation = "aggregate_and_proof.data.aggregate.aggregation_bits";
  EXPECT_EQ(invalid(request, "minimal"),
            committee + ": expected 1 bytes of 0x-prefixed hex (Bitvector[4]), got 8 bytes");
  EXPECT_NO_THROW(ok(with(request, committee, "0x0f"), "minimal"));
  EXPECT_EQ(invalid(with(request, committee, "0x10"), "minimal"),
            committee + ": bit set beyond the length of Bitvector[4]");
  EXPECT_NO_THROW(ok(request, "mainnet"));
  EXPECT_EQ(invalid(with(request, committee, "0x01"), "mainnet"),
            committee + ": expected 8 bytes of 0x-prefixed hex (Bitvector[64]), got 1 bytes");
  // aggregation_bits: Bitlist[MAX_VALIDATORS_PER_COMMITTEE * MAX_COMMITTEES_PER_SLOT] = 8192 on minimal.
  request = with(request, committee, "0x0f");
  EXPECT_NO_THROW(ok(with(request, aggregation, json::value(ones(1024, "01"))), "minimal"));
  EXPECT_EQ(invalid(with(request, aggregation, json::value(ones(1024, "02"))), "minimal"),
            aggregation + ": bitlist of 8193 bits is longer than Bitlist[8192]");
  // Under the phase0 container (DENEB) the limit is 2048.
  request = with(request, "aggregate_and_proof.version", "DENEB");
  EXPECT_EQ(invalid(with(request, aggregation, json::value(ones(1024, "01"))), "minimal"),
            aggregation + ": bitlist of 1025 bytes is longer than Bitlist[2048]");
}

TEST(Bitfields, SyncBitvectorsFollowThePreset) {
  const json::value contribution = example("SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF");
  const std::string field = "contribution_and_proof.contribution.aggregation_bits";
  // SYNC_COMMITTEE_SIZE / SYNC_COMMITTEE_SUBNET_COUNT: 8 bits on minimal, 128 on mainnet.
  EXPECT_NO_THROW(ok(contribution, "minimal"));
  EXPECT_EQ(invalid(contribution, "mainnet"),
            field + ": expected 16 bytes of 0x-prefixed hex (Bitvector[128]), got 1 bytes");
  EXPECT_NO_THROW(ok(with(contribution, field, json::value("0x" + std::string(32, 'f'))), "mainnet"));
  EXPECT_EQ(invalid(with(contribution, field, "0x0101"), "minimal"),
            field + ": expected 1 bytes of 0x-prefixed hex (Bitvector[8]), got 2 bytes");
  // The altair block's sync_committee_bits: Bitvector[32] on minimal.
  const json::value altair = example("BLOCK_V2 (ALTAIR)");
  const std::string bits = "beacon_block.block.body.sync_aggregate.sync_committee_bits";
  EXPECT_NO_THROW(ok(altair, "minimal"));
  EXPECT_EQ(invalid(with(altair, bits, "0xffffff"), "minimal"),
            bits + ": expected 4 bytes of 0x-prefixed hex (Bitvector[32]), got 3 bytes");
  EXPECT_EQ(invalid(without(altair, "beacon_block.block.body.sync_aggregate"), "minimal"),
            "beacon_block.block.body.sync_aggregate: missing");
}

// --- Robustness: no JSON value makes the parser crash or throw
// --------------------------------------------------------

void mutate_everywhere(const json::value& request, json::value& node, std::mt19937& rng, int& calls) {
  static const json::value replacements[] = {nullptr,
                                             json::value(-1),
                                             json::value(1.5e300),
                                             json::value(true),
                                             json::value("x"),
                                             json::value("0x"),
                                             json::value("18446744073709551616"),
                                             json::value(json::object{}),
                                             json::value(json::array{}),
                                             json::value(json::array{nullptr, "1"}),
                                             json::value(std::string(5000, 'f'))};
  const auto probe = [&] {
    for (const char* net : {"mainnet", "minimal"}) {
      const auto parsed = parse_signing_request(request, test::network(net));
      if (!parsed) {
        EXPECT_FALSE(parsed.error().message.empty());
      }
      ++calls;
    }
  };
  if (auto* obj = node.if_object()) {
    for (auto& [key, child] : *obj) {
      const json::value saved = child;
      child = replacements[rng() % std::size(replacements)];
      probe();
      child = saved;
      mutate_everywhere(request, child, rng, calls);
    }
  } else if (auto* arr = node.if_array()) {
    for (std::size_t i = 0; i < arr->size() && i < 3; ++i) mutate_everywhere(request, (*arr)[i], rng, calls);
  }
}

TEST(Robustness, MutatedExamplesNeverThrow) {
  const json::value data = test::read_json("signing_vectors/spec_examples_minimal.json");
  std::mt19937 rng(2024);
  int calls = 0;
  for (const auto& v : data.at("vectors").as_array()) {
    json::value request = v.at("request");
    EXPECT_NO_THROW(mutate_everywhere(request, request, rng, calls));
  }
  EXPECT_GT(calls, 1000);
}

}  // namespace
}  // namespace cachet::eth

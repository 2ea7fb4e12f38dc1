// Sign request → signing root, per request type. Which container is signed, under which domain type and at which
// epoch follows what the consensus specs sign for each duty (phase0/validator.md, altair/validator.md,
// electra/validator.md, phase0/beacon-chain.md process_* for deposits and exits, builder-specs for registrations).
#include <algorithm>
#include <array>
#include <exception>

#include "decode.hpp"
#include "domain.hpp"
#include "signing_parts.hpp"

namespace cachet::eth {
namespace {

struct ForkInfo {
  Bytes4 previous_version{};
  Bytes4 current_version{};
  std::uint64_t epoch = 0;
  Root genesis_validators_root{};
};

// The state of one request being read: the decoder, the request's top node and what has been computed so far.
struct Job {
  Decoder d;
  const Node& body;
  const NetworkConfig& network;
  ForkInfo fork_info;
  SigningParts out;

  const Preset& preset() const { return network.preset; }
  // phase0/beacon-chain.md compute_epoch_at_slot.
  std::uint64_t epoch_at_slot(std::uint64_t slot) const { return slot / preset().slots_per_epoch; }

  // phase0/beacon-chain.md get_domain(state, domain_type, epoch) with state.fork = the request's fork_info (trusted
  // as sent: it is never compared with this network's schedule), then the object root.
  void sign_at_epoch(const DomainType& type, std::uint64_t epoch, const Root& object_root) {
    const Bytes4& version = epoch < fork_info.epoch ? fork_info.previous_version : fork_info.current_version;
    sign_in_domain(compute_domain(type, version, fork_info.genesis_validators_root), object_root);
  }
  void sign_in_domain(const Domain& domain, const Root& object_root) {
    out.domain = domain;
    out.object_root = object_root;
  }
};

// A field the remote-signing-api examples also spell in camelCase (fork_info.fork.previousVersion/currentVersion):
// the snake_case member when present, else the camelCase one, else the (missing) snake_case one for the error.
Node either_spelling(const Node& parent, std::string_view snake, std::string_view camel) {
  Node snake_node = parent[snake];
  if (snake_node.present()) return snake_node;
  Node camel_node = parent[camel];
  return camel_node.present() ? camel_node : snake_node;
}

void read_fork_info(Job& j) {
  const Node info = j.body["fork_info"];
  if (!j.d.object(info)) return;
  const Node fork = info["fork"];
  if (j.d.object(fork)) {
    j.fork_info.previous_version = j.d.bytes<4>(either_spelling(fork, "previous_version", "previousVersion"));
    j.fork_info.current_version = j.d.bytes<4>(either_spelling(fork, "current_version", "currentVersion"));
    j.fork_info.epoch = j.d.u64(fork["epoch"]);
  }
  j.fork_info.genesis_validators_root = j.d.bytes<32>(info["genesis_validators_root"]);
  j.out.request.genesis_validators_root = j.fork_info.genesis_validators_root;
}

// The `version` of BLOCK_V2 / AGGREGATE_AND_PROOF_V2: PHASE0 .. FULU (compared without case).
std::optional<Fork> read_version(Job& j, const Node& node) {
  const std::string_view name = j.d.string(node);
  if (!j.d.ok()) return std::nullopt;
  for (int f = static_cast<int>(Fork::Phase0); f <= static_cast<int>(Fork::Fulu); ++f) {
    const std::string_view candidate = to_string(static_cast<Fork>(f));
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (std::ranges::equal(name, candidate, {}, lower)) return static_cast<Fork>(f);
  }
  j.d.fail(node, "unknown version '" + std::string(name.substr(0, 32)) + "' (expected PHASE0 .. FULU)");
  return std::nullopt;
}

// phase0/validator.md "Aggregation selection" get_slot_signature: Slot, DOMAIN_SELECTION_PROOF at the slot's epoch.
void sign_aggregation_slot(Job& j) {
  const Node n = j.body["aggregation_slot"];
  if (!j.d.object(n)) return;
  const std::uint64_t slot = j.d.u64(n["slot"]);
  if (j.d.ok()) j.sign_at_epoch(kDomainSelectionProof, j.epoch_at_slot(slot), ssz::uint64_root(slot));
}

// phase0/validator.md get_aggregate_and_proof_signature (electra/validator.md for the Electra container):
// DOMAIN_AGGREGATE_AND_PROOF at compute_epoch_at_slot(aggregate.data.slot).
template <class Aggregate>
void sign_aggregate(Job& j, const Aggregate& aggregate_and_proof) {
  if (!j.d.ok()) return;
  j.sign_at_epoch(kDomainAggregateAndProof, j.epoch_at_slot(aggregate_and_proof.aggregate.data.slot),
                  hash_tree_root(aggregate_and_proof, j.preset()));
}

void sign_aggregate_and_proof(Job& j) {
  sign_aggregate(j, read_aggregate_and_proof(j.d, j.body["aggregate_and_proof"], j.preset()));
}

void sign_aggregate_and_proof_v2(Job& j) {
  const Node n = j.body["aggregate_and_proof"];
  if (!j.d.object(n)) return;
  const auto fork = read_version(j, n["version"]);
  if (!fork) return;
  const Node data = n["data"];
  // EIP-7549 changed the Attestation container from Electra on; FULU keeps Electra's.
  if (*fork >= Fork::Electra) {
    sign_aggregate(j, read_aggregate_and_proof_electra(j.d, data, j.preset()));
  } else {
    sign_aggregate(j, read_aggregate_and_proof(j.d, data, j.preset()));
  }
}

// phase0/validator.md get_attestation_signature: DOMAIN_BEACON_ATTESTER at attestation_data.target.epoch.
void sign_attestation(Job& j) {
  const AttestationData data = read_attestation_data(j.d, j.body["attestation"]);
  if (!j.d.ok()) return;
  j.out.request.attestation = AttestationFacts{data.source.epoch, data.target.epoch};
  j.sign_at_epoch(kDomainBeaconAttester, data.target.epoch, hash_tree_root(data));
}

// phase0/validator.md get_block_signature: DOMAIN_BEACON_PROPOSER at compute_epoch_at_slot(block.slot). A block and
// its header have the same hash_tree_root (body → body_root), which is why BLOCK_V2 may send either.
void sign_block_root(Job& j, std::uint64_t slot, const Root& block_root) {
  j.out.request.block = BlockFacts{slot};
  j.sign_at_epoch(kDomainBeaconProposer, j.epoch_at_slot(slot), block_root);
}

void sign_block(Job& j) {
  const BeaconBlock block = read_beacon_block(j.d, j.body["block"], j.preset(), /*altair=*/false);
  if (j.d.ok()) sign_block_root(j, block.slot, hash_tree_root(block, j.preset()));
}

void sign_block_v2(Job& j) {
  const Node n = j.body["beacon_block"];
  if (!j.d.object(n)) return;
  const auto fork = read_version(j, n["version"]);
  if (!fork) return;
  if (*fork <= Fork::Altair) {  // full phase0/altair blocks; later forks send only the header
    const BeaconBlock block = read_beacon_block(j.d, n["block"], j.preset(), *fork == Fork::Altair);
    if (j.d.ok()) sign_block_root(j, block.slot, hash_tree_root(block, j.preset()));
  } else {
    const BeaconBlockHeader header = read_block_header(j.d, n["block_header"]);
    if (j.d.ok()) sign_block_root(j, header.slot, hash_tree_root(header));
  }
}

// phase0/beacon-chain.md process_deposit / validator.md: the DepositMessage is signed with
// compute_domain(DOMAIN_DEPOSIT) — fork-agnostic, so with the request's genesis_fork_version and a zero
// genesis_validators_root (deposits are valid before genesis).
void sign_deposit(Job& j) {
  const Node n = j.body["deposit"];
  const DepositMessage message = read_deposit_message(j.d, n);
  const Bytes4 genesis_fork_version = j.d.bytes<4>(n["genesis_fork_version"]);
  if (j.d.ok()) j.sign_in_domain(compute_domain(kDomainDeposit, genesis_fork_version), hash_tree_root(message));
}

// phase0/validator.md "Randao reveal" get_epoch_signature: the Epoch, DOMAIN_RANDAO at that epoch.
void sign_randao_reveal(Job& j) {
  const Node n = j.body["randao_reveal"];
  if (!j.d.object(n)) return;
  const std::uint64_t epoch = j.d.u64(n["epoch"]);
  if (j.d.ok()) j.sign_at_epoch(kDomainRandao, epoch, ssz::uint64_root(epoch));
}

// phase0/beacon-chain.md process_voluntary_exit: DOMAIN_VOLUNTARY_EXIT at voluntary_exit.epoch; deneb/beacon-chain.md
// "Modified process_voluntary_exit" (EIP-7044): from Deneb on the domain is always compute_domain(
// DOMAIN_VOLUNTARY_EXIT, CAPELLA_FORK_VERSION, genesis_validators_root). "From Deneb on" is judged by the request's
// current_version being this network's Deneb version or a later fork's.
void sign_voluntary_exit(Job& j) {
  const VoluntaryExit exit = read_voluntary_exit(j.d, j.body["voluntary_exit"]);
  if (!j.d.ok()) return;
  const ForkSchedule* current = j.network.fork_of_version(j.fork_info.current_version);
  const ForkSchedule* capella = j.network.find(Fork::Capella);
  if (current && current->fork >= Fork::Deneb && capella) {
    j.sign_in_domain(compute_domain(kDomainVoluntaryExit, capella->version, j.fork_info.genesis_validators_root),
                     hash_tree_root(exit));
  } else {
    j.sign_at_epoch(kDomainVoluntaryExit, exit.epoch, hash_tree_root(exit));
  }
}

// altair/validator.md get_sync_committee_message: the block root (a Root is its own hash_tree_root),
// DOMAIN_SYNC_COMMITTEE at compute_epoch_at_slot(slot).
void sign_sync_committee_message(Job& j) {
  const Node n = j.body["sync_committee_message"];
  if (!j.d.object(n)) return;
  const Root block_root = j.d.bytes<32>(n["beacon_block_root"]);
  const std::uint64_t slot = j.d.u64(n["slot"]);
  if (j.d.ok()) j.sign_at_epoch(kDomainSyncCommittee, j.epoch_at_slot(slot), block_root);
}

// altair/validator.md get_sync_committee_selection_proof: SyncAggregatorSelectionData(slot, subcommittee_index),
// DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF at compute_epoch_at_slot(slot).
void sign_sync_committee_selection_proof(Job& j) {
  const auto data = read_sync_aggregator_selection_data(j.d, j.body["sync_aggregator_selection_data"]);
  if (j.d.ok()) j.sign_at_epoch(kDomainSyncCommitteeSelectionProof, j.epoch_at_slot(data.slot), hash_tree_root(data));
}

// altair/validator.md get_contribution_and_proof_signature: DOMAIN_CONTRIBUTION_AND_PROOF at
// compute_epoch_at_slot(contribution.slot).
void sign_contribution_and_proof(Job& j) {
  const auto cp = read_contribution_and_proof(j.d, j.body["contribution_and_proof"], j.preset());
  if (j.d.ok()) j.sign_at_epoch(kDomainContributionAndProof, j.epoch_at_slot(cp.contribution.slot), hash_tree_root(cp));
}

// builder-specs specs/bellatrix/builder.md "Signing": compute_domain(DOMAIN_APPLICATION_BUILDER) — the network's
// GENESIS_FORK_VERSION and a zero genesis_validators_root, whatever the current fork.
void sign_validator_registration(Job& j) {
  const auto registration = read_validator_registration(j.d, j.body["validator_registration"]);
  if (j.d.ok())
    j.sign_in_domain(compute_domain(kDomainApplicationBuilder, j.network.genesis_fork_version),
                     hash_tree_root(registration));
}

struct TypeEntry {
  SignType type;
  std::string_view name;
  bool needs_fork_info;  // DEPOSIT and VALIDATOR_REGISTRATION sign in fork-independent domains
  void (*sign)(Job&);
};

constexpr std::array<TypeEntry, kSignTypeCount> kTypes{{
    {SignType::AggregationSlot, "AGGREGATION_SLOT", true, sign_aggregation_slot},
    {SignType::AggregateAndProof, "AGGREGATE_AND_PROOF", true, sign_aggregate_and_proof},
    {SignType::AggregateAndProofV2, "AGGREGATE_AND_PROOF_V2", true, sign_aggregate_and_proof_v2},
    {SignType::Attestation, "ATTESTATION", true, sign_attestation},
    {SignType::Block, "BLOCK", true, sign_block},
    {SignType::BlockV2, "BLOCK_V2", true, sign_block_v2},
    {SignType::Deposit, "DEPOSIT", false, sign_deposit},
    {SignType::RandaoReveal, "RANDAO_REVEAL", true, sign_randao_reveal},
    {SignType::VoluntaryExit, "VOLUNTARY_EXIT", true, sign_voluntary_exit},
    {SignType::SyncCommitteeMessage, "SYNC_COMMITTEE_MESSAGE", true, sign_sync_committee_message},
    {SignType::SyncCommitteeSelectionProof, "SYNC_COMMITTEE_SELECTION_PROOF", true,
     sign_sync_committee_selection_proof},
    {SignType::SyncCommitteeContributionAndProof, "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF", true,
     sign_contribution_and_proof},
    {SignType::ValidatorRegistration, "VALIDATOR_REGISTRATION", false, sign_validator_registration},
}};

const TypeEntry* find_type(std::string_view name) {
  for (const auto& entry : kTypes)
    if (entry.name == name) return &entry;
  return nullptr;
}

// The optional roots a client may send for verification (Web3Signer's `signingRoot`; `signing_root` too): when
// given, they must equal what was computed here — the signer never signs a root it did not compute.
std::optional<RequestError> check_given_roots(Decoder& d, const Node& body, const Root& computed) {
  for (const std::string_view key : {std::string_view("signing_root"), std::string_view("signingRoot")}) {
    const Node given_node = body[key];
    if (!given_node.present()) continue;
    const Root given = d.bytes<32>(given_node);
    if (!d.ok()) return d.error();
    if (given != computed) {
      return RequestError{
          RequestError::Kind::RootMismatch,
          "signing_root " + to_hex(given) + " does not match the computed signing root " + to_hex(computed)};
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(SignType type) {
  for (const auto& entry : kTypes)
    if (entry.type == type) return entry.name;
  return "UNKNOWN";
}

std::optional<SignType> sign_type_from_string(std::string_view name) {
  const TypeEntry* entry = find_type(name);
  return entry ? std::optional(entry->type) : std::nullopt;
}

std::expected<SigningParts, RequestError> compute_signing_parts(const boost::json::value& body,
                                                                const NetworkConfig& network) {
  const Node top(body);
  Job j{.d = {}, .body = top, .network = network, .fork_info = {}, .out = {}};
  if (!j.d.object(top)) return std::unexpected(j.d.error());

  const Node type_node = top["type"];
  const std::string_view type_name = j.d.string(type_node);
  if (!j.d.ok()) return std::unexpected(j.d.error());
  const TypeEntry* entry = find_type(type_name);
  if (!entry) {
    j.d.fail(type_node, "unknown sign request type '" + std::string(type_name.substr(0, 64)) + "'");
    return std::unexpected(j.d.error());
  }
  j.out.request.type = entry->type;

  if (entry->needs_fork_info) read_fork_info(j);
  if (j.d.ok()) entry->sign(j);
  if (!j.d.ok()) return std::unexpected(j.d.error());

  j.out.request.signing_root = compute_signing_root(j.out.object_root, j.out.domain);
  if (auto mismatch = check_given_roots(j.d, top, j.out.request.signing_root)) return std::unexpected(*mismatch);
  return std::move(j.out);
}

std::expected<SigningRequest, RequestError> parse_signing_request(const boost::json::value& body,
                                                                  const NetworkConfig& network) {
  // Nothing may escape to the server: the only exceptions possible below are allocation failures.
  try {
    auto parts = compute_signing_parts(body, network);
    if (!parts) return std::unexpected(std::move(parts.error()));
    return std::move(parts->request);
  } catch (...) {
    // Only allocation can fail here; the client gets no internal exception text.
    return std::unexpected(RequestError{RequestError::Kind::Invalid, "cannot process request"});
  }
}

}  // namespace cachet::eth

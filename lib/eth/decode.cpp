#include "decode.hpp"

#include <boost/json/array.hpp>

namespace cachet::eth {
namespace {

// List[T, limit]: at most `limit` elements, each read by `read(d, element_node)`.
template <class Read>
auto read_list(Decoder& d, const Node& node, std::uint64_t limit, Read read) {
  using T = decltype(read(d, node));
  std::vector<T> out;
  const boost::json::array* arr = d.array(node, limit);
  if (!arr) return out;
  out.reserve(arr->size());
  for (std::size_t i = 0; i < arr->size() && d.ok(); ++i) {
    const Node element = node.at(i);
    out.push_back(read(d, element));
  }
  return out;
}

SignedBeaconBlockHeader read_signed_header(Decoder& d, const Node& n) {
  if (!d.object(n)) return {};
  return {read_block_header(d, n["message"]), d.bytes<96>(n["signature"])};
}

ProposerSlashing read_proposer_slashing(Decoder& d, const Node& n) {
  if (!d.object(n)) return {};
  return {read_signed_header(d, n["signed_header_1"]), read_signed_header(d, n["signed_header_2"])};
}

IndexedAttestation read_indexed_attestation(Decoder& d, const Node& n, const Preset& preset) {
  if (!d.object(n)) return {};
  return {read_list(d, n["attesting_indices"], preset.max_validators_per_committee,
                    [](Decoder& dd, const Node& e) { return dd.u64(e); }),
          read_attestation_data(d, n["data"]), d.bytes<96>(n["signature"])};
}

AttesterSlashing read_attester_slashing(Decoder& d, const Node& n, const Preset& preset) {
  if (!d.object(n)) return {};
  return {read_indexed_attestation(d, n["attestation_1"], preset),
          read_indexed_attestation(d, n["attestation_2"], preset)};
}

Attestation read_attestation(Decoder& d, const Node& n, const Preset& preset) {
  if (!d.object(n)) return {};
  return {d.bitlist(n["aggregation_bits"], preset.max_validators_per_committee), read_attestation_data(d, n["data"]),
          d.bytes<96>(n["signature"])};
}

AttestationElectra read_attestation_electra(Decoder& d, const Node& n, const Preset& preset) {
  if (!d.object(n)) return {};
  // electra/beacon-chain.md "Modified containers" > Attestation.
  return {d.bitlist(n["aggregation_bits"], preset.max_validators_per_committee * preset.max_committees_per_slot),
          read_attestation_data(d, n["data"]), d.bytes<96>(n["signature"]),
          d.bitvector(n["committee_bits"], preset.max_committees_per_slot)};
}

template <class ReadAttestation>
auto read_aggregate_and_proof_of(Decoder& d, const Node& n, const Preset& preset, ReadAttestation read)
    -> AggregateAndProofOf<decltype(read(d, n, preset))> {
  if (!d.object(n)) return {};
  return {d.u64(n["aggregator_index"]), read(d, n["aggregate"], preset), d.bytes<96>(n["selection_proof"])};
}

Eth1Data read_eth1_data(Decoder& d, const Node& n) {
  if (!d.object(n)) return {};
  return {d.bytes<32>(n["deposit_root"]), d.u64(n["deposit_count"]), d.bytes<32>(n["block_hash"])};
}

Deposit read_deposit(Decoder& d, const Node& n) {
  Deposit out;
  if (!d.object(n)) return out;
  const Node proof = n["proof"];
  if (const auto* arr = d.array(proof, kDepositProofLength)) {
    if (arr->size() != kDepositProofLength) d.fail(proof, "expected 33 elements (DEPOSIT_CONTRACT_TREE_DEPTH + 1)");
    for (std::size_t i = 0; i < arr->size() && d.ok(); ++i) {
      const Node element = proof.at(i);
      out.proof[i] = d.bytes<32>(element);
    }
  }
  const Node data = n["data"];
  if (!d.object(data)) return out;
  out.data = {d.bytes<48>(data["pubkey"]), d.bytes<32>(data["withdrawal_credentials"]), d.u64(data["amount"]),
              d.bytes<96>(data["signature"])};
  return out;
}

SignedVoluntaryExit read_signed_voluntary_exit(Decoder& d, const Node& n) {
  if (!d.object(n)) return {};
  return {read_voluntary_exit(d, n["message"]), d.bytes<96>(n["signature"])};
}

SyncAggregate read_sync_aggregate(Decoder& d, const Node& n, const Preset& preset) {
  if (!d.object(n)) return {};
  return {d.bitvector(n["sync_committee_bits"], preset.sync_committee_size),
          d.bytes<96>(n["sync_committee_signature"])};
}

BeaconBlockBody read_block_body(Decoder& d, const Node& n, const Preset& preset, bool altair) {
  BeaconBlockBody body;
  if (!d.object(n)) return body;
  body.randao_reveal = d.bytes<96>(n["randao_reveal"]);
  body.eth1_data = read_eth1_data(d, n["eth1_data"]);
  body.graffiti = d.bytes<32>(n["graffiti"]);
  body.proposer_slashings =
      read_list(d, n["proposer_slashings"], preset.max_proposer_slashings, read_proposer_slashing);
  body.attester_slashings =
      read_list(d, n["attester_slashings"], preset.max_attester_slashings,
                [&](Decoder& dd, const Node& e) { return read_attester_slashing(dd, e, preset); });
  body.attestations = read_list(d, n["attestations"], preset.max_attestations,
                                [&](Decoder& dd, const Node& e) { return read_attestation(dd, e, preset); });
  body.deposits = read_list(d, n["deposits"], preset.max_deposits, read_deposit);
  body.voluntary_exits = read_list(d, n["voluntary_exits"], preset.max_voluntary_exits, read_signed_voluntary_exit);
  if (altair) body.sync_aggregate = read_sync_aggregate(d, n["sync_aggregate"], preset);
  return body;
}

}  // namespace

Checkpoint read_checkpoint(Decoder& d, const Node& n) {
  if (!d.object(n)) return {};
  return {d.u64(n["epoch"]), d.bytes<32>(n["root"])};
}

AttestationData read_attestation_data(Decoder& d, const Node& n) {
  if (!d.object(n)) return {};
  return {d.u64(n["slot"]), d.u64(n["index"]), d.bytes<32>(n["beacon_block_root"]), read_checkpoint(d, n["source"]),
          read_checkpoint(d, n["target"])};
}

BeaconBlockHeader read_block_header(Decoder& d, const Node& n) {
  if (!d.object(n)) return {};
  return {d.u64(n["slot"]), d.u64(n["proposer_index"]), d.bytes<32>(n["parent_root"]), d.bytes<32>(n["state_root"]),
          d.bytes<32>(n["body_root"])};
}

BeaconBlock read_beacon_block(Decoder& d, const Node& n, const Preset& preset, bool altair) {
  if (!d.object(n)) return {};
  return {d.u64(n["slot"]), d.u64(n["proposer_index"]), d.bytes<32>(n["parent_root"]), d.bytes<32>(n["state_root"]),
          read_block_body(d, n["body"], preset, altair)};
}

AggregateAndProofPhase0 read_aggregate_and_proof(Decoder& d, const Node& n, const Preset& preset) {
  return read_aggregate_and_proof_of(d, n, preset, read_attestation);
}

AggregateAndProofElectra read_aggregate_and_proof_electra(Decoder& d, const Node& n, const Preset& preset) {
  return read_aggregate_and_proof_of(d, n, preset, read_attestation_electra);
}

ContributionAndProof read_contribution_and_proof(Decoder& d, const Node& n, const Preset& preset) {
  if (!d.object(n)) return {};
  ContributionAndProof out;
  out.aggregator_index = d.u64(n["aggregator_index"]);
  const Node c = n["contribution"];
  if (d.object(c)) {
    // altair/validator.md: aggregation_bits is Bitvector[SYNC_COMMITTEE_SIZE // SYNC_COMMITTEE_SUBNET_COUNT].
    out.contribution = {
        d.u64(c["slot"]), d.bytes<32>(c["beacon_block_root"]), d.u64(c["subcommittee_index"]),
        d.bitvector(c["aggregation_bits"], preset.sync_committee_size / preset.sync_committee_subnet_count),
        d.bytes<96>(c["signature"])};
  }
  out.selection_proof = d.bytes<96>(n["selection_proof"]);
  return out;
}

SyncAggregatorSelectionData read_sync_aggregator_selection_data(Decoder& d, const Node& n) {
  if (!d.object(n)) return {};
  return {d.u64(n["slot"]), d.u64(n["subcommittee_index"])};
}

DepositMessage read_deposit_message(Decoder& d, const Node& n) {
  if (!d.object(n)) return {};
  return {d.bytes<48>(n["pubkey"]), d.bytes<32>(n["withdrawal_credentials"]), d.u64(n["amount"])};
}

VoluntaryExit read_voluntary_exit(Decoder& d, const Node& n) {
  if (!d.object(n)) return {};
  return {d.u64(n["epoch"]), d.u64(n["validator_index"])};
}

ValidatorRegistrationV1 read_validator_registration(Decoder& d, const Node& n) {
  if (!d.object(n)) return {};
  return {d.bytes<20>(n["fee_recipient"]), d.u64(n["gas_limit"]), d.u64(n["timestamp"]), d.bytes<48>(n["pubkey"])};
}

}  // namespace cachet::eth

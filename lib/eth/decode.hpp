// JSON → containers, in the field spelling of the Web3Signer eth2 signing API (snake_case, uint64 as decimal
// strings, bytes as 0x-hex). Every reader first requires an object at `node`; on any problem the Decoder keeps the
// first error and the returned value is meaningless.
#pragma once

#include "containers.hpp"
#include "json_reader.hpp"

namespace cachet::eth {

Checkpoint read_checkpoint(Decoder& d, const Node& node);
AttestationData read_attestation_data(Decoder& d, const Node& node);
BeaconBlockHeader read_block_header(Decoder& d, const Node& node);
/// A phase0 BeaconBlock, or an altair one (body.sync_aggregate required) when `altair`.
BeaconBlock read_beacon_block(Decoder& d, const Node& node, const Preset& preset, bool altair);
AggregateAndProofPhase0 read_aggregate_and_proof(Decoder& d, const Node& node, const Preset& preset);
AggregateAndProofElectra read_aggregate_and_proof_electra(Decoder& d, const Node& node, const Preset& preset);
ContributionAndProof read_contribution_and_proof(Decoder& d, const Node& node, const Preset& preset);
SyncAggregatorSelectionData read_sync_aggregator_selection_data(Decoder& d, const Node& node);
/// pubkey, withdrawal_credentials, amount (the request's genesis_fork_version is read by the caller).
DepositMessage read_deposit_message(Decoder& d, const Node& node);
VoluntaryExit read_voluntary_exit(Decoder& d, const Node& node);
ValidatorRegistrationV1 read_validator_registration(Decoder& d, const Node& node);

}  // namespace cachet::eth

// Reference signing-root / BLS code for Cachet's tests. Independent of Cachet: SSZ schemas come from
// @lodestar/types (+ @chainsafe/ssz), network constants from @lodestar/config + @lodestar/params, BLS from
// @noble/curves. See README.md.
//
// @lodestar/params picks its preset from LODESTAR_PRESET when it is first imported, so everything that
// touches lodestar is loaded through loadReference(preset), once per process.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  BitArray,
  BitListType,
  BitVectorType,
  BooleanType,
  ByteListType,
  ByteVectorType,
  ContainerType,
  ListBasicType,
  ListCompositeType,
  UintBigintType,
  UintNumberType,
  VectorBasicType,
  VectorCompositeType,
} from "@chainsafe/ssz";
import { bls12_381 } from "@noble/curves/bls12-381";

export const HERE = dirname(fileURLToPath(import.meta.url));
export const SHARED_SPECS = process.env.CACHET_SHARED_SPECS ?? join(HERE, "..", "..", "..", "shared", "specs");

// ---------------------------------------------------------------------------------------------- hex utils
export const toHex = (u8) => "0x" + Buffer.from(u8).toString("hex");
export function fromHex(s) {
  if (typeof s !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(s)) throw new Error(`bad hex: ${s}`);
  return new Uint8Array(Buffer.from(s.slice(2), "hex"));
}
export const sha256 = (data) => new Uint8Array(createHash("sha256").update(data).digest());

// ---------------------------------------------------------------------------------------------- BLS
// Ethereum uses the proof-of-possession ciphersuite. NOTE: @noble/curves 1.9.x's bls12_381.sign() defaults to
// the *_NUL_ DST (BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_), which gives different signatures; the DST must be
// passed explicitly.
export const POP_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

export function blsSign(secretKey, message) {
  const sk = typeof secretKey === "string" ? fromHex(secretKey) : secretKey;
  const msg = typeof message === "string" ? fromHex(message) : message;
  return toHex(bls12_381.sign(msg, sk, { DST: POP_DST }));
}
export function blsPubkey(secretKey) {
  const sk = typeof secretKey === "string" ? fromHex(secretKey) : secretKey;
  return toHex(bls12_381.getPublicKey(sk));
}
export function blsVerify(signature, message, pubkey) {
  return bls12_381.verify(fromHex(signature), fromHex(message), fromHex(pubkey), { DST: POP_DST });
}

// ---------------------------------------------------------------------------------------------- SSZ
// Lodestar models Slot/Epoch/ValidatorIndex/Gwei/... as UintNumberType (JS number): its fromJson *throws* on values
// above 2^53-1 ("JSON invalid number > MAX_SAFE_INTEGER"), while the API allows any uint64. bigintify() rebuilds a
// lodestar type with the identical schema (field names, order, JSON casing, limits) but every uint64 as
// UintBigintType(8), so all of 0..2^64-1 round-trips exactly. Roots are unaffected (same SSZ encoding); the
// self-check verifies that against lodestar's own types and the consensus-spec-tests samples.
const bigintCache = new Map();
export function bigintify(type) {
  const hit = bigintCache.get(type);
  if (hit) return hit;
  let out;
  if (type instanceof UintNumberType) {
    out = type.byteLength === 8 ? new UintBigintType(8) : type;
  } else if (
    type instanceof UintBigintType ||
    type instanceof BooleanType ||
    type instanceof ByteVectorType ||
    type instanceof ByteListType ||
    type instanceof BitListType ||
    type instanceof BitVectorType
  ) {
    out = type;
  } else if (type instanceof ContainerType) {
    const fields = {};
    for (const [name, ft] of Object.entries(type.fields)) fields[name] = bigintify(ft);
    out = new ContainerType(fields, {
      typeName: type.typeName,
      jsonCase: type.opts?.jsonCase,
      casingMap: type.opts?.casingMap,
    });
  } else if (type instanceof ListCompositeType) {
    out = new ListCompositeType(bigintify(type.elementType), type.limit);
  } else if (type instanceof ListBasicType) {
    out = new ListBasicType(bigintify(type.elementType), type.limit);
  } else if (type instanceof VectorCompositeType) {
    out = new VectorCompositeType(bigintify(type.elementType), type.length);
  } else if (type instanceof VectorBasicType) {
    out = new VectorBasicType(bigintify(type.elementType), type.length);
  } else {
    throw new Error(`bigintify: unsupported SSZ type ${type.constructor.name} ${type.typeName}`);
  }
  bigintCache.set(type, out);
  return out;
}

// ---------------------------------------------------------------------------------------------- constants
export const FORKS = ["PHASE0", "ALTAIR", "BELLATRIX", "CAPELLA", "DENEB", "ELECTRA", "FULU"];
const CONFIG_PREFIX = { PHASE0: "GENESIS", ALTAIR: "ALTAIR", BELLATRIX: "BELLATRIX", CAPELLA: "CAPELLA", DENEB: "DENEB", ELECTRA: "ELECTRA", FULU: "FULU" };

export const DOMAIN = {
  BEACON_PROPOSER: "0x00000000",
  BEACON_ATTESTER: "0x01000000",
  RANDAO: "0x02000000",
  DEPOSIT: "0x03000000",
  VOLUNTARY_EXIT: "0x04000000",
  SELECTION_PROOF: "0x05000000",
  AGGREGATE_AND_PROOF: "0x06000000",
  SYNC_COMMITTEE: "0x07000000",
  SYNC_COMMITTEE_SELECTION_PROOF: "0x08000000",
  CONTRIBUTION_AND_PROOF: "0x09000000",
  APPLICATION_BUILDER: "0x00000001",
};
export const ZERO_ROOT = "0x" + "00".repeat(32);

// ---------------------------------------------------------------------------------------------- loader
let loaded = null;

// Each preset is signed for one Cachet built-in network: minimal -> --network minimal, mainnet -> --network mainnet,
// gnosis -> --network gnosis (lodestar's own "gnosis" preset and its gnosisChainConfig, a copy of
// gnosischain/configs mainnet/config.yaml).
export const PRESETS = ["minimal", "mainnet", "gnosis"];

export async function loadReference(preset) {
  if (!PRESETS.includes(preset)) throw new Error(`preset must be ${PRESETS.join("|")}, got ${preset}`);
  if (loaded) {
    if (loaded.preset !== preset) throw new Error(`lodestar already loaded with preset ${loaded.preset}; use a new process`);
    return loaded;
  }
  process.env.LODESTAR_PRESET = preset;
  const params = await import("@lodestar/params");
  if (params.ACTIVE_PRESET !== preset) throw new Error(`@lodestar/params loaded preset ${params.ACTIVE_PRESET}, wanted ${preset}`);
  const { ssz } = await import("@lodestar/types");
  const { mainnetChainConfig, minimalChainConfig } = await import("@lodestar/config/configs");
  const { gnosisChainConfig } = await import("@lodestar/config/networks");
  const chainConfig = { minimal: minimalChainConfig, mainnet: mainnetChainConfig, gnosis: gnosisChainConfig }[preset];

  const versions = {};
  for (const f of FORKS) versions[f] = toHex(chainConfig[`${CONFIG_PREFIX[f]}_FORK_VERSION`]);
  const network = {
    name: preset, // Cachet: --network minimal | mainnet | gnosis
    preset,
    slotsPerEpoch: BigInt(params.SLOTS_PER_EPOCH),
    genesisForkVersion: versions.PHASE0,
    versions, // fork name -> version hex
    forkOfVersion: Object.fromEntries(FORKS.map((f) => [versions[f], f])),
    params: {
      SLOTS_PER_EPOCH: params.SLOTS_PER_EPOCH,
      MAX_VALIDATORS_PER_COMMITTEE: params.MAX_VALIDATORS_PER_COMMITTEE,
      MAX_COMMITTEES_PER_SLOT: params.MAX_COMMITTEES_PER_SLOT,
      SYNC_COMMITTEE_SIZE: params.SYNC_COMMITTEE_SIZE,
      SYNC_COMMITTEE_SUBNET_COUNT: params.SYNC_COMMITTEE_SUBNET_COUNT,
    },
  };

  const B = (t) => bigintify(t);
  const T = {
    Uint64: new UintBigintType(8),
    Root: ssz.Root,
    Fork: B(ssz.phase0.Fork),
    ForkData: B(ssz.phase0.ForkData),
    SigningData: B(ssz.phase0.SigningData),
    AttestationData: B(ssz.phase0.AttestationData),
    AggregateAndProofPhase0: B(ssz.phase0.AggregateAndProof),
    AggregateAndProofElectra: B(ssz.electra.AggregateAndProof),
    BeaconBlockPhase0: B(ssz.phase0.BeaconBlock),
    BeaconBlockAltair: B(ssz.altair.BeaconBlock),
    BeaconBlockHeader: B(ssz.phase0.BeaconBlockHeader),
    DepositMessage: B(ssz.phase0.DepositMessage),
    VoluntaryExit: B(ssz.phase0.VoluntaryExit),
    SyncAggregatorSelectionData: B(ssz.altair.SyncAggregatorSelectionData),
    ContributionAndProof: B(ssz.altair.ContributionAndProof),
    ValidatorRegistrationV1: B(ssz.bellatrix.ValidatorRegistrationV1),
  };
  // The same schemas as lodestar ships them (uint64 as JS number): used to prove the generated JSON parses
  // with lodestar's own types whenever every integer is <= 2^53-1.
  const N = {
    AttestationData: ssz.phase0.AttestationData,
    AggregateAndProofPhase0: ssz.phase0.AggregateAndProof,
    AggregateAndProofElectra: ssz.electra.AggregateAndProof,
    BeaconBlockPhase0: ssz.phase0.BeaconBlock,
    BeaconBlockAltair: ssz.altair.BeaconBlock,
    BeaconBlockHeader: ssz.phase0.BeaconBlockHeader,
    DepositMessage: ssz.phase0.DepositMessage,
    VoluntaryExit: ssz.phase0.VoluntaryExit,
    SyncAggregatorSelectionData: ssz.altair.SyncAggregatorSelectionData,
    ContributionAndProof: ssz.altair.ContributionAndProof,
    ValidatorRegistrationV1: ssz.bellatrix.ValidatorRegistrationV1,
    Fork: ssz.phase0.Fork,
  };

  const root = (type, value) => toHex(type.hashTreeRoot(value));

  // compute_domain(domain_type, fork_version, genesis_validators_root)
  function computeDomain(domainType, forkVersion, gvr) {
    const forkDataRoot = T.ForkData.hashTreeRoot({ currentVersion: fromHex(forkVersion), genesisValidatorsRoot: fromHex(gvr) });
    return toHex(new Uint8Array([...fromHex(domainType), ...forkDataRoot.subarray(0, 28)]));
  }
  function computeSigningRoot(objectRoot, domain) {
    return root(T.SigningData, { objectRoot: fromHex(objectRoot), domain: fromHex(domain) });
  }

  // get_domain with the request's fork_info: previous_version when epoch < fork.epoch, else current_version.
  function forkInfoDomain(req, domainType, epoch) {
    const fi = req.fork_info;
    if (!fi || !fi.fork) throw new Error(`${req.type}: fork_info missing`);
    const fork = T.Fork.fromJson(fi.fork);
    const version = epoch < fork.epoch ? fork.previousVersion : fork.currentVersion;
    return { domain: computeDomain(domainType, toHex(version), fi.genesis_validators_root), version: toHex(version) };
  }

  const epochAt = (slot) => slot / network.slotsPerEpoch;

  // The type-specific part: which SSZ object is signed, under which domain type, and which epoch picks the fork version.
  function describe(req) {
    switch (req.type) {
      case "AGGREGATION_SLOT": {
        const slot = T.Uint64.fromJson(req.aggregation_slot.slot);
        return { objectRoot: root(T.Uint64, slot), domainType: DOMAIN.SELECTION_PROOF, epoch: epochAt(slot) };
      }
      case "AGGREGATE_AND_PROOF":
      case "AGGREGATE_AND_PROOF_V2": {
        let type = T.AggregateAndProofPhase0;
        let json = req.aggregate_and_proof;
        if (req.type === "AGGREGATE_AND_PROOF_V2") {
          const v = json.version;
          if (!FORKS.includes(v)) throw new Error(`unknown aggregate_and_proof version ${v}`);
          type = v === "ELECTRA" || v === "FULU" ? T.AggregateAndProofElectra : T.AggregateAndProofPhase0;
          json = json.data;
        }
        const value = type.fromJson(json);
        return { objectRoot: root(type, value), domainType: DOMAIN.AGGREGATE_AND_PROOF, epoch: epochAt(value.aggregate.data.slot), ssz: { type, json } };
      }
      case "ATTESTATION": {
        const value = T.AttestationData.fromJson(req.attestation);
        return { objectRoot: root(T.AttestationData, value), domainType: DOMAIN.BEACON_ATTESTER, epoch: value.target.epoch, ssz: { type: T.AttestationData, json: req.attestation } };
      }
      case "BLOCK": {
        const value = T.BeaconBlockPhase0.fromJson(req.block);
        return { objectRoot: root(T.BeaconBlockPhase0, value), domainType: DOMAIN.BEACON_PROPOSER, epoch: epochAt(value.slot), ssz: { type: T.BeaconBlockPhase0, json: req.block } };
      }
      case "BLOCK_V2": {
        const bb = req.beacon_block;
        if (!FORKS.includes(bb.version)) throw new Error(`unknown beacon_block version ${bb.version}`);
        let type, json;
        if (bb.block_header) {
          type = T.BeaconBlockHeader;
          json = bb.block_header;
        } else if (bb.version === "PHASE0") {
          type = T.BeaconBlockPhase0;
          json = bb.block;
        } else if (bb.version === "ALTAIR") {
          type = T.BeaconBlockAltair;
          json = bb.block;
        } else {
          throw new Error(`BLOCK_V2 ${bb.version} needs block_header`);
        }
        const value = type.fromJson(json);
        // hash_tree_root(BeaconBlock) == hash_tree_root(BeaconBlockHeader with body_root = hash_tree_root(body))
        return { objectRoot: root(type, value), domainType: DOMAIN.BEACON_PROPOSER, epoch: epochAt(value.slot), ssz: { type, json } };
      }
      case "DEPOSIT": {
        const d = req.deposit;
        const msg = { pubkey: d.pubkey, withdrawal_credentials: d.withdrawal_credentials, amount: d.amount };
        const value = T.DepositMessage.fromJson(msg);
        return {
          objectRoot: root(T.DepositMessage, value),
          fixedDomain: computeDomain(DOMAIN.DEPOSIT, d.genesis_fork_version, ZERO_ROOT),
          ssz: { type: T.DepositMessage, json: msg },
        };
      }
      case "RANDAO_REVEAL": {
        const epoch = T.Uint64.fromJson(req.randao_reveal.epoch);
        return { objectRoot: root(T.Uint64, epoch), domainType: DOMAIN.RANDAO, epoch };
      }
      case "VOLUNTARY_EXIT": {
        const value = T.VoluntaryExit.fromJson(req.voluntary_exit);
        const out = { objectRoot: root(T.VoluntaryExit, value), domainType: DOMAIN.VOLUNTARY_EXIT, epoch: value.epoch, ssz: { type: T.VoluntaryExit, json: req.voluntary_exit } };
        // EIP-7044: from Deneb on, exits are always signed with CAPELLA_FORK_VERSION. "From Deneb on" = the
        // request's fork_info.fork.current_version is this network's DENEB/ELECTRA/FULU version.
        const cur = req.fork_info?.fork?.current_version?.toLowerCase();
        const curFork = network.forkOfVersion[cur];
        if (curFork && FORKS.indexOf(curFork) >= FORKS.indexOf("DENEB")) {
          out.fixedDomain = computeDomain(DOMAIN.VOLUNTARY_EXIT, network.versions.CAPELLA, req.fork_info.genesis_validators_root);
        }
        return out;
      }
      case "SYNC_COMMITTEE_MESSAGE": {
        const m = req.sync_committee_message;
        const slot = T.Uint64.fromJson(m.slot);
        return { objectRoot: root(T.Root, T.Root.fromJson(m.beacon_block_root)), domainType: DOMAIN.SYNC_COMMITTEE, epoch: epochAt(slot) };
      }
      case "SYNC_COMMITTEE_SELECTION_PROOF": {
        const value = T.SyncAggregatorSelectionData.fromJson(req.sync_aggregator_selection_data);
        return { objectRoot: root(T.SyncAggregatorSelectionData, value), domainType: DOMAIN.SYNC_COMMITTEE_SELECTION_PROOF, epoch: epochAt(value.slot), ssz: { type: T.SyncAggregatorSelectionData, json: req.sync_aggregator_selection_data } };
      }
      case "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF": {
        const value = T.ContributionAndProof.fromJson(req.contribution_and_proof);
        return { objectRoot: root(T.ContributionAndProof, value), domainType: DOMAIN.CONTRIBUTION_AND_PROOF, epoch: epochAt(value.contribution.slot), ssz: { type: T.ContributionAndProof, json: req.contribution_and_proof } };
      }
      case "VALIDATOR_REGISTRATION": {
        const value = T.ValidatorRegistrationV1.fromJson(req.validator_registration);
        return {
          objectRoot: root(T.ValidatorRegistrationV1, value),
          fixedDomain: computeDomain(DOMAIN.APPLICATION_BUILDER, network.genesisForkVersion, ZERO_ROOT),
          ssz: { type: T.ValidatorRegistrationV1, json: req.validator_registration },
        };
      }
      default:
        throw new Error(`unknown request type ${req.type}`);
    }
  }

  /** The signing root a Web3Signer-compatible signer must compute for an HTTP sign request body. */
  function signingRootOf(req) {
    const d = describe(req);
    let domain, version;
    if (d.fixedDomain) domain = d.fixedDomain;
    else ({ domain, version } = forkInfoDomain(req, d.domainType, d.epoch));
    return { object_root: d.objectRoot, domain, signing_root: computeSigningRoot(d.objectRoot, domain), fork_version: version, described: d };
  }

  loaded = { preset, network, ssz, T, N, params, chainConfig, computeDomain, computeSigningRoot, signingRootOf, describe, root };
  return loaded;
}

// ---------------------------------------------------------------------------------------------- keys
export function loadKeys() {
  return JSON.parse(readFileSync(join(HERE, "keys.json"), "utf8")).keys;
}

// Convert camelCase object keys to snake_case (some published examples use camelCase; a Web3Signer-compatible
// request is snake_case). Values are untouched.
export function snakeKeys(x) {
  if (Array.isArray(x)) return x.map(snakeKeys);
  if (x && typeof x === "object") {
    const o = {};
    for (const [k, v] of Object.entries(x)) o[k.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase())] = snakeKeys(v);
    return o;
  }
  return x;
}

// ---------------------------------------------------------------------------------------------- PRNG
// Deterministic: sfc32 seeded from sha256(seed), so the same --seed gives the same file on every machine.
export class Rng {
  constructor(seed) {
    const h = sha256(Buffer.from(`cachet-reference:${seed}`));
    const dv = new DataView(h.buffer);
    this.a = dv.getUint32(0);
    this.b = dv.getUint32(4);
    this.c = dv.getUint32(8);
    this.d = dv.getUint32(12);
    for (let i = 0; i < 20; i++) this.u32();
  }
  u32() {
    let { a, b, c, d } = this;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    Object.assign(this, { a, b, c, d });
    return t >>> 0;
  }
  /** integer in [0, n) for n <= 2^32 */
  int(n) {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  range(lo, hi) {
    return lo + this.int(hi - lo + 1);
  }
  bool(p = 0.5) {
    return this.u32() / 4294967296 < p;
  }
  pick(arr) {
    return arr[this.int(arr.length)];
  }
  u64raw() {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  /** uniform bigint in [0, n) */
  big(n) {
    if (n <= 0n) return 0n;
    return this.u64raw() % n; // modulo bias is irrelevant here
  }
  bytes(n) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

export const MAX_U64 = (1n << 64n) - 1n;

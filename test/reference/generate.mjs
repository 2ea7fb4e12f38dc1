#!/usr/bin/env node
// Generates random, valid Web3Signer sign requests with the signing root and BLS signature a correct signer returns.
//
//   node generate.mjs --preset minimal|mainnet|gnosis [--count N] [--seed S] [--out FILE] [--types T1,T2] [--quiet]
//
// Output: a JSON array of {pubkey, request, signing_root, signature, object_root, domain}; `request` is the exact
// body for POST /api/v1/eth2/sign/{pubkey}. Vectors cycle through every (type, fork) combination (see COMBOS), so
// any --count that is a multiple of COMBOS.length covers each one equally. Same --seed => byte-identical file.
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { bls12_381 } from "@noble/curves/bls12-381";
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
import { FORKS, MAX_U64, Rng, blsPubkey, blsSign, fromHex, loadKeys, loadReference, toHex } from "./lib.mjs";

// (type, fork) combinations. For AGGREGATE_AND_PROOF_V2 / BLOCK_V2 the fork is the payload `version`; for
// VOLUNTARY_EXIT it is the fork whose version is fork_info.current_version (EIP-7044 changes the domain from
// DENEB on); for the rest it is null and fork_info is drawn from all forks (ALTAIR+ for sync-committee types).
export const COMBOS = [
  ["AGGREGATION_SLOT", null],
  ["AGGREGATE_AND_PROOF", null],
  ...FORKS.map((f) => ["AGGREGATE_AND_PROOF_V2", f]),
  ["ATTESTATION", null],
  ["BLOCK", null],
  ...FORKS.map((f) => ["BLOCK_V2", f]),
  ["DEPOSIT", null],
  ["RANDAO_REVEAL", null],
  ...FORKS.map((f) => ["VOLUNTARY_EXIT", f]),
  ["SYNC_COMMITTEE_MESSAGE", null],
  ["SYNC_COMMITTEE_SELECTION_PROOF", null],
  ["SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF", null],
  ["VALIDATOR_REGISTRATION", null],
];

// Genesis fork versions of real networks, for DEPOSIT requests (which carry their own genesis_fork_version).
const KNOWN_GENESIS_VERSIONS = ["0x00000000", "0x00000001", "0x00001020", "0x90000069", "0x10000910", "0x01017000"];
const BLS_R = bls12_381.params.r;

function parseArgs(argv) {
  const a = { preset: "minimal", count: null, seed: "1", out: null, types: null, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${k} needs a value`);
      return argv[++i];
    };
    if (k === "--preset") a.preset = v();
    else if (k === "--count") a.count = Number.parseInt(v(), 10);
    else if (k === "--seed") a.seed = v();
    else if (k === "--out") a.out = v();
    else if (k === "--types") a.types = v().split(",");
    else if (k === "--quiet") a.quiet = true;
    else if (k === "--help" || k === "-h") {
      console.log("node generate.mjs --preset minimal|mainnet|gnosis [--count N] [--seed S] [--out FILE] [--types T1,T2] [--quiet]");
      process.exit(0);
    } else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

export async function generate({ preset, count, seed, types, stats }) {
  const R = await loadReference(preset);
  const { network, T } = R;
  const P = network.params;
  const SPE = network.slotsPerEpoch;
  const rng = new Rng(`${preset}:${seed}`);
  const keys = loadKeys();

  let combos = COMBOS;
  if (types) {
    combos = COMBOS.filter(([t, f]) => types.includes(t) || (f && types.includes(`${t}:${f}`)));
    if (!combos.length) throw new Error(`--types matched nothing; known: ${[...new Set(COMBOS.map((c) => c[0]))].join(",")}`);
  }
  if (count == null) count = 5 * combos.length;

  // ---- pools of valid BLS points (signatures and pubkeys inside messages are real G2/G1 points)
  const randSk = () => {
    let x = 0n;
    while (x === 0n) x = BigInt(toHex(rng.bytes(32))) % BLS_R;
    return fromHex("0x" + x.toString(16).padStart(64, "0"));
  };
  const pubPool = [];
  for (let i = 0; i < 6; i++) pubPool.push(blsPubkey(randSk()));
  const sigPool = [];
  for (let i = 0; i < 10; i++) sigPool.push(blsSign(randSk(), rng.bytes(32)));

  // ---- random primitives
  // In "small" vectors every uint64 is <= 2^53-1, so lodestar's own number-based JSON parser can check them too.
  let smallOnly = false;
  const u64 = () => {
    if (smallOnly) return rng.int(3) === 0 ? rng.big(1n << 16n) : rng.big(1n << 53n);
    const r = rng.int(100);
    if (r < 35) return rng.big(1n << 16n);
    if (r < 55) return rng.big(1n << 32n);
    if (r < 70) return rng.big(1n << 53n);
    if (r < 85) return rng.u64raw();
    if (r < 90) return MAX_U64;
    return MAX_U64 - rng.big(1000n);
  };
  const root32 = () => rng.bytes(32);
  const sig = () => fromHex(rng.pick(sigPool));
  const bitLen = (limit) => {
    const r = rng.int(100);
    if (r < 5) return 0;
    if (r < 12) return limit <= 16384 || rng.bool(0.3) ? limit : Math.min(limit, 16384);
    return 1 + rng.int(Math.min(limit, 300));
  };
  const bits = (len, density = rng.pick([0.05, 0.3, 0.5, 0.9, 1])) => {
    const ba = BitArray.fromBitLen(len);
    for (let i = 0; i < len; i++) if (rng.bool(density)) ba.set(i, true);
    return ba;
  };

  // Generic random value of any (bigintified) SSZ type; lists are kept short.
  function randValue(type) {
    if (type instanceof UintBigintType) return u64();
    if (type instanceof UintNumberType) return rng.int(2 ** Math.min(32, 8 * type.byteLength));
    if (type instanceof BooleanType) return rng.bool();
    if (type instanceof ByteVectorType) {
      if (type.lengthBytes === 96) return sig();
      if (type.lengthBytes === 48) return fromHex(rng.pick(pubPool));
      return rng.bytes(type.lengthBytes);
    }
    if (type instanceof ByteListType) return rng.bytes(rng.int(Math.min(type.limitBytes, 32) + 1));
    if (type instanceof BitListType) return bits(bitLen(type.limitBits));
    if (type instanceof BitVectorType) return bits(type.lengthBits);
    if (type instanceof ContainerType) {
      const o = {};
      for (const [name, ft] of Object.entries(type.fields)) o[name] = randValue(ft);
      return o;
    }
    if (type instanceof ListCompositeType) return Array.from({ length: rng.int(Math.min(type.limit, 2) + 1) }, () => randValue(type.elementType));
    if (type instanceof ListBasicType) return Array.from({ length: rng.int(Math.min(type.limit, 8) + 1) }, () => randValue(type.elementType));
    if (type instanceof VectorCompositeType || type instanceof VectorBasicType) return Array.from({ length: type.length }, () => randValue(type.elementType));
    throw new Error(`randValue: ${type.constructor.name}`);
  }

  // ---- fork_info
  // Given the epoch that selects the fork version, choose fork.epoch so that the message is sometimes before the
  // fork (previous_version applies), exactly at it, or after it (current_version applies).
  function forkEpochFor(epoch) {
    const mode = rng.pick(["before", "before", "at", "after", "after"]);
    if (mode === "before" && epoch < MAX_U64) {
      const room = MAX_U64 - epoch; // >= 1
      const d = rng.bool(0.5) ? 1n : 1n + rng.big(room < 1000n ? room : rng.bool(0.8) ? 1000n : room);
      return { forkEpoch: epoch + (d > room ? room : d), relation: "before" };
    }
    if (mode === "after" && epoch > 0n) {
      const d = rng.bool(0.4) ? 1n : 1n + rng.big(epoch < 1000n ? epoch : rng.bool(0.8) ? 1000n : epoch);
      return { forkEpoch: epoch - (d > epoch ? epoch : d), relation: "after" };
    }
    return { forkEpoch: epoch, relation: "at" };
  }
  // Slot + fork.epoch, with extra weight on the last slot before / first slot of the fork epoch.
  function slotAndFork() {
    let slot = u64();
    let epoch = slot / SPE;
    const r = rng.int(10);
    if (r === 0 && epoch * SPE + SPE - 1n <= MAX_U64 && epoch < MAX_U64) {
      slot = epoch * SPE + SPE - 1n; // last slot of the epoch before the fork
      return { slot, forkEpoch: epoch + 1n, relation: "before" };
    }
    if (r === 1) {
      slot = epoch * SPE; // first slot of the fork epoch
      return { slot, forkEpoch: epoch, relation: "at" };
    }
    return { slot, ...forkEpochFor(epoch) };
  }
  function forkInfo(forkName, forkEpoch) {
    const i = FORKS.indexOf(forkName);
    const fork = {
      previousVersion: fromHex(network.versions[FORKS[Math.max(0, i - 1)]]),
      currentVersion: fromHex(network.versions[forkName]),
      epoch: forkEpoch,
    };
    return { fork: T.Fork.toJson(fork), genesis_validators_root: toHex(root32()) };
  }
  const anyFork = () => rng.pick(FORKS);
  const altairPlusFork = () => rng.pick(FORKS.slice(1));

  // ---- message builders (values in lodestar's camelCase value form; JSON via the SSZ types' toJson)
  function attestationData(slot, { electra = false } = {}) {
    const target = rng.bool(0.9) ? slot / SPE : u64();
    const source = target === 0n || rng.bool(0.2) ? (rng.bool(0.5) ? 0n : target) : target - 1n - rng.big(target < 4n ? target : 4n);
    return {
      slot,
      index: electra ? 0n : BigInt(rng.int(P.MAX_COMMITTEES_PER_SLOT)),
      beaconBlockRoot: root32(),
      source: { epoch: source, root: root32() },
      target: { epoch: target, root: root32() },
    };
  }
  function aggregateAndProof(slot, electra) {
    const limit = electra ? P.MAX_VALIDATORS_PER_COMMITTEE * P.MAX_COMMITTEES_PER_SLOT : P.MAX_VALIDATORS_PER_COMMITTEE;
    const aggregate = {
      aggregationBits: bits(electra && rng.bool(0.2) ? limit : bitLen(limit)), // Electra: sometimes the full 131072/8192-bit list
      data: attestationData(slot, { electra }),
      signature: sig(),
    };
    if (electra) {
      const cb = BitArray.fromBitLen(P.MAX_COMMITTEES_PER_SLOT);
      cb.set(rng.int(P.MAX_COMMITTEES_PER_SLOT), true);
      if (rng.bool(0.2)) cb.set(rng.int(P.MAX_COMMITTEES_PER_SLOT), true);
      aggregate.committeeBits = cb;
    }
    return { aggregatorIndex: u64(), aggregate, selectionProof: sig() };
  }
  function fullBlock(type, slot) {
    const b = randValue(type);
    b.slot = slot;
    const body = b.body;
    body.graffiti = rng.bool(0.5) ? rng.bytes(32) : new Uint8Array(32);
    body.deposits = body.deposits.slice(0, 1);
    body.attestations = Array.from({ length: rng.int(4) }, () => {
      const s = slot > 0n && rng.bool(0.8) ? slot - 1n : slot;
      return { aggregationBits: bits(bitLen(P.MAX_VALIDATORS_PER_COMMITTEE)), data: attestationData(s), signature: sig() };
    });
    return b;
  }

  function build(type, forkSel, key) {
    switch (type) {
      case "AGGREGATION_SLOT": {
        const { slot, forkEpoch } = slotAndFork();
        return { type, fork_info: forkInfo(anyFork(), forkEpoch), aggregation_slot: { slot: T.Uint64.toJson(slot) } };
      }
      case "AGGREGATE_AND_PROOF": {
        const { slot, forkEpoch } = slotAndFork();
        return { type, fork_info: forkInfo(anyFork(), forkEpoch), aggregate_and_proof: T.AggregateAndProofPhase0.toJson(aggregateAndProof(slot, false)) };
      }
      case "AGGREGATE_AND_PROOF_V2": {
        const { slot, forkEpoch } = slotAndFork();
        const electra = forkSel === "ELECTRA" || forkSel === "FULU";
        const t = electra ? T.AggregateAndProofElectra : T.AggregateAndProofPhase0;
        return { type, fork_info: forkInfo(forkSel, forkEpoch), aggregate_and_proof: { version: forkSel, data: t.toJson(aggregateAndProof(slot, electra)) } };
      }
      case "ATTESTATION": {
        const { slot, forkEpoch } = slotAndFork();
        const data = attestationData(slot);
        // fork selection uses target.epoch: re-anchor fork.epoch on it when the target is not the slot's epoch
        const fe = data.target.epoch === slot / SPE ? forkEpoch : forkEpochFor(data.target.epoch).forkEpoch;
        return { type, fork_info: forkInfo(anyFork(), fe), attestation: T.AttestationData.toJson(data) };
      }
      case "BLOCK": {
        const { slot, forkEpoch } = slotAndFork();
        return { type, fork_info: forkInfo(anyFork(), forkEpoch), block: T.BeaconBlockPhase0.toJson(fullBlock(T.BeaconBlockPhase0, slot)) };
      }
      case "BLOCK_V2": {
        const { slot, forkEpoch } = slotAndFork();
        let beacon_block;
        if (forkSel === "PHASE0") beacon_block = { version: forkSel, block: T.BeaconBlockPhase0.toJson(fullBlock(T.BeaconBlockPhase0, slot)) };
        else if (forkSel === "ALTAIR") beacon_block = { version: forkSel, block: T.BeaconBlockAltair.toJson(fullBlock(T.BeaconBlockAltair, slot)) };
        else {
          const header = { slot, proposerIndex: u64(), parentRoot: root32(), stateRoot: root32(), bodyRoot: root32() };
          beacon_block = { version: forkSel, block_header: T.BeaconBlockHeader.toJson(header) };
        }
        return { type, fork_info: forkInfo(forkSel, forkEpoch), beacon_block };
      }
      case "DEPOSIT": {
        const prefix = rng.pick([0x00, 0x01, 0x02]);
        const wc = rng.bytes(32);
        wc[0] = prefix;
        if (prefix !== 0x00) wc.fill(0, 1, 12); // 0x01/0x02: 11 zero bytes + execution address
        const msg = {
          pubkey: fromHex(rng.bool(0.9) ? key.pubkey : rng.pick(pubPool)),
          withdrawalCredentials: wc,
          amount: rng.bool(0.5) ? 32000000000n : rng.bool(0.5) ? 1000000000n * BigInt(1 + rng.int(2048)) : u64(),
        };
        const gfv = rng.bool(0.6) ? network.genesisForkVersion : rng.bool(0.8) ? rng.pick(KNOWN_GENESIS_VERSIONS) : toHex(rng.bytes(4));
        return { type, deposit: { ...T.DepositMessage.toJson(msg), genesis_fork_version: gfv } };
      }
      case "RANDAO_REVEAL": {
        const epoch = u64();
        return { type, fork_info: forkInfo(anyFork(), forkEpochFor(epoch).forkEpoch), randao_reveal: { epoch: T.Uint64.toJson(epoch) } };
      }
      case "VOLUNTARY_EXIT": {
        const exit = { epoch: u64(), validatorIndex: u64() };
        return { type, fork_info: forkInfo(forkSel, forkEpochFor(exit.epoch).forkEpoch), voluntary_exit: T.VoluntaryExit.toJson(exit) };
      }
      case "SYNC_COMMITTEE_MESSAGE": {
        const { slot, forkEpoch } = slotAndFork();
        return {
          type,
          fork_info: forkInfo(altairPlusFork(), forkEpoch),
          sync_committee_message: { beacon_block_root: toHex(root32()), slot: T.Uint64.toJson(slot) },
        };
      }
      case "SYNC_COMMITTEE_SELECTION_PROOF": {
        const { slot, forkEpoch } = slotAndFork();
        const data = { slot, subcommitteeIndex: BigInt(rng.int(P.SYNC_COMMITTEE_SUBNET_COUNT)) };
        return { type, fork_info: forkInfo(altairPlusFork(), forkEpoch), sync_aggregator_selection_data: T.SyncAggregatorSelectionData.toJson(data) };
      }
      case "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF": {
        const { slot, forkEpoch } = slotAndFork();
        const cp = {
          aggregatorIndex: u64(),
          contribution: {
            slot,
            beaconBlockRoot: root32(),
            subcommitteeIndex: BigInt(rng.int(P.SYNC_COMMITTEE_SUBNET_COUNT)),
            aggregationBits: bits(P.SYNC_COMMITTEE_SIZE / P.SYNC_COMMITTEE_SUBNET_COUNT),
            signature: sig(),
          },
          selectionProof: sig(),
        };
        return { type, fork_info: forkInfo(altairPlusFork(), forkEpoch), contribution_and_proof: T.ContributionAndProof.toJson(cp) };
      }
      case "VALIDATOR_REGISTRATION": {
        const reg = {
          feeRecipient: rng.bytes(20),
          gasLimit: rng.bool(0.5) ? rng.pick([30000000n, 36000000n, 45000000n, 60000000n]) : u64(),
          timestamp: rng.bool(0.5) ? 1606824023n + rng.big(200000000n) : u64(),
          pubkey: fromHex(rng.bool(0.9) ? key.pubkey : rng.pick(pubPool)),
        };
        const json = T.ValidatorRegistrationV1.toJson(reg);
        // lodestar renders the address EIP-55 checksummed (mixed case); other clients send lower case. Send both.
        if (rng.bool(0.5)) json.fee_recipient = json.fee_recipient.toLowerCase();
        return { type, validator_registration: json };
      }
      default:
        throw new Error(`no builder for ${type}`);
    }
  }

  const nativeOf = new Map(Object.keys(R.N).map((k) => [R.T[k], R.N[k]]));
  const out = [];
  for (let n = 0; n < count; n++) {
    const [type, forkSel] = combos[n % combos.length];
    const key = rng.pick(keys);
    smallOnly = rng.bool(0.35);
    const request = build(type, forkSel, key);
    // A fresh parse of the serialized body is what the signer sees.
    const body = JSON.parse(JSON.stringify(request));
    const r = R.signingRootOf(body);

    // The payload must parse with lodestar's own (number-based) type too, unless a uint64 exceeds 2^53-1,
    // which lodestar's JSON parser refuses by design; either way the bigint parse must round-trip exactly.
    const d = r.described;
    if (d.ssz) {
      const again = d.ssz.type.toJson(d.ssz.type.fromJson(d.ssz.json));
      if (JSON.stringify(again).toLowerCase() !== JSON.stringify(d.ssz.json).toLowerCase()) throw new Error(`${type}: JSON does not round-trip`);
      const native = nativeOf.get(d.ssz.type);
      try {
        const nr = toHex(native.hashTreeRoot(native.fromJson(d.ssz.json)));
        if (nr !== d.objectRoot) throw new Error(`${type}: lodestar native root ${nr} != ${d.objectRoot}`);
        if (stats) stats.nativeChecked++;
      } catch (e) {
        if (!/MAX_SAFE_INTEGER/.test(e.message)) throw e;
        if (stats) stats.nativeSkippedBig++;
      }
    }
    if (stats) {
      const label = forkSel ? `${type}:${forkSel}` : type;
      stats.perCombo[label] = (stats.perCombo[label] ?? 0) + 1;
      if (body.fork_info && d.epoch !== undefined) {
        const f = body.fork_info.fork;
        if (f.previous_version !== f.current_version && !d.fixedDomain) {
          const which = d.epoch < BigInt(f.epoch) ? "previous" : "current";
          stats.versionUsed[which] = (stats.versionUsed[which] ?? 0) + 1;
        }
      }
    }
    const signature = blsSign(key.privkey, r.signing_root);
    out.push({ pubkey: key.pubkey, request, signing_root: r.signing_root, signature, object_root: r.object_root, domain: r.domain });
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const stats = { perCombo: {}, versionUsed: {}, nativeChecked: 0, nativeSkippedBig: 0 };
  const vectors = await generate({ ...args, stats });
  const text = JSON.stringify(vectors, null, 1) + "\n";
  if (args.out) writeFileSync(args.out, text);
  else process.stdout.write(text);
  if (!args.quiet) {
    console.error(
      `generated ${vectors.length} vectors (preset ${args.preset}, seed ${args.seed}) in ${Date.now() - t0} ms; ` +
        `fork_info version used (prev != cur): ${JSON.stringify(stats.versionUsed)}; ` +
        `lodestar-native parse checked ${stats.nativeChecked}, skipped (uint64 > 2^53) ${stats.nativeSkippedBig}`,
    );
  }
}

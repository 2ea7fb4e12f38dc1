// Independent verifier for Cachet's Commit-Boost signer API tests. Shares no code with Cachet: SSZ from
// @chainsafe/ssz, BLS and secp256k1 from @noble/curves, Keccak-256 from @noble/hashes.
//
//   node verify_commit_boost.mjs FILE.json
//
// FILE: {"genesis_fork_version": "0x…", "items": [
//   {"kind": "bls", "pubkey": "0x…", "object_root": "0x…", "signature": "0x…"},          consensus or BLS proxy
//   {"kind": "ecdsa", "address": "0x…", "object_root": "0x…", "signature": "0x…"},        ECDSA proxy (recovers)
//   {"kind": "delegation", "delegator": "0x…", "proxy": "0x…", "signature": "0x…"}]}     ProxyDelegation
// Checks every item against the signing root it computes itself (Commit-Boost's domain: 0x6d6d6f43 and the first
// 28 bytes of ForkData(genesis_fork_version, zero root)); prints one line per failure, then "N passed, M failed";
// exits 1 when any failed.
import { readFileSync } from "node:fs";
import { ByteVectorType, ContainerType } from "@chainsafe/ssz";
import { bls12_381 } from "@noble/curves/bls12-381";
import { secp256k1 } from "@noble/curves/secp256k1";
import { keccak_256 } from "@noble/hashes/sha3";

const Bytes4 = new ByteVectorType(4);
const Bytes32 = new ByteVectorType(32);
const Bytes48 = new ByteVectorType(48);
const Bytes20 = new ByteVectorType(20);
const ForkData = new ContainerType({ currentVersion: Bytes4, genesisValidatorsRoot: Bytes32 });
const SigningData = new ContainerType({ objectRoot: Bytes32, domain: Bytes32 });
const BlsDelegation = new ContainerType({ delegator: Bytes48, proxy: Bytes48 });
const EcdsaDelegation = new ContainerType({ delegator: Bytes48, proxy: Bytes20 });

const hex = (s) => Uint8Array.from(Buffer.from(s.replace(/^0x/, ""), "hex"));
const toHex = (b) => "0x" + Buffer.from(b).toString("hex");

export function commitBoostDomain(genesisForkVersion) {
  const forkDataRoot = ForkData.hashTreeRoot({
    currentVersion: hex(genesisForkVersion),
    genesisValidatorsRoot: new Uint8Array(32),
  });
  const domain = new Uint8Array(32);
  domain.set([0x6d, 0x6d, 0x6f, 0x43]);
  domain.set(forkDataRoot.subarray(0, 28), 4);
  return domain;
}

export function signingRoot(objectRoot, domain) {
  return SigningData.hashTreeRoot({ objectRoot, domain });
}

export function delegationRoot(delegator, proxy) {
  const p = hex(proxy);
  const type = p.length === 48 ? BlsDelegation : EcdsaDelegation;
  return type.hashTreeRoot({ delegator: hex(delegator), proxy: p });
}

// Ethereum's proof-of-possession ciphersuite; @noble/curves 1.9 defaults to the _NUL_ DST, which would not verify.
const POP_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

export function blsValid(pubkey, root, signature) {
  try {
    return bls12_381.verify(hex(signature), root, hex(pubkey), { DST: POP_DST });
  } catch {
    return false;
  }
}

export function ecdsaSigner(root, signature) {
  const sig = hex(signature);
  if (sig.length !== 65 || (sig[64] !== 27 && sig[64] !== 28)) return null;
  const s = secp256k1.Signature.fromCompact(sig.subarray(0, 64)).addRecoveryBit(sig[64] - 27);
  if (s.hasHighS()) return null;  // Ethereum signatures are low-s
  const point = s.recoverPublicKey(root);
  const uncompressed = point.toRawBytes(false);
  return toHex(keccak_256(uncompressed.subarray(1)).subarray(12));
}

function check(item, domain) {
  switch (item.kind) {
    case "bls":
      return blsValid(item.pubkey, signingRoot(hex(item.object_root), domain), item.signature);
    case "ecdsa":
      return ecdsaSigner(signingRoot(hex(item.object_root), domain), item.signature) === item.address.toLowerCase();
    case "delegation":
      return blsValid(item.delegator, signingRoot(delegationRoot(item.delegator, item.proxy), domain), item.signature);
    default:
      return false;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
  const domain = commitBoostDomain(input.genesis_fork_version);
  let passed = 0, failed = 0;
  for (const item of input.items) {
    if (check(item, domain)) {
      ++passed;
    } else {
      ++failed;
      console.log("FAILED", JSON.stringify(item));
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

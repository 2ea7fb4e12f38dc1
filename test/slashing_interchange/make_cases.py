#!/usr/bin/env python3
"""Writes cases/*.json (EIP-3076 interchange test files in the public format) and must_fail/*.json.

Every expectation below is written by hand, and then checked against a small independent model of the rules
(Model, below) in both strategies, so that a slip in either shows up here instead of as a confusing runner
failure. Run it from anywhere: `python3 test/slashing_interchange/make_cases.py` (or `--check` to only verify
that the committed files are what this script writes).

The model, in which every expectation must hold whichever way an implementation reads the rules:
- complete (`should_succeed_complete`): every imported record is kept with its root; blocks at a slot <= the
  smallest imported slot, attestations with a source < the smallest imported source or a target <= the smallest
  imported target are refused (EIP-3076's import conditions), except an exact repeat (same slot and root; same
  source, target and root) of an imported record. Over several imports the smallest values are taken over all
  of them (the public suite's complete expectations, `multiple_interchanges_single_validator_single_message_gap`)
  or per import, the largest of those (EIP-3076's conditions read one import at a time): our cases hold under
  both readings. Own signings are kept with their roots.
- minimal (`should_succeed`): every import is minified first (one block at the largest slot, one attestation at
  the largest source and largest target, no roots) and the watermarks only rise (Lighthouse, whose generator
  writes the public suite); own signings are kept as in the complete strategy.
- the minified run of a complete implementation (the runner's second run): every variant above fed minified
  imports must sign what should_succeed signs and refuse what should_succeed_complete refuses.
- contains_slashable_data: slashable with respect to itself or the database, or older than what the database
  holds for that key (a block at a lower slot, an attestation with a lower source or target), as the public
  suite marks it. Such an interchange may be imported in full, per key minified, all minified, or refused; the
  checks after it must come out the same in every case.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Interop keys 0, 1, 2 (../../../shared/specs/bls/interop_keys_0_63.json).
K = [
    "0xa99a76ed7796f7be22d5b7e85deeb7c5677e88e511e0b337618f8c4eb61349b4bf2d153f649f7b53359fe8b94a38e44c",
    "0xb89bebc699769726a318c8e9971bd3171297c61aea4a6578a7a4f94b547dcba5bac16a89108b6b6a1fe3695d1a874a0b",
    "0xa3a32b0f8b4ddb83f1a0a853d81dd725dfe577d4f4c3db8ece52ce2b026eca84815c1a7e8e92a4de3d755733bf7e4a9b",
]
ZERO_GVR = "0x" + "00" * 32
MAINNET_GVR = "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95"
U64_MAX = 2**64 - 1
T, F = True, False


def root(n):
    """Synthetic signing root: 24 zero bytes and n as a big-endian u64."""
    return "0x" + "00" * 24 + format(n, "016x")


# ---------------------------------------------------------------------------------------------------------------
# Building the files


def entry(key, blocks=(), atts=()):
    """One `data` entry: blocks are slot or (slot, root number); attestations (source, target[, root number])."""
    out = {"pubkey": K[key], "signed_blocks": [], "signed_attestations": []}
    for b in blocks:
        slot, r = (b, None) if isinstance(b, int) else b
        rec = {"slot": str(slot)}
        if r is not None:
            rec["signing_root"] = root(r)
        out["signed_blocks"].append(rec)
    for a in atts:
        s, t, r = a if len(a) == 3 else (a[0], a[1], None)
        rec = {"source_epoch": str(s), "target_epoch": str(t)}
        if r is not None:
            rec["signing_root"] = root(r)
        out["signed_attestations"].append(rec)
    return out


def step(data=(), blocks=(), atts=(), gvr=None, should_succeed=True, slashable=False, version="5", raw=None):
    """blocks: (key, slot, root, should_succeed, should_succeed_complete);
    atts: (key, source, target, root, should_succeed, should_succeed_complete)."""
    return {
        "data": list(data), "blocks": list(blocks), "atts": list(atts), "gvr": gvr,
        "should_succeed": should_succeed, "slashable": slashable, "version": version, "raw": raw,
    }


def to_json(name, gvr, steps):
    out_steps = []
    for st in steps:
        interchange = st["raw"] or {
            "metadata": {"interchange_format_version": st["version"], "genesis_validators_root": st["gvr"] or gvr},
            "data": st["data"],
        }
        out_steps.append({
            "should_succeed": st["should_succeed"],
            "contains_slashable_data": st["slashable"],
            "interchange": interchange,
            "blocks": [{"pubkey": K[k], "slot": str(slot), "signing_root": root(r), "should_succeed": ss,
                        "should_succeed_complete": ssc} for (k, slot, r, ss, ssc) in st["blocks"]],
            "attestations": [{"pubkey": K[k], "source_epoch": str(s), "target_epoch": str(t),
                              "signing_root": root(r), "should_succeed": ss, "should_succeed_complete": ssc}
                             for (k, s, t, r, ss, ssc) in st["atts"]],
        })
    return {"name": name, "genesis_validators_root": gvr, "steps": out_steps}


# ---------------------------------------------------------------------------------------------------------------
# The model


class Ambiguous(Exception):
    pass


class Validator:
    def __init__(self):
        self.blocks = []  # (slot, root or None, origin)
        self.atts = []  # (source, target, root or None, origin)
        self.block_lb = self.src_lb = self.tgt_lb = None  # (value, origin)


def parse_data(data):
    """Merges the entries of each key: {key: (blocks [(slot, root)], atts [(s, t, root)])}, duplicates kept."""
    out = {}
    for e in data:
        blocks, atts = out.setdefault(e["pubkey"], ([], []))
        for b in e["signed_blocks"]:
            blocks.append((int(b["slot"]), b.get("signing_root")))
        for a in e["signed_attestations"]:
            atts.append((int(a["source_epoch"]), int(a["target_epoch"]), a.get("signing_root")))
    return out


def minify(blocks, atts):
    b = [(max(s for s, _ in blocks), None)] if blocks else []
    a = [(max(s for s, _, _ in atts), max(t for _, t, _ in atts), None)] if atts else []
    return b, a


def same_message(r1, r2):
    return r1 is not None and r1 == r2


def blocks_slashable(blocks):
    for i, (s1, r1) in enumerate(blocks):
        for s2, r2 in blocks[i + 1:]:
            if s1 == s2 and not same_message(r1, r2):
                return True
    return False


def atts_slashable(atts):
    for i, (s1, t1, r1) in enumerate(atts):
        if s1 > t1:
            return True
        for s2, t2, r2 in atts[i + 1:]:
            if t1 == t2 and not (s1 == s2 and same_message(r1, r2)):
                return True
            if (s1 < s2 and t1 > t2) or (s2 < s1 and t2 > t1):
                return True
    return False


class Model:
    """policy: what an implementation does with a slashable import: "full", "minify_key", "minify_all";
    bounds: how the import bounds of several imports combine: "union" (smallest over all), "raise" (largest)."""

    def __init__(self, minimal, policy, bounds):
        self.minimal, self.policy, self.vals = minimal, policy, {}
        self.bound = lower_bound if bounds == "union" else raise_bound

    def v(self, key):
        return self.vals.setdefault(key, Validator())

    def slashable(self, data):
        for key, (blocks, atts) in data.items():
            v = self.vals.get(key, Validator())
            if blocks_slashable(blocks + [(s, r) for s, r, _ in v.blocks]):
                return True
            if atts_slashable(atts + [(s, t, r) for s, t, r, _ in v.atts]):
                return True
            if v.blocks and any(s < max(b[0] for b in v.blocks) for s, _ in blocks):
                return True
            if v.atts and any(s < max(a[0] for a in v.atts) or t < max(a[1] for a in v.atts) for s, t, _ in atts):
                return True
        return False

    def do_import(self, data, origin):
        """Returns whether the imported data is slashable (as the model sees it in this strategy)."""
        if self.minimal:
            data = {k: minify(*d) for k, d in data.items()}
        slashable = self.slashable(data)
        if slashable and self.policy == "minify_all":
            data = {k: minify(*d) for k, d in data.items()}
        for key, (blocks, atts) in data.items():
            if slashable and self.policy == "minify_key":
                if blocks_slashable(blocks) or atts_slashable(atts) or self.slashable({key: (blocks, atts)}):
                    blocks, atts = minify(blocks, atts)
            v = self.v(key)
            for s, r in blocks:
                if not any(s == s2 and same_message(r, r2) for s2, r2, _ in v.blocks):
                    v.blocks.append((s, r, origin))
            for s, t, r in atts:
                if not any(s == s2 and t == t2 and same_message(r, r2) for s2, t2, r2, _ in v.atts):
                    v.atts.append((s, t, r, origin))
            if blocks:
                v.block_lb = self.bound(v.block_lb, min(s for s, _ in blocks), origin)
            if atts:
                v.src_lb = self.bound(v.src_lb, min(s for s, _, _ in atts), origin)
                v.tgt_lb = self.bound(v.tgt_lb, min(t for _, t, _ in atts), origin)
        return slashable

    def block(self, key, slot, r):
        v = self.v(key)
        same = [b for b in v.blocks if b[0] == slot]
        if same:
            if all(same_message(r, b[1]) for b in same):
                if v.block_lb and slot <= v.block_lb[0] and any(b[2] != v.block_lb[1] for b in same):
                    raise Ambiguous(f"repeat of block {slot} below a later import's bound")
                return True
            return False
        if v.block_lb and slot <= v.block_lb[0]:
            return False
        v.blocks.append((slot, r, "local"))
        return True

    def att(self, key, s, t, r):
        v = self.v(key)
        if s > t:
            return False
        same = [a for a in v.atts if a[1] == t]
        if same:
            if all(a[0] == s and same_message(r, a[2]) for a in same):
                below = [lb for lb, hit in ((v.src_lb, v.src_lb and s < v.src_lb[0]),
                                            (v.tgt_lb, v.tgt_lb and t <= v.tgt_lb[0])) if hit]
                if any(a[3] != lb[1] for lb in below for a in same):
                    raise Ambiguous(f"repeat of attestation {s}->{t} below a later import's bound")
                return True
            return False
        if (v.src_lb and s < v.src_lb[0]) or (v.tgt_lb and t <= v.tgt_lb[0]):
            return False
        if any((s < a[0] and t > a[1]) or (s > a[0] and t < a[1]) for a in v.atts):
            return False
        v.atts.append((s, t, r, "local"))
        return True


def raise_bound(bound, value, origin):
    return (value, origin) if bound is None or value > bound[0] else bound


def lower_bound(bound, value, origin):
    return (value, origin) if bound is None or value < bound[0] else bound


def run_model(name, gvr, steps, minimal, policy, bounds):
    """The outcome of every check, in order, or a list that stops where the test ends."""
    m, outcomes = Model(minimal, policy, bounds), []
    for i, st in enumerate(steps):
        interchange_gvr = st["gvr"] or gvr
        valid = st["raw"] is None and st["version"] == "5" and interchange_gvr == gvr
        if not valid:
            assert not st["should_succeed"], f"{name}: step {i} cannot be imported"
            return outcomes
        assert st["should_succeed"], f"{name}: step {i} imports fine"
        slashable = m.do_import(parse_data(st["data"]), i)
        # contains_slashable_data describes the interchange as written (a minified import at the same slot as
        # an earlier minified one is the normal case for a minimal database, not slashable data).
        if not minimal and slashable != st["slashable"]:
            raise AssertionError(f"{name}: step {i} contains_slashable_data should be {slashable}")
        for k, slot, r, _, _ in st["blocks"]:
            outcomes.append(m.block(K[k], slot, root(r)))
        for k, s, t, r, _, _ in st["atts"]:
            outcomes.append(m.att(K[k], s, t, root(r)))
    return outcomes


def check_case(name, gvr, steps):
    declared = {"minimal": [], "complete": []}
    for st in steps:
        for *_, ss, ssc in st["blocks"] + st["atts"]:
            declared["minimal"].append(ss)
            declared["complete"].append(ssc)
            assert ssc or not ss, f"{name}: should_succeed without should_succeed_complete"
    try:
        # The complete run: every reading of the rules must give should_succeed_complete.
        complete = [run_model(name, gvr, steps, False, p, b)
                    for p in ("full", "minify_key", "minify_all") for b in ("union", "raise")]
        # should_succeed: minified imports, rising watermarks (Lighthouse).
        minimal = run_model(name, gvr, steps, True, "full", "raise")
        # The minified run of a complete implementation: whatever it does must lie between the two.
        minified = [run_model(name, gvr, steps, True, p, b)
                    for p in ("full", "minify_key", "minify_all") for b in ("union", "raise")]
    except Ambiguous as e:
        raise AssertionError(f"{name}: {e}")
    if any(c != complete[0] for c in complete):
        raise AssertionError(f"{name}: the complete checks depend on how the rules are read: {complete}")
    for label, got in (("minimal", minimal), ("complete", complete[0])):
        want = declared[label][:len(got)]
        if got != want:
            bad = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
            raise AssertionError(f"{name}: {label} expectations differ from the model at checks {bad}")
        assert len(got) == len(declared[label]), f"{name}: checks after a failing import"
    for got in minified:
        for i, (g, ss, ssc) in enumerate(zip(got, declared["minimal"], declared["complete"])):
            if (ss and not g) or (g and not ssc):
                raise AssertionError(f"{name}: check {i} of the minified run can come out {g}")


# ---------------------------------------------------------------------------------------------------------------
# The cases. (key, slot, root, should_succeed, should_succeed_complete) and
# (key, source, target, root, should_succeed, should_succeed_complete).

CASES = []


def case(name, steps, gvr=ZERO_GVR, compact=False):
    CASES.append((name, gvr, steps, compact))


# Fresh database: no history at all.
case("fresh_db_single_block", [step(blocks=[(0, 10, 1, T, T)])])
case("fresh_db_single_attestation", [step(atts=[(0, 3, 4, 1, T, T)])])
# The same case written as minified JSON: the loader must not care about white space.
case("fresh_db_compact_json", [step(blocks=[(0, 1, 1, T, T)], atts=[(0, 0, 1, 2, T, T)])], compact=True)
case("fresh_db_genesis_vote_source_equals_target", [step(atts=[
    (0, 0, 0, 1, T, T),
    (0, 0, 0, 2, F, F),  # double vote on target 0
    (0, 0, 1, 3, T, T),
    (0, 5, 5, 4, T, T),  # source == target later on is fine too
])])
case("source_greater_than_target_refused", [step(atts=[
    (0, 5, 4, 1, F, F),
    (0, 1, 0, 2, F, F),
    (0, 4, 5, 3, T, T),
    (0, 6, 5, 4, F, F),
])])

# Re-signing the very same message: own history (the complete strategy and Lighthouse's full own history both
# allow it; see README.md) and imported history with roots (only the complete strategy keeps roots of imports).
case("resign_block_own_history", [step(blocks=[
    (0, 10, 1, T, T),
    (0, 10, 1, T, T),
    (0, 10, 2, F, F),
    (0, 10, 0, F, F),
    (0, 10, 1, T, T),
])])
case("resign_attestation_own_history", [step(atts=[
    (0, 3, 4, 1, T, T),
    (0, 3, 4, 1, T, T),
    (0, 3, 4, 2, F, F),
    (0, 2, 4, 1, F, F),  # same target and root but another source: not the same message
    (0, 3, 4, 1, T, T),
])])
case("resign_block_imported_with_root", [step(
    data=[entry(0, blocks=[(10, 1)])],
    blocks=[(0, 10, 1, F, T), (0, 10, 2, F, F), (0, 10, 0, F, F), (0, 11, 3, T, T)])])
case("resign_attestation_imported_with_root", [step(
    data=[entry(0, atts=[(5, 15, 1)])],
    atts=[(0, 5, 15, 1, F, T), (0, 5, 15, 2, F, F), (0, 6, 15, 1, F, F), (0, 5, 14, 1, F, F),
          (0, 5, 16, 3, T, T)])])

# Double proposals and double votes.
case("double_block_own_history", [step(blocks=[(0, 10, 1, T, T), (0, 10, 2, F, F), (0, 11, 2, T, T)])])
case("double_block_imported_different_root", [step(
    data=[entry(0, blocks=[(10, 1)])],
    blocks=[(0, 10, 2, F, F), (0, 10, 1, F, T), (0, 11, 3, T, T)])])
case("double_block_imported_without_root", [step(
    data=[entry(0, blocks=[10])],
    blocks=[(0, 10, 0, F, F), (0, 10, 1, F, F), (0, 11, 2, T, T)])])
case("double_vote_own_history", [step(atts=[
    (0, 1, 2, 1, T, T), (0, 1, 2, 2, F, F), (0, 0, 2, 3, F, F), (0, 1, 3, 4, T, T)])])
case("double_vote_imported_different_root", [step(
    data=[entry(0, atts=[(1, 2, 1)])],
    atts=[(0, 1, 2, 2, F, F), (0, 1, 2, 1, F, T), (0, 1, 3, 3, T, T)])])
case("double_vote_imported_without_root", [step(
    data=[entry(0, atts=[(1, 2)])],
    atts=[(0, 1, 2, 0, F, F), (0, 1, 2, 1, F, F), (0, 2, 3, 2, T, T)])])

# Surround votes, in own history and against imported history.
case("surrounding_vote_own_history", [step(atts=[
    (0, 2, 3, 1, T, T),
    (0, 1, 4, 2, F, F),  # surrounds 2->3
    (0, 2, 4, 3, T, T),  # same source: no surround
    (0, 0, 5, 4, F, F),  # surrounds both
])])
case("surrounded_vote_own_history", [step(atts=[
    (0, 1, 10, 1, T, T),
    (0, 2, 9, 2, F, F),  # surrounded by 1->10
    (0, 2, 11, 3, T, T),
])])
case("surrounding_vote_imported", [step(
    data=[entry(0, atts=[(5, 6), (6, 8)])],
    atts=[
        (0, 5, 9, 1, F, F),  # above both bounds, but surrounds 6->8
        (0, 4, 7, 2, F, F),  # source below the smallest imported source
        (0, 6, 9, 3, T, T),
    ])])
case("surrounded_vote_imported", [step(
    data=[entry(0, atts=[(1, 3), (2, 10)])],
    atts=[
        (0, 4, 9, 1, F, F),  # above both bounds, but surrounded by 2->10
        (0, 2, 5, 2, F, T),  # not slashable: only the minimal strategy refuses it
        (0, 4, 11, 3, T, T),
    ])])

# Watermarks of imported history.
case("block_below_imported_watermark", [step(
    data=[entry(0, blocks=[10, 20])],
    blocks=[
        (0, 9, 1, F, F), (0, 0, 1, F, F), (0, 10, 1, F, F), (0, 20, 1, F, F),
        (0, 15, 1, F, T),  # between the imported slots: only a complete history can tell it is safe
        (0, 21, 2, T, T),
    ])])
case("attestation_below_imported_watermark", [step(
    data=[entry(0, atts=[(10, 20), (12, 22)])],
    atts=[
        (0, 9, 30, 1, F, F),   # source below the smallest imported source
        (0, 11, 19, 1, F, F),  # target below the smallest imported target
        (0, 11, 20, 1, F, F),  # target equal to it
        (0, 10, 21, 1, F, T),  # source equal to the smallest source is allowed (complete)
        (0, 12, 23, 2, T, T),  # source equal to the largest source is allowed (minimal)
    ])])
case("import_only_blocks_then_sign", [step(
    data=[entry(0, blocks=[10, 20])],
    blocks=[(0, 15, 1, F, T), (0, 21, 2, T, T)],
    atts=[(0, 0, 0, 1, T, T), (0, 0, 1, 2, T, T)])])
case("import_only_attestations_then_sign", [step(
    data=[entry(0, atts=[(3, 4), (5, 9)])],
    blocks=[(0, 0, 1, T, T), (0, 1, 2, T, T)],
    atts=[(0, 4, 6, 3, F, T), (0, 5, 10, 4, T, T), (0, 6, 8, 5, F, F)])])

# Shapes of interchange data.
case("repeated_records_in_one_interchange", [step(
    data=[entry(0, blocks=[(10, 1), (10, 1)], atts=[(1, 2, 2), (1, 2, 2)])],
    blocks=[(0, 10, 1, F, T), (0, 10, 3, F, F), (0, 11, 5, T, T)],
    atts=[(0, 1, 2, 2, F, T), (0, 1, 2, 4, F, F), (0, 2, 3, 6, T, T)])])
case("out_of_order_history_in_interchange", [step(
    data=[entry(0, blocks=[20, 5, 12], atts=[(5, 6), (1, 2), (3, 4)])],
    blocks=[(0, 4, 1, F, F), (0, 8, 1, F, T), (0, 12, 1, F, F), (0, 21, 1, T, T)],
    atts=[(0, 0, 1, 1, F, F), (0, 2, 3, 1, F, T), (0, 4, 5, 1, F, T), (0, 5, 7, 1, T, T)])])
case("same_validator_twice_in_one_interchange", [step(
    data=[entry(0, blocks=[10], atts=[(1, 2)]), entry(0, blocks=[12], atts=[(2, 3)])],
    blocks=[(0, 11, 1, F, T), (0, 12, 1, F, F), (0, 13, 1, T, T)],
    atts=[(0, 1, 4, 1, F, F), (0, 2, 4, 1, T, T)])])
case("empty_interchange", [
    step(blocks=[(0, 1, 1, T, T)], atts=[(0, 0, 1, 1, T, T)]),
    step(blocks=[(0, 2, 2, T, T)], atts=[(0, 1, 2, 2, T, T)]),
])
case("validator_entry_without_history", [step(
    data=[entry(0), entry(1)],
    blocks=[(0, 0, 1, T, T), (1, 0, 1, T, T)],
    atts=[(0, 0, 0, 1, T, T), (1, 0, 0, 1, T, T)])])
case("missing_signing_roots_everywhere", [step(
    data=[entry(0, blocks=[10, 11], atts=[(1, 2), (2, 3)])],
    blocks=[(0, 11, 0, F, F), (0, 11, 1, F, F), (0, 10, 0, F, F), (0, 12, 0, T, T)],
    atts=[(0, 2, 3, 0, F, F), (0, 2, 3, 1, F, F), (0, 1, 2, 0, F, F), (0, 3, 4, 0, T, T)])])

# Several interchanges, one after the other.
case("multiple_interchanges_merge", [
    step(data=[entry(0, blocks=[10], atts=[(2, 3)])],
         blocks=[(0, 10, 1, F, F), (0, 11, 1, T, T)],
         atts=[(0, 2, 3, 1, F, F), (0, 3, 4, 1, T, T)]),
    step(data=[entry(0, blocks=[18, 25], atts=[(4, 5), (6, 8)])],
         blocks=[
             (0, 20, 2, F, T),
             (0, 25, 2, F, F),
             (0, 26, 2, T, T),
         ],
         atts=[
             (0, 6, 8, 2, F, F),
             (0, 5, 7, 2, F, T),
             (0, 6, 9, 2, T, T),
         ]),
])
# Older than what the database holds: the public suite marks that contains_slashable_data (an implementation may
# refuse it); imported or not, nothing slashable may pass. (What lies between the two imports is left open: the
# public suite's complete expectations and EIP-3076's per-import conditions differ there.)
case("multiple_interchanges_later_one_older", [
    step(data=[entry(0, blocks=[40], atts=[(20, 30)])]),
    step(slashable=True, data=[entry(0, blocks=[10], atts=[(5, 6)])],
         blocks=[(0, 10, 1, F, F), (0, 40, 1, F, F), (0, 41, 1, T, T)],
         atts=[(0, 5, 6, 1, F, F), (0, 19, 31, 1, F, F), (0, 20, 30, 1, F, F), (0, 20, 31, 1, T, T)]),
])
case("multiple_interchanges_overlapping_validators", [
    step(data=[entry(0, blocks=[5], atts=[(1, 2)]), entry(1, blocks=[7], atts=[(2, 3)])]),
    step(data=[entry(1, blocks=[9, 12], atts=[(3, 4), (5, 6)]), entry(2, blocks=[4], atts=[(0, 1)])],
         blocks=[(0, 6, 1, T, T), (1, 7, 1, F, F), (1, 10, 1, F, T), (1, 12, 1, F, F), (1, 13, 1, T, T),
                 (2, 4, 1, F, F), (2, 5, 1, T, T)],
         atts=[(0, 2, 3, 1, T, T), (1, 3, 5, 1, F, T), (1, 5, 7, 1, T, T), (1, 2, 8, 1, F, F),
               (2, 1, 2, 1, T, T)]),
])
case("multiple_interchanges_same_data_twice", [
    step(data=[entry(0, blocks=[(10, 1)], atts=[(2, 3, 2)])]),
    step(data=[entry(0, blocks=[(10, 1)], atts=[(2, 3, 2)])],
         blocks=[(0, 10, 1, F, T), (0, 10, 3, F, F), (0, 11, 3, T, T)],
         atts=[(0, 2, 3, 2, F, T), (0, 2, 3, 4, F, F), (0, 3, 4, 4, T, T)]),
])
case("two_validators_do_not_interact", [step(
    data=[entry(0, blocks=[100], atts=[(10, 11)])],
    blocks=[(1, 1, 1, T, T), (0, 50, 1, F, F), (1, 200, 2, T, T), (0, 150, 2, T, T), (2, 150, 3, T, T)],
    atts=[(1, 0, 1, 1, T, T), (0, 12, 13, 1, T, T), (1, 11, 14, 2, T, T), (2, 12, 13, 3, T, T),
          (0, 9, 20, 2, F, F)])])

# Values at the edges of u64 (2^63 where a signed 64-bit column wraps, 2^64-1 the largest).
H = 2**63
case("u64_extreme_values", [step(
    data=[entry(0, blocks=[U64_MAX - 1], atts=[(U64_MAX - 2, U64_MAX - 1)]),
          entry(1, blocks=[H - 1], atts=[(H - 2, H - 1)]),
          entry(2, atts=[(100, 101), (H, H + 1)])],
    blocks=[(0, U64_MAX - 1, 1, F, F), (0, 0, 1, F, F), (0, U64_MAX, 2, T, T), (0, U64_MAX, 3, F, F),
            (1, H, 1, T, T), (1, H - 1, 2, F, F), (1, 100, 2, F, F)],
    atts=[
        (0, U64_MAX - 2, U64_MAX, 1, T, T), (0, U64_MAX - 1, U64_MAX, 2, F, F), (0, U64_MAX, U64_MAX, 3, F, F),
        (1, H - 1, H, 1, T, T), (1, H - 3, H + 1, 2, F, F),
        (2, 101, H + 2, 1, F, F),  # surrounds 2^63 -> 2^63+1
        (2, 102, 103, 2, F, T),
        (2, H, H + 3, 3, T, T),
    ])])

# Genesis validators root.
case("wrong_genesis_validators_root", [step(should_succeed=False, gvr=ZERO_GVR,
                                            data=[entry(0, blocks=[1])])], gvr=MAINNET_GVR)
case("wrong_genesis_validators_root_after_import", [
    step(data=[entry(0, blocks=[10])], blocks=[(0, 11, 1, T, T)]),
    step(should_succeed=False, gvr=ZERO_GVR, data=[entry(0, blocks=[20])]),
], gvr=MAINNET_GVR)
case("nonzero_genesis_validators_root", [step(
    data=[entry(0, blocks=[10], atts=[(1, 2)])], blocks=[(0, 10, 1, F, F), (0, 11, 1, T, T)],
    atts=[(0, 1, 2, 1, F, F), (0, 2, 3, 1, T, T)])], gvr=MAINNET_GVR)

# Interchanges that cannot be imported at all.
case("unsupported_format_version", [step(should_succeed=False, version="4", data=[entry(0, blocks=[1])])])
case("invalid_pubkey_length", [step(should_succeed=False, raw={
    "metadata": {"interchange_format_version": "5", "genesis_validators_root": ZERO_GVR},
    "data": [{"pubkey": K[0][:-2], "signed_blocks": [], "signed_attestations": []}]})])

# Slashable interchanges: the implementation may refuse them; if it imports them, it must stay safe.
case("slashable_interchange_double_block_and_surround", [step(
    slashable=True,
    data=[entry(0, blocks=[(10, 1), (10, 2)], atts=[(1, 5), (2, 3)])],
    blocks=[(0, 10, 3, F, F), (0, 9, 3, F, F), (0, 11, 4, T, T)],
    atts=[(0, 2, 4, 1, F, F), (0, 0, 6, 1, F, F), (0, 2, 6, 2, T, T)])])
case("slashable_interchange_double_vote_without_roots", [step(
    slashable=True,
    data=[entry(0, blocks=[10, 10], atts=[(1, 2), (1, 2)])],
    blocks=[(0, 10, 1, F, F), (0, 11, 1, T, T)],
    atts=[(0, 1, 2, 1, F, F), (0, 1, 3, 1, T, T)])])
case("slashable_interchange_with_respect_to_db", [
    step(blocks=[(0, 10, 1, T, T)], atts=[(0, 2, 3, 1, T, T)]),
    step(slashable=True, data=[entry(0, blocks=[(10, 2)], atts=[(1, 4)])],
         blocks=[(0, 10, 3, F, F), (0, 11, 4, T, T)],
         atts=[(0, 2, 4, 9, F, F), (0, 3, 5, 4, T, T)]),
])

# ---------------------------------------------------------------------------------------------------------------
# Deliberately wrong cases: each must make the runner fail on its own (see CMakeLists.txt), so that a runner that
# compares nothing, or always answers the same, cannot pass.
WRONG = [
    # expects a double proposal to be signed
    ("wrong_expectation_double_block_signed", ZERO_GVR, [step(blocks=[(0, 10, 1, T, T), (0, 10, 2, T, T)])]),
    # expects the first attestation on an empty database to be refused
    ("wrong_expectation_fresh_attestation_refused", ZERO_GVR, [step(atts=[(0, 1, 2, 1, F, F)])]),
    # expects a valid interchange not to import
    ("wrong_expectation_valid_import_fails", ZERO_GVR, [step(should_succeed=False, data=[entry(0, blocks=[1])])]),
]


def render(name, gvr, steps, compact):
    doc = to_json(name, gvr, steps)
    if compact:
        return json.dumps(doc, separators=(",", ":"))
    return json.dumps(doc, indent=2) + "\n"


def main():
    check_only = "--check" in sys.argv[1:]
    outputs = {}
    names = set()
    for name, gvr, steps, compact in CASES:
        assert name not in names, name
        names.add(name)
        check_case(name, gvr, steps)
        outputs[os.path.join(HERE, "cases", name + ".json")] = render(name, gvr, steps, compact)
    for name, gvr, steps in WRONG:
        outputs[os.path.join(HERE, "must_fail", name + ".json")] = render(name, gvr, steps, False)
    stale = []
    for path, text in outputs.items():
        current = open(path).read() if os.path.exists(path) else None
        if current != text:
            stale.append(path)
            if not check_only:
                with open(path, "w") as f:
                    f.write(text)
    if check_only and stale:
        sys.exit("out of date: " + ", ".join(stale))
    print(f"{len(CASES)} cases, {len(WRONG)} must-fail case(s); {'checked' if check_only else 'written'}")


if __name__ == "__main__":
    main()

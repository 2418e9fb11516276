"""One partition of a partitioned breadth-first search, and its two phase functions.

Partition k (of W) owns every state whose `Model.owner` (by default its fingerprint) is k mod
W: it stores their parent links (its share of the seen-set) and expands them. One BFS level is
two phases, the shape of a map/shuffle/reduce:

1. *expand* (`expand_batch`): successors of a slice of the frontier; the transition
   invariants are checked on each step, the canonical successor fingerprinted, and
   `(fingerprint, parent fingerprint, encoding)` bucketed by owning partition. Successors the
   partition owns itself are merged at once, as states (no decoding). A model whose owner is
   the same for a whole symmetry orbit (`Model.owner_is_invariant`) has its successors routed
   as generated, uncanonicalised: only the owner computes a canonical form, and only for a
   successor it does not already hold — a sender cannot know that, and canonicalising for
   the owner cost the raft.tla comparison 0.46 M canonical forms more than one process;
2. *merge* (`merge_records`): records addressed to the partition; it keeps the fingerprints
   it has not seen (canonicalising routed successors first), decodes those states, checks the
   state invariants on them, and appends them to its next frontier.

Both are plain functions over plain data, so that forked processes (`parallel.py`) and Ray
actors (`ray_search.py`) run the same search: only the transport of buckets differs. The
frontier is expanded batch by batch (a Ray actor takes ~1,000 states a call, a forked
worker 200 between looks for another's request for work), and `advance` ends a level.
Levels stay synchronous, so the first violation is still found at the least depth.

A partition's seen-set is a dict from fingerprint to parent (NO_PARENT for an initial state);
with `spill_after`, once the dict holds that many it is moved to a sorted run on disk
(`seen.Spill`), and records are checked against the runs in batches before the dict.
"""

from __future__ import annotations

import os
import resource
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.modelcheck.checkpoint import SavedPart, dump_part, parents_dict, seen_arrays
from checker.modelcheck.model import Encoding, Model
from checker.modelcheck.seen import Spill
from checker.modelcheck.trace import Violation

Record = tuple[int, int | None, Encoding]  # (fingerprint, parent fingerprint, encoding)
Fingerprint = Callable[[Encoding], int]

# A bound on the fingerprints a partition remembers having shipped (a copy of part of the
# other partitions' seen-sets, kept only to save traffic): past it, it starts afresh.
SHIPPED_LIMIT = 2_000_000


@dataclass
class LevelReport:
    """What a partition found in the current level so far."""

    generated: int = 0
    new: int = 0
    violation: Violation | None = None

    def add(self, other: LevelReport) -> None:
        self.generated += other.generated
        self.new += other.new
        self.violation = self.violation or other.violation


@dataclass
class Partition:
    """What partition `index` of `count` holds: its seen-set, this level's frontier (expanded
    from `cursor` on), the next level found so far, and the "sometimes" properties reached."""

    index: int
    count: int
    model: Model[Any]
    fingerprint: Fingerprint = hash
    spill_after: int | None = None
    spill_dir: Path | None = None
    parent: dict[int, int | None] = field(default_factory=dict)
    frontier: list[tuple[int, Any]] = field(default_factory=list)
    cursor: int = 0
    next: list[tuple[int, Any]] = field(default_factory=list)
    # Fingerprints already shipped to their owner: shipping one again cannot add a state.
    shipped: set[int] = field(default_factory=set)
    reached: dict[str, bool] = field(default_factory=dict)
    report: LevelReport = field(default_factory=LevelReport)
    spill: Spill | None = None

    def __post_init__(self) -> None:
        self.reached = dict.fromkeys(self.model.sometimes, False)
        if self.spill_after is not None:
            self.spill = Spill(self.spill_dir, f"part{self.index}")

    @property
    def distinct(self) -> int:
        return len(self.parent) + (len(self.spill) if self.spill is not None else 0)

    @property
    def queue(self) -> int:
        return len(self.frontier) - self.cursor + len(self.next)

    def parent_of(self, fp: int) -> tuple[bool, int | None]:
        """(whether this partition holds `fp`, and its parent)."""
        if fp in self.parent:
            return True, self.parent[fp]
        if self.spill is not None:
            return self.spill.parent_of(fp)
        return False, None

    def advance(self) -> LevelReport:
        """End the level: the next frontier becomes the frontier; returns the level's report."""
        report, self.report = self.report, LevelReport()
        self.frontier, self.next, self.cursor = self.next, [], 0
        return report

    def give(self, count: int) -> list[tuple[int, Any]]:
        """The last `count` unexpanded frontier states, removed: another partition expands
        them this level (work stealing, `stealing.py`)."""
        count = min(count, len(self.frontier) - self.cursor)
        if count <= 0:
            return []
        given = self.frontier[-count:]
        del self.frontier[-count:]
        return given

    def encoding(self, state: Any) -> Encoding:
        """The encoding a frontier entry is stored as (a checkpoint, a resume)."""
        return state if self.model.encoding_is_state else self.model.canonical(state)


def expand_batch(part: Partition, limit: int | None = None) -> list[list[Record]]:
    """Phase 1: successors of the next `limit` frontier states (all, for None), bucketed by
    owning partition; the partition's own are merged at once (its bucket stays empty)."""
    stop = len(part.frontier) if limit is None else min(len(part.frontier), part.cursor + limit)
    batch = part.frontier[part.cursor : stop]
    part.cursor = stop
    buckets: list[list[Record]] = [[] for _ in range(part.count)]
    model, report = part.model, part.report
    owner_of, canonical, fingerprint = model.owner, model.canonical, part.fingerprint
    keep_encoding = model.encoding_is_state
    parent, shipped, index, count = part.parent, part.shipped, part.index, part.count
    # Successors this partition owns are stored at once, as in the serial search, so that a
    # state reached again later in the level is skipped before its canonical form is
    # computed (deferring them to the end of the batch cost ~1.5 M extra canonical forms in
    # the raft.tla comparison). A spilled seen-set is checked in batches: there they wait.
    inline = part.spill is None
    found, reached, note_reached = part.next, part.reached, model.note_reached
    violated_invariant = model.violated_invariant
    # An owner that is the same for a whole orbit is known before the canonical form: a
    # successor owned elsewhere goes there as generated, and its owner alone canonicalises
    # it, only if it is not already stored there (see `merge_records`).
    route_raw = keep_encoding and model.owner_is_invariant and count > 1
    local: list[tuple[int, int, Any]] = []
    generated = new = 0
    for fp, state in batch:
        step_check = model.step_check(state)
        for action, nxt in model.successors(state):
            generated += 1
            name = step_check(nxt)
            if name is not None:
                report.violation = report.violation or Violation(name, fp, action)
                continue
            if route_raw:
                nfp = fingerprint(nxt)
                if nfp in parent or nfp in shipped:
                    continue
                owner = owner_of(nxt, nfp) % count
                if owner != index:
                    shipped.add(nfp)
                    buckets[owner].append((nfp, fp, nxt))
                    continue
                enc = canonical(nxt)
                if enc is not nxt:
                    nfp = fingerprint(enc)
            elif keep_encoding:
                # As in the serial search: a successor that is itself a canonical state
                # stored here, or already shipped, needs no canonical form.
                nfp = fingerprint(nxt)
                if nfp in parent or nfp in shipped:
                    continue
                enc = canonical(nxt)
                if enc is not nxt:
                    nfp = fingerprint(enc)
            else:
                enc = canonical(nxt)
                nfp = fingerprint(enc)
            # (a routed successor that reaches here is this partition's own)
            owner = index if route_raw or count == 1 else owner_of(enc, nfp) % count
            if owner == index:
                if nfp in parent:
                    continue
                if keep_encoding:
                    nxt = enc
                if not inline:
                    local.append((nfp, fp, nxt))
                    continue
                parent[nfp] = fp
                found.append((nfp, nxt))
                new += 1
                note_reached(nxt, reached)
                name = violated_invariant(nxt)
                if name is not None and report.violation is None:
                    report.violation = Violation(name, nfp, None)
            elif nfp not in shipped:
                shipped.add(nfp)
                buckets[owner].append((nfp, fp, enc))
    report.generated += generated
    report.new += new
    if len(shipped) > SHIPPED_LIMIT:
        shipped.clear()
    if stop == len(part.frontier):
        part.frontier, part.cursor = [], 0  # the level's states are no longer needed
    if local:
        _merge(part, local, decoded=True)
    return buckets


def offer(bucket: list[Record]) -> bytes:
    """The fingerprints of a bucket, sent to its owner before the bucket itself: most records
    name a state the owner found in the same level (in the raft.tla comparison ~60% of
    those crossing processes), which `wanted` lets it decline before they are pickled."""
    return array("q", [record[0] for record in bucket]).tobytes()


def wanted(part: Partition, offered: bytes) -> bytes:
    """The positions in an `offer` of the fingerprints this partition does not hold (a
    spilled seen-set is checked when the records arrive, by `merge_records`)."""
    fps = array("q")
    fps.frombytes(offered)
    parent = part.parent
    return array("I", [k for k, fp in enumerate(fps) if fp not in parent]).tobytes()


def taken(bucket: list[Record], want: bytes) -> list[Record]:
    """The records of a bucket at the positions its owner asked for (`wanted`)."""
    positions = array("I")
    positions.frombytes(want)
    return [bucket[k] for k in positions]


def merge_records(part: Partition, incoming: list[Record]) -> int:
    """Phase 2: merge records addressed to this partition; returns how many were new.
    A record may carry a successor as generated (see `expand_batch`): it is canonicalised
    here unless it is itself a state stored here."""
    model = part.model
    if model.owner_is_invariant and model.encoding_is_state:
        return _merge(part, _canonical_records(part, incoming), decoded=True)
    return _merge(part, incoming, decoded=False)


def _canonical_records(part: Partition, records: list[Record]) -> list[Record]:
    parent, canonical, fingerprint = part.parent, part.model.canonical, part.fingerprint
    out: list[Record] = []
    records = [record for record in records if record[0] not in parent]
    states = part.model.intern([record[2] for record in records])
    for (nfp, parent_fp, _), state in zip(records, states, strict=True):
        enc = canonical(state)
        out.append((nfp, parent_fp, enc) if enc is state else (fingerprint(enc), parent_fp, enc))
    return out


def _merge(part: Partition, records: list[Any], decoded: bool) -> int:
    if part.spill is not None and records:
        records = part.spill.unseen(records)
    model, report, parent, found = part.model, part.report, part.parent, part.next
    decode = model.decode
    before = len(found)
    for nfp, parent_fp, item in records:
        if nfp in parent:
            continue
        parent[nfp] = parent_fp
        state = item if decoded else decode(item)
        found.append((nfp, state))
        model.note_reached(state, part.reached)
        name = model.violated_invariant(state)
        if name is not None and report.violation is None:
            report.violation = Violation(name, nfp, None)
    new = len(found) - before
    report.new += new
    _spill_if_full(part)
    return new


def _spill_if_full(part: Partition) -> None:
    limit = part.spill_after
    if part.spill is not None and limit is not None and len(part.parent) >= limit:
        part.spill.add(part.parent)
        part.parent.clear()


def dump_partition(part: Partition) -> bytes:
    """The partition as a checkpoint file (`checkpoint.dump_part`)."""
    fps, parents = seen_arrays(part.parent)
    if part.spill is not None:
        for run_fps, run_parents in part.spill.arrays():
            fps.frombytes(run_fps.astype("<i8").tobytes())
            parents.frombytes(run_parents.astype("<i8").tobytes())
    encoding = part.encoding
    return dump_part(
        SavedPart(
            fps,
            parents,
            [(fp, encoding(s)) for fp, s in part.frontier[part.cursor :]],
            [(fp, encoding(s)) for fp, s in part.next],
        )
    )


def restore_partition(part: Partition, saved: SavedPart) -> None:
    """Load a checkpoint's share of this partition (whose seen-set is empty)."""
    part.parent = parents_dict(saved)
    model = part.model
    part.frontier = interned(model, [(fp, model.decode(enc)) for fp, enc in saved.frontier])
    part.next = interned(model, [(fp, model.decode(enc)) for fp, enc in saved.next])
    part.cursor = 0
    _spill_if_full(part)


def interned(model: Model[Any], entries: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """Frontier entries `(fingerprint, state)` that come from another process or a file,
    their states interned (`Model.intern`)."""
    states = model.intern([state for _, state in entries])
    return [(fp, state) for (fp, _), state in zip(entries, states, strict=True)]


def peak_memory() -> int:
    """This process's peak resident memory in bytes (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def node_name() -> str:
    return os.uname().nodename

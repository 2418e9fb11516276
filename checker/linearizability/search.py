"""Wing & Gong's search with Lowe's memoisation, for one independent part of a history.

Theory of operation. A node of the search is (D, s): D the set of operations linearized so
far, s the model state after them. An operation x may be linearized next iff it is not in D
and it was called before every operation outside D returned (real-time order: nothing can be
placed after an operation that returned before it was called). The search is a depth-first
walk over nodes; a node that failed once fails again, so each (D, s) is visited at most once
(Lowe, "Testing for linearizability", 2017). The history is linearizable iff a node holding
every operation that returned is reached: operations that never returned can all be placed
last, where nobody observes them.

Encoding. Operations are numbered in call order; D is a Python int used as a bitset. A second
bitset holds D in return order, so "the earliest return still pending" is its lowest zero bit,
and the candidates are the zero bits of D below a precomputed limit: no linked list, no scan.

Pruning that keeps the answer exact:
- A read-only operation (the model's `read_only`) that fits at the current node is placed at
  once, without branching: if any completion exists, one exists with that read moved to the
  front, since the read changes nothing and nothing pending returned before it was called.
- A read-only operation whose output is unknown constrains nothing and is dropped.
- Never-returned calls (Jepsen `:info`): a node using a subset of them dominates one with
  the same returned set and state that uses more (the unused ones can still go anywhere
  later, or nowhere), so the memo compares those subsets, and children that returned are
  tried first. This is what makes the etcd corpus cheap: its `:info` writes and cas would
  otherwise multiply the nodes by every subset of them.
- Where the model promises that reads return the state (`reads_return_state`), the reads
  that fit a state are found by one dictionary lookup (reads indexed by output) instead of
  stepping every pending read at every node.

What the model knows (its optional hooks, spec/sequential.py), each exact:
- `refute`: a cheap proof that no order exists (two appends at one index) ends the part
  before any search, with the calls it rests on as evidence.
- `needless`: never-returned calls whose effect no completed call could have seen are left
  out: any linearization that uses one stays one without it.
- `effect`: never-returned calls with equal effects are interchangeable once called, so only
  the earliest called of each kind is a child (`twin`): the log's 30 unknown appends of the
  shared hard/ history are 31 choices, not 2^30.
- `precedence`: orders every linearization keeps, read off the outputs (the log's indexes,
  the puts and appends a key/value get shows): a call whose predecessor is not placed is no
  child.
- `may_become`: for growing states (a string between puts, a set), a child from which the
  next read to return cannot be reached is no child; when that read needs a fresh start, the
  calls that start afresh are tried first.
- `for_part`: a cheaper statement of the model for the part (the kv model folds the states
  no get can read into one); the evidence is replayed through the model itself.
The memo keeps D compactly, in return order (see the memo's comment). Measured on the large
generated histories (bench/lin_large.py): 10,000-call parts with 10 concurrent clients went
from not finishing in minutes (and gigabytes) to under a second, linear in the calls.

Measured on the corpus (bench/lin_corpus.py), each of these paid, and so did the order of
the children (see the loop). Trying all candidates in return order, or first the ones after
which a pending read fits, did not (more nodes or more time per node) and was left out.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Generator, Hashable, Sequence
from dataclasses import replace
from typing import Any

from checker.linearizability.history import Operation
from checker.linearizability.result import PartitionResult, Placed, Refusal
from checker.verdict import Verdict
from spec.sequential import ILLEGAL, Input, Model

# The search yields to its driver after a slice of steps; slices start short and double, so
# that a part which refutes quickly does so before its siblings have used much time.
_FIRST_SLICE = 128
_LONGEST_SLICE = 8192


class _Prepared:
    """One part's operations, renumbered in call order, with the tables the search uses."""

    def __init__(self, ops: Sequence[Operation], model: Model) -> None:
        # A call whose output is unknown (or that never returned) and that the model says
        # constrains nothing then (a read, by default) is left out.
        unseen = [
            not (op.output_known and op.ret is not None) and model.drops(op.input) for op in ops
        ]
        ignored = [op for op, drop in zip(ops, unseen, strict=True) if drop]
        live = [op for op, drop in zip(ops, unseen, strict=True) if not drop]
        # The model's cheap proof, on every call that may take effect.
        self.refuted: tuple[str, tuple[Operation, ...]] | None = None
        if model.refute is not None:
            found = model.refute(live)
            if found is not None:
                self.refuted = (found[0], tuple(live[i] for i in found[1]))
        # Calls that never returned and that nobody could have seen take effect.
        if model.needless is not None and self.refuted is None:
            needless = {i for i in model.needless(live) if live[i].ret is None}
            if needless:
                ignored += [live[i] for i in sorted(needless)]
                live = [op for i, op in enumerate(live) if i not in needless]
        self.ignored = tuple(ignored)
        events: list[tuple[float, int, int]] = []
        for i, op in enumerate(live):
            events.append((op.call, 0, i))  # calls sort before returns at equal times
            if op.ret is not None:
                events.append((op.ret, 1, i))
        events.sort()
        call_rank = [0] * len(live)
        ret_rank = [len(events) + 1] * len(live)  # never returned: after everything
        for rank, (_t, kind, i) in enumerate(events):
            if kind == 0:
                call_rank[i] = rank
            else:
                ret_rank[i] = rank
        order = sorted(range(len(live)), key=call_rank.__getitem__)
        self.ops = [live[i] for i in order]
        self.call_rank = [call_rank[i] for i in order]
        self.ret_rank = [ret_rank[i] for i in order]
        n = len(self.ops)
        self.by_ret = sorted(range(n), key=self.ret_rank.__getitem__)
        self.rbit = [0] * n
        for pos, j in enumerate(self.by_ret):
            self.rbit[j] = 1 << pos
        self.n_returned = sum(1 for op in self.ops if op.ret is not None)
        # lim[k]: how many operations (a prefix in call order) were called before the k-th
        # return; those not yet linearized are exactly the candidates.
        self.lim = [bisect_left(self.call_rank, self.ret_rank[j]) for j in self.by_ret]
        self.inputs = [op.input for op in self.ops]
        self.outputs = [op.output for op in self.ops]
        # A call that never returned cannot have a known output.
        self.known = [op.output_known and op.ret is not None for op in self.ops]
        self.unreturned_mask = 0
        for j, op in enumerate(self.ops):
            if op.ret is None:
                self.unreturned_mask |= 1 << j
        # Interchangeable calls that never returned (same effect, see spec.sequential): the
        # search places them in call order only, so `twin[j]` is the bit of the call of
        # j's kind just before it, which must be placed first.
        effect = model.effect
        self.twin = [0] * n
        last: dict[Hashable, int] = {}
        for j, op in enumerate(self.ops):
            if op.ret is None:
                like: Hashable = op.input if effect is None else effect(op.input)
                try:
                    if like in last:
                        self.twin[j] = 1 << last[like]
                    last[like] = j
                except TypeError:  # an unhashable effect: no twins
                    pass
        # Read-only calls with known outputs: placed greedily, never branched on.
        self.read_mask = 0
        read_only = model.read_only
        for j, op in enumerate(self.ops):
            if self.known[j] and read_only(op.input):
                self.read_mask |= 1 << j
        # Known reads in return order, and the calls that start a growing state afresh
        # (see `Model.may_become`).
        self.read_r = 0
        for j in range(n):
            if self.read_mask >> j & 1:
                self.read_r |= self.rbit[j]
        self.reset_mask = 0
        if model.resets is not None:
            for j, op in enumerate(self.ops):
                if model.resets(op.input):
                    self.reset_mask |= 1 << j
        # Reads by the state they return, when the model promises reads return the state.
        self.reads_by_state: dict[Any, int] | None = None
        if model.reads_return_state:
            try:
                by_state: dict[Any, int] = {}
                for j in range(n):
                    if self.read_mask >> j & 1:
                        by_state[self.outputs[j]] = by_state.get(self.outputs[j], 0) | 1 << j
                self.reads_by_state = by_state
            except TypeError:  # an unhashable output: step the reads instead
                self.reads_by_state = None

    def candidates(self, done: int, done_r: int) -> int | None:
        """The candidate bitset at node `done`, or None when every returned op is placed."""
        k = (~done_r & (done_r + 1)).bit_length() - 1
        if k >= self.n_returned:
            return None
        return ~done & ((1 << self.lim[k]) - 1)


def search(
    key: Hashable,
    ops: Sequence[Operation],
    model: Model,
    deadline: float | None,
    stop: Callable[[], str | None] | None = None,
) -> PartitionResult:
    """Check one part; `deadline` is a `time.monotonic()` instant, or None for no limit;
    `stop()` giving a reason between slices ends the search as UNKNOWN too, with that note."""
    started = time.process_time()
    run = searching(key, ops, model)
    try:
        while True:
            next(run)
            if deadline is not None and time.monotonic() > deadline:
                run.send(True)
            note = None if stop is None else stop()
            if note is not None:
                try:
                    run.send(True)
                except StopIteration as stopped:
                    cut: PartitionResult = stopped.value
                    return replace(cut, seconds=time.process_time() - started, note=note)
    except StopIteration as finished:
        result: PartitionResult = finished.value
        return replace(result, seconds=time.process_time() - started)


def searching(
    key: Hashable, ops: Sequence[Operation], model: Model
) -> Generator[None, bool | None, PartitionResult]:
    """The search as a resumable generator: it yields every few thousand steps so that a
    caller can share one core among parts and enforce a time limit. Sending it True stops it
    with an UNKNOWN verdict (a search that did not finish never says OK). The driver measures
    the CPU time, since only it knows which slices belong to this part.
    """
    p = _Prepared(ops, model)
    if p.refuted is not None:
        return _refuted(key, p, model)
    # The search may use a cheaper statement of the model for this part; the evidence is
    # replayed through the model itself.
    stated = model
    if model.for_part is not None:
        model = model.for_part(p.ops)
    pre = [0] * len(p.ops)
    if model.precedence is not None:
        for j, mask in model.precedence(p.ops).items():
            pre[j] = mask
    step = model.step
    inputs, outputs, known, rbit = p.inputs, p.outputs, p.known, p.rbit
    read_mask, lim, n_returned = p.read_mask, p.lim, p.n_returned
    reads_by_state = p.reads_by_state
    # The k-th call to return, as a bit of D (call order); 0 past the returned ones.
    rbit_to_call = [1 << j for j in p.by_ret] + [0]
    unreturned = p.unreturned_mask
    twin = p.twin
    may_become, read_r, reset_mask, by_ret = model.may_become, p.read_r, p.reset_mask, p.by_ret

    def _urgent(state: Any, done_r: int, rem: int) -> int:
        if may_become is None or not rem & reset_mask:
            return 0
        ahead = read_r & ~done_r
        if not ahead:
            return 0
        kr = (ahead & -ahead).bit_length() - 1
        return 0 if may_become(state, outputs[by_ret[kr]], ()) else reset_mask
    keep = ~unreturned

    # Memo. Without calls that never returned, a plain set of (D, state). With them, a node
    # (D, s) is dominated by an explored (D', s) where D' has the same returned operations
    # and uses a subset of the never-returned ones: unused, such a call can still be placed
    # later or never, so D' can do everything D can. The memo maps (returned part of D, s)
    # to the never-returned subsets seen with it.
    # D is kept in return order (`done_r`), and compactly: the calls that return first are
    # all placed, so D is (k, done_r >> k) with k its lowest unplaced one, a few dozen bits
    # instead of one per call (a 10,000-call part: ~50 bytes a node instead of ~1.3 kB).
    # The never-returned calls rank last in return order: `done_r >> n_returned` is their
    # subset, as compact.
    visited: set[tuple[int, int, Any]] = set()
    seen_with: dict[tuple[int, int, Any], list[int]] = {}
    fin_r = (1 << n_returned) - 1
    # The current path, one frame per placed operation: (op, state before it, its untried
    # siblings, D and D-in-return-order before it). A greedily placed read has no siblings.
    stack: list[tuple[int, Any, int, int, int]] = []
    state: Any = model.init()
    done = done_r = 0
    # The current path again, as a linked list of the same frames (frame, parent), so that
    # the deepest dead end is kept by reference, not copied (a copy each time a search goes
    # deeper costs quadratic time on a 10,000-call part).
    path: Path = None
    best: tuple[int, Path, Any, int, int] = (-1, None, state, 0, 0)
    steps = explored = 0
    slice_steps = next_yield = _FIRST_SLICE
    rem = urgent = 0
    entering = True
    verdict = Verdict.VIOLATION
    while True:
        if entering:
            k = (~done_r & (done_r + 1)).bit_length() - 1
            c = None if k >= n_returned else ~done & ((1 << lim[k]) - 1)
            greedy = False
            if reads_by_state is not None:
                while c is not None:
                    fit = reads_by_state.get(state, 0) & c
                    if not fit:
                        break
                    while fit:  # reads change nothing: place every one that fits
                        low = fit & -fit
                        fit ^= low
                        j = low.bit_length() - 1
                        frame = (j, state, 0, done, done_r)
                        stack.append(frame)
                        path = (frame, path)
                        done, done_r = done | low, done_r | rbit[j]
                    greedy = True
                    k = (~done_r & (done_r + 1)).bit_length() - 1
                    c = None if k >= n_returned else ~done & ((1 << lim[k]) - 1)
            while reads_by_state is None and c is not None and c & read_mask:
                r = c & read_mask
                progressed = False
                while r:
                    low = r & -r
                    r ^= low
                    j = low.bit_length() - 1
                    new_state, out = step(state, inputs[j])
                    if out == outputs[j]:
                        frame = (j, state, 0, done, done_r)
                        stack.append(frame)
                        path = (frame, path)
                        done, done_r, state = done | low, done_r | rbit[j], new_state
                        progressed = True
                if not progressed:
                    break
                greedy = True
                k = (~done_r & (done_r + 1)).bit_length() - 1
                c = None if k >= n_returned else ~done & ((1 << lim[k]) - 1)
            if c is None:
                verdict = Verdict.OK
                break
            rem = c & ~read_mask
            # A growing state that the next read cannot reach without a fresh start (a put
            # it begins with): try the calls that start afresh first (see the loop).
            urgent = 0 if may_become is None else _urgent(state, done_r, rem)
            if greedy:
                if unreturned:
                    if _dominated(seen_with, (k, (done_r & fin_r) >> k, state), done_r >> n_returned):
                        rem = 0
                else:
                    node = (k, done_r >> k, state)
                    if node in visited:
                        rem = 0
                    else:
                        visited.add(node)
        entering = False
        while rem:
            # Order of the children, measured on the corpus (bench/lin_corpus.py):
            # 1. the call that returns first, if it is a candidate: it must be placed before
            #    anything called after its return, so it is the likeliest next;
            # 2. then the other calls that returned, latest called first: a call pending
            #    since long ago is usually a slow one whose effect shows late, so placing it
            #    early is the likelier mistake (call order needs ~3x the nodes on kv c50);
            # 3. never-returned calls last: a node using fewer of them dominates (see the
            #    memo), so exploring it first prunes the others.
            # Before all these, when the next read cannot be reached from the state without
            # a fresh start (`urgent`), the calls that start afresh: the read needs one, and
            # calls placed before it are wiped anyway.
            fin = rem & keep
            if rem & urgent:
                low = rem & urgent & -(rem & urgent)
            elif fin:
                k = (~done_r & (done_r + 1)).bit_length() - 1
                low = rbit_to_call[k] & fin or 1 << (fin.bit_length() - 1)
            else:
                low = rem & -rem
            rem ^= low
            j = low.bit_length() - 1
            if twin[j] and not done & twin[j]:
                continue  # an interchangeable call, called earlier, goes first
            if pre[j] & ~done:
                continue  # a call that must come before it (the model's precedence) is not placed
            new_state, out = step(state, inputs[j])
            if out is ILLEGAL or (known[j] and out != outputs[j]):
                continue
            nd = done | low
            ndr = done_r | rbit[j]
            if may_become is not None:
                # The next read to return must still fit, after calls called before its
                # return only: else no completion exists below this child.
                ahead = read_r & ~ndr
                if ahead:
                    kr = (ahead & -ahead).bit_length() - 1
                    window = reset_mask & ~nd & ((1 << lim[kr]) - 1)
                    if not may_become(new_state, outputs[by_ret[kr]], _inputs_of(window, inputs)):
                        # A dead end one call deeper: where the history breaks, if deepest.
                        depth = (nd & keep).bit_count()
                        if depth > best[0]:
                            best = _deepest(((j, state, rem, done, done_r), path), depth,
                                            new_state, nd, ndr, unreturned)
                        continue
            kn = (~ndr & (ndr + 1)).bit_length() - 1
            if unreturned:
                if _dominated(seen_with, (kn, (ndr & fin_r) >> kn, new_state), ndr >> n_returned):
                    continue
            else:
                size = len(visited)
                visited.add((kn, ndr >> kn, new_state))  # one hash for "seen?" and "now seen"
                if len(visited) == size:
                    continue
            frame = (j, state, rem, done, done_r)
            stack.append(frame)
            path = (frame, path)
            done, done_r, state = nd, ndr, new_state
            entering = True
            break
        if entering:
            steps += 1
            if steps >= next_yield:
                slice_steps = min(2 * slice_steps, _LONGEST_SLICE)
                next_yield = steps + slice_steps
                if (yield):
                    verdict = Verdict.UNKNOWN
                    break
            continue
        # A dead end: remember the deepest, then go back to the nearest untried sibling.
        # Depth counts returned calls only: never-returned ones placed at a dead end say
        # nothing about where the history breaks.
        depth = (done & keep).bit_count()
        if depth > best[0]:
            best = _deepest(path, depth, state, done, done_r, unreturned)
        while stack:
            _j, state, rem, done, done_r = stack.pop()
            path = path[1] if path is not None else None
            if rem:
                if may_become is not None:
                    urgent = _urgent(state, done_r, rem)
                break
        if not rem:
            break  # the root has no untried child left: not linearizable
    if verdict is Verdict.UNKNOWN and (done & keep).bit_count() > best[0]:
        best = _deepest(path, (done & keep).bit_count(), state, done, done_r, unreturned)
    explored = len(visited) + sum(len(v) for v in seen_with.values())
    return _result(key, p, stated, verdict, stack, best, explored)


def _inputs_of(mask: int, inputs: Sequence[Input]) -> list[Input]:
    found = []
    while mask:
        low = mask & -mask
        mask ^= low
        found.append(inputs[low.bit_length() - 1])
    return found


Frame = tuple[int, Any, int, int, int]  # op, state before it, untried siblings, D, D-by-return
Path = tuple[Frame, "Path"] | None


def _deepest(
    path: Path,
    depth: int,
    state: Any,
    done: int,
    done_r: int,
    unreturned: int,
) -> tuple[int, Path, Any, int, int]:
    """The path to a dead end, less the never-returned calls placed at its tail (they only
    obscure where the history breaks; the explanation lists them as candidates instead)."""
    while path is not None and unreturned >> path[0][0] & 1:
        _j, state, _rem, done, done_r = path[0]
        path = path[1]
    return (depth, path, state, done, done_r)


def _unlink(path: Path) -> list[int]:
    """The operations of a linked path, first placed first."""
    order = []
    while path is not None:
        order.append(path[0][0])
        path = path[1]
    order.reverse()
    return order


def _dominated(seen_with: dict[tuple[int, int, Any], list[int]], node: tuple[int, int, Any],
               inf: int) -> bool:
    """Was `node` (the returned calls placed, and the state) with the never-returned calls
    `inf`, or a node that dominates it, explored? Record it if not."""
    masks = seen_with.get(node)
    if masks is None:
        seen_with[node] = [inf]
        return False
    for m in masks:
        if m & inf == m:  # m is a subset of inf: the explored node used fewer
            return True
    # Drop recorded supersets: the new node dominates them.
    masks[:] = [m for m in masks if m & inf != inf]
    masks.append(inf)
    return False


def _refuted(key: Hashable, p: _Prepared, model: Model) -> PartitionResult:
    assert p.refuted is not None
    reason, witnesses = p.refuted
    return PartitionResult(
        key=key,
        verdict=Verdict.VIOLATION,
        operations=tuple(p.ops) + p.ignored,
        linearization=(),
        state=model.init(),
        refutation=reason,
        witnesses=witnesses,
        ignored=p.ignored,
    )


def _replay(p: _Prepared, model: Model, path: Sequence[int]) -> tuple[list[Placed], Any]:
    state = model.init()
    placed = []
    for j in path:
        state, _out = model.step(state, p.inputs[j])
        placed.append(Placed(p.ops[j], state))
    return placed, state


def _result(
    key: Hashable,
    p: _Prepared,
    model: Model,
    verdict: Verdict,
    stack: list[tuple[int, Any, int, int, int]],
    best: tuple[int, Path, Any, int, int],
    explored: int,
) -> PartitionResult:
    refusals: list[Refusal] = []
    must_precede = None
    if verdict is Verdict.OK:
        path = [frame[0] for frame in stack]
        linearization, state = _replay(p, model, path)
        # Calls that never returned go last, where nothing observes them, each that can
        # take effect there; the others never took effect.
        placed_set = set(path)
        for j in range(len(p.ops)):
            if j not in placed_set:
                after, out = model.step(state, p.inputs[j])
                if out is not ILLEGAL:
                    state = after
                    linearization.append(Placed(p.ops[j], state))
    else:
        _depth, deepest, state, done, done_r = best
        linearization, state = _replay(p, model, _unlink(deepest))
        if verdict is Verdict.VIOLATION:
            refusals, must_precede = _explain(p, model, state, done, done_r)
    return PartitionResult(
        key=key,
        verdict=verdict,
        operations=tuple(p.ops) + p.ignored,
        linearization=tuple(linearization),
        state=state,
        refusals=tuple(refusals),
        must_precede=must_precede,
        explored=explored,
        ignored=p.ignored,
    )


def _explain(
    p: _Prepared, model: Model, state: Any, done: int, done_r: int
) -> tuple[list[Refusal], Operation | None]:
    """Why nothing can be placed after the longest prefix: each candidate, and what it got."""
    cands = p.candidates(done, done_r) or 0
    refusals = []
    while cands:
        low = cands & -cands
        cands ^= low
        j = low.bit_length() - 1
        _new, out = model.step(state, p.inputs[j])
        mismatch = out is ILLEGAL or (p.known[j] and out != p.outputs[j])
        refusals.append(Refusal(p.ops[j], out if mismatch else None, mismatch))
    k = (~done_r & (done_r + 1)).bit_length() - 1
    must = p.ops[p.by_ret[k]] if k < p.n_returned else None
    return refusals, must

"""Sequential specifications: what a concurrent object must look like when its calls are
taken one at a time (DESIGN.md section 2). Linearizability is judged against them.

A model is a handful of pure functions. `step(state, input)` returns the next state and the
output the object must have returned; it is deterministic, so a checker compares that output
with the recorded one (and skips the comparison for unknown outcomes): a model never needs to
know about time-outs, crashes or pending calls. A call that cannot take effect in a state at
all, whatever it returned (acquiring a held lock, dequeuing an element that is not there),
gets the output `ILLEGAL`, which matches no recorded output and no unknown one either. States
and inputs must be hashable: a checker memoises (linearized set, state) pairs (Lowe's
improvement to Wing & Gong).

Inputs are `(f, key, value)` triples for every built-in model, e.g. `("append", "k1", "x")`,
`("read", None, None)`, `("cas", None, (3, 0))`; `nil` is `None`.

Optional hooks make a search faster without changing its answers:
- `partition(input)`: a key; operations with different keys never interact, so each part is
  checked on its own (P-compositionality, Horn & Kroening 2015). Key/value splits per key.
  `keys(input)` instead names every key a call touches (a transaction over several
  registers): parts are then the groups of keys that calls connect.
- `read_only(input)`: the operation never changes the state, whatever the state. A search
  then places such an operation as soon as it fits instead of branching on it.
- `droppable(input)`: a call of this kind whose output is unknown constrains nothing and is
  left out (by default the read-only calls; a dequeue from an unordered queue too).
- `reads_return_state`: read-only operations return exactly the state (see below).
- `effect(input)`: calls whose effects are equal change every state alike; a search tries
  only one of several such calls that never returned (they are interchangeable). By default
  the input itself; the log, whose state is its length, gives every append one effect.
- `needless(calls)`: the calls that never returned and whose effect no completed call could
  observe; a linearization never needs them, so a search leaves them out.
- `refute(calls)`: a cheap proof that no linearization exists (a read of a value nobody
  wrote, two appends at one index), as a reason and the calls it rests on; checked before
  any search.

A new model, e.g. a counter:

    COUNTER = Model(name="counter", init=lambda: 0,
                    step=lambda n, i: (n + i[2], None) if i[0] == "add" else (n, n),
                    read_only=lambda i: i[0] == "get")

The built-in models: `KV` (6.5840's key/value service and Porcupine's kv model), `REGISTER`,
`CAS_REGISTER` (the etcd corpus) and `LOG` (Raft seen by its clients) here; Knossos's
`MUTEX`, `MULTI_REGISTER`, `SET`, `UNORDERED_QUEUE` and `FIFO_QUEUE` in
`spec.sequential_knossos`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any, Protocol

Input = tuple[str, Hashable, Any]


class _Illegal:
    """The output of a call that cannot take effect in the state (see the module's text)."""

    _instance: _Illegal | None = None

    def __new__(cls) -> _Illegal:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ILLEGAL"

    def __reduce__(self) -> str:
        return "ILLEGAL"  # one instance, also across processes


ILLEGAL: Any = _Illegal()


class Call(Protocol):
    """What a model's `needless` and `refute` hooks see of a call (a checker's operation)."""

    @property
    def input(self) -> Input: ...
    @property
    def output(self) -> Any: ...
    @property
    def output_known(self) -> bool: ...
    @property
    def call(self) -> float: ...
    @property
    def ret(self) -> float | None: ...


# A refutation: why no linearization exists, and the positions of the calls it rests on.
Refuted = tuple[str, tuple[int, ...]]


def observed(c: Call) -> bool:
    """The call returned and what it returned is known: it constrains the object."""
    return c.output_known and c.ret is not None


def _never(_input: Input) -> bool:
    return False


@dataclass(frozen=True)
class Model:
    name: str
    init: Callable[[], Hashable]
    step: Callable[[Any, Input], tuple[Hashable, Any]]
    partition: Callable[[Input], Hashable] | None = None
    read_only: Callable[[Input], bool] = _never
    describe_state: Callable[[Any], str] = repr
    # The model's promise that a read-only operation returns the whole state (kv per key,
    # registers): a search then finds the reads that fit a state by one dictionary lookup
    # instead of stepping every pending read at every node.
    reads_return_state: bool = False
    keys: Callable[[Input], Iterable[Hashable]] | None = None
    droppable: Callable[[Input], bool] | None = None
    effect: Callable[[Input], Hashable] | None = None
    needless: Callable[[Sequence[Call]], set[int]] | None = None
    refute: Callable[[Sequence[Call]], Refuted | None] | None = None
    # How a recorded output reads in this model's terms (a set read as a list, say).
    output_form: Callable[[Input, Any], Any] | None = None
    # Growing states (a key/value string between puts, a set): `may_become(state, output,
    # resets)` says whether a read returning `output` can still fit after calls from
    # `state`, when the only calls left that start the state afresh (`resets`: a put) are
    # the inputs given. A search drops a node from which the next read cannot fit.
    resets: Callable[[Input], bool] | None = None
    may_become: Callable[[Any, Any, Sequence[Input]], bool] | None = None
    # `for_part(calls)`: the same object for this part's calls only, stated more cheaply
    # (the kv model folds every state no get can read into one; see `_kv_for_part`).
    for_part: Callable[[Sequence[Call]], Model] | None = None
    # `precedence(calls)`: orders that every linearization keeps beyond real time, read off
    # the outputs: position j -> a bitmask of the positions that come before it (calls that
    # certainly take effect). A search places nothing before what must precede it.
    precedence: Callable[[Sequence[Call]], dict[int, int]] | None = None

    def drops(self, inp: Input) -> bool:
        """A call like this whose output is unknown constrains nothing."""
        return (self.droppable or self.read_only)(inp)

    def unpartitioned(self, keys: Sequence[Hashable] = ()) -> Model:
        """The same object as one whole: the state is a tuple of every part's state.

        Used to check that partitioned and whole-history searches agree, and to measure a
        search on the harder unpartitioned problem (Porcupine's "no partition" benchmark).
        `keys` lists the parts' keys in advance (a fixed tuple is cheaper than a mapping);
        keys not listed are added as they appear. (Models partitioned by `keys` already
        keep every key in one state, so they are returned as they are, unsplit.)
        """
        if self.partition is None:
            if self.keys is None:
                return self
            return _replace(self, name=f"{self.name} (unpartitioned)", keys=None)
        part, step, init, describe_state = self.partition, self.step, self.init, self.describe_state
        known = tuple(keys)
        slot = {key: i for i, key in enumerate(known)}

        def whole_step(state: Any, inp: Input) -> tuple[Hashable, Any]:
            key = part(inp)
            i = slot.get(key)
            if i is None:  # a key not listed in advance: look for it in the extra pairs
                extra = dict(state[len(known) :])
                new, out = step(extra.get(key, init()), inp)
                extra[key] = new
                ordered = tuple(sorted(extra.items(), key=lambda kv: repr(kv[0])))
                return state[: len(known)] + ordered, out
            new, out = step(state[i], inp)
            return (*state[:i], new, *state[i + 1 :]), out

        def describe(state: Any) -> str:
            pairs = list(zip(known, state, strict=False)) + list(state[len(known) :])
            return "{" + ", ".join(f"{k!r}: {describe_state(s)}" for k, s in pairs) + "}"

        # Per-key hooks (effect, needless, refute) are sound on the whole history too when
        # every key's calls are judged apart; the whole-history model keeps only `effect`
        # with the key in it, and the cheap proofs run per key in the partitioned check.
        effect = self.effect
        return Model(
            name=f"{self.name} (unpartitioned)",
            init=lambda: tuple(init() for _ in known),
            step=whole_step,
            partition=None,
            read_only=self.read_only,
            describe_state=describe,
            droppable=self.droppable,
            effect=None if effect is None else (lambda inp: (part(inp), effect(inp))),
            output_form=self.output_form,
        )


def _replace(model: Model, **changes: Any) -> Model:
    return replace(model, **changes)


# --- key/value (6.5840 kvraft and Porcupine's kv model): per key, a string, initially "".


def _kv_step(state: str, inp: Input) -> tuple[str, Any]:
    f, _key, value = inp
    if f == "get":
        return state, state
    if f == "put":
        return value, None
    if f == "append":
        return state + value, None
    raise ValueError(f"kv model: unknown operation {f!r} (expected get, put or append)")


def _kv_partition(inp: Input) -> Any:
    return inp[1]


def _kv_needless(calls: Sequence[Call]) -> set[int]:
    """A put or append whose value shows in no completed get (one key): the state holds that
    value from then on until the next put, so no get fits between, and leaving the call out
    changes nothing anyone saw. (Empty values show in every string: never needless.)"""
    outputs = [c.output for c in calls if observed(c) and c.input[0] == "get"]
    strings = [o for o in outputs if isinstance(o, str)]
    # All outputs in one text, each after a NUL: "shows in" and "starts" are one search each
    # (an output that holds a NUL itself is searched one by one).
    joined = "\x00" + "\x00".join(strings)
    exact = all("\x00" not in s for s in strings)
    needless = set()
    for i, c in enumerate(calls):
        f, _key, value = c.input
        if c.ret is not None or f == "get" or not isinstance(value, str) or not value:
            continue
        if exact and "\x00" not in value:
            shows = (("\x00" + value) if f == "put" else value) in joined
        elif f == "put":
            shows = any(s.startswith(value) for s in strings)
        else:
            shows = any(value in s for s in strings)
        if not shows:
            needless.add(i)
    return needless


def _kv_refute(calls: Sequence[Call]) -> Refuted | None:
    """A get of a non-empty string that no put or append of the key can start: every state
    is "" or begins with some put's or append's value."""
    starts = {c.input[2] for c in calls if c.input[0] in ("put", "append")}
    starts = {v for v in starts if isinstance(v, str) and v}
    lengths = sorted({len(v) for v in starts})
    for i, c in enumerate(calls):
        seen = c.output if observed(c) and c.input[0] == "get" else None
        if isinstance(seen, str) and seen and not any(seen[:n] in starts for n in lengths):
            return f"a get returned {seen!r}, which no put or append of the key begins", (i,)
    return None


def _kv_may_become(state: str, output: Any, resets: Sequence[Input]) -> bool:
    """Appends only extend the string; a put starts it afresh with its value."""
    if not isinstance(output, str):
        return True
    return output.startswith(state) or any(
        isinstance(inp[2], str) and output.startswith(inp[2]) for inp in resets
    )


# A state no get of the part can return: it holds a value that no get read. Appends keep it
# so, and only a put starts afresh. Folding all such states into this one lets the memo meet
# them: otherwise every order of appends that a later put wipes is a state of its own, and a
# history with a few concurrent appends before each put has factorially many.
UNREAD = "\x00unread\x00"


def _kv_for_part(calls: Sequence[Call]) -> Model:
    outputs = [c.output for c in calls if observed(c) and c.input[0] == "get"]
    if not all(isinstance(o, str) for o in outputs) or any(UNREAD in o for o in outputs):
        return KV
    reading = _read_orders(calls)
    blind_puts: set[Any] = set()
    blind_appends: set[Any] = set()
    if reading is not None and reading[2]:
        # Every get's output splits into writes: a write is read iff some split holds it.
        _orders, seen, _every = reading
        for i, c in enumerate(calls):
            f, _key, value = c.input
            if f != "get" and i not in seen:
                (blind_puts if f == "put" else blind_appends).add(value)
    else:
        text = "\x00" + "\x00".join(outputs) + "\x00"
        for c in calls:
            f, _key, value = c.input
            if not isinstance(value, str) or not value:
                continue
            if f == "put" and ("\x00" + value) not in text:
                blind_puts.add(value)
            elif f == "append" and value not in text:
                blind_appends.add(value)
    orders = {} if reading is None else reading[0]
    precedence = None if not orders else (lambda _calls: orders)
    if not blind_puts and not blind_appends:
        return replace(KV, for_part=None, precedence=precedence)

    def step(state: str, inp: Input) -> tuple[str, Any]:
        f, _key, value = inp
        if f == "put":
            return (UNREAD if value in blind_puts else value), None
        if f == "append":
            if state is UNREAD or value in blind_appends:
                return UNREAD, None
            return state + value, None
        return _kv_step(state, inp)

    return replace(KV, step=step, for_part=None, needless=None, refute=None,
                   precedence=precedence,
                   describe_state=lambda s: "(a value no get read)" if s is UNREAD else repr(s))


_MAX_TOKENS = 256  # values read off one get's output at most (longer ones: the first only)


def _read_orders(calls: Sequence[Call]) -> tuple[dict[int, int], set[int], bool] | None:
    """Orders the gets show, when every value written is a distinct non-empty string (Jepsen's
    and our generator's unique tokens), so a get's output splits one way only into the value
    of the last put before it (its base; none if no put came first) and the appends after:
    1. the base, then each append in the order the output shows them, precede the get;
    2. a put that is the base of a get G comes after every get that returned before G was
       called and has another base (else that get's base would come between it and G).
    Nothing is inferred from an output that does not split one way (then it says nothing).
    Returns (position -> bitmask of the positions before it, the writes some get shows,
    whether every get's output split), or None when the values are not unique."""
    puts: dict[str, int] = {}
    appends: dict[str, int] = {}
    for i, c in enumerate(calls):
        f, _key, value = c.input
        if f == "get":
            continue
        if not isinstance(value, str) or not value or value in puts or value in appends:
            return None  # a put of "" or a value written twice: outputs do not split one way
        (puts if f == "put" else appends)[value] = i
    lengths = sorted({len(v) for v in puts} | {len(v) for v in appends})
    before: dict[int, int] = {}
    bases: list[tuple[float, float, int, int]] = []  # (return, call, position, base or -1)
    seen: set[int] = set()
    every = True
    splits: dict[str, tuple[int, list[int]] | None] = {}  # many gets return one string
    for i, c in enumerate(calls):
        if not observed(c) or c.input[0] != "get" or not isinstance(c.output, str):
            continue
        assert c.ret is not None
        if c.output not in splits:
            splits[c.output] = _split(c.output, puts, appends, lengths)
        split = splits[c.output]
        if split is None:
            every = False
            continue
        base, chain = split
        if len(chain) >= _MAX_TOKENS:
            every = False  # a long output: only its first writes were read off
        seen.update(chain)
        if base >= 0:
            seen.add(base)
        order = ([base] if base >= 0 else []) + chain
        for a, b in pairwise(order):
            before[b] = before.get(b, 0) | 1 << a
        bases.append((c.ret, c.call, i, base))
    # Rule 2: gets by return time, with prefix masks of those of each other base.
    bases.sort()
    returns = [r for r, _c, _i, _b in bases]
    prefix = [0]
    for _r, _c, i, _b in bases:
        prefix.append(prefix[-1] | 1 << i)
    same_base: dict[int, int] = {}
    latest_call: dict[int, float] = {}
    for _r, call, i, base in bases:
        if base >= 0:
            same_base[base] = same_base.get(base, 0) | 1 << i
            latest_call[base] = max(latest_call.get(base, call), call)
    for put, t in latest_call.items():
        earlier = prefix[bisect_left(returns, t)] & ~same_base[put]
        if earlier:
            before[put] = before.get(put, 0) | earlier
    return before, seen, every


def _split(output: str, puts: dict[str, int], appends: dict[str, int],
           lengths: list[int]) -> tuple[int, list[int]] | None:
    """(the base put's position or -1, the appends' positions in order) of which `output`
    is made, if it splits one way only; None otherwise."""
    base = -1
    chain: list[int] = []
    pos = 0
    while pos < len(output) and len(chain) < _MAX_TOKENS:
        found, size = -1, 0
        for n in lengths:
            piece = output[pos:pos + n]
            if len(piece) < n:
                break
            hits = [h for h in ((puts.get(piece, -1) if pos == 0 else -1),
                                appends.get(piece, -1)) if h >= 0]
            if hits:
                if found >= 0 or len(hits) > 1:
                    return None  # it splits two ways
                found, size = hits[0], n
        if found < 0:
            return None
        if pos == 0 and output[:size] in puts:
            base = found
        else:
            chain.append(found)
        pos += size
    return base, chain


KV = Model(
    name="kv",
    init=str,
    step=_kv_step,
    partition=_kv_partition,
    read_only=lambda inp: inp[0] == "get",
    describe_state=repr,
    reads_return_state=True,
    needless=_kv_needless,
    refute=_kv_refute,
    resets=lambda inp: inp[0] == "put",
    may_become=_kv_may_become,
    for_part=_kv_for_part,  # with the orders the gets show (see `_read_orders`)
)

# --- registers: read and write one value, initially nil; the compare-and-set register (the
# etcd corpus) adds `cas`, whose output is whether it swapped.


def _register_step(state: Any, inp: Input) -> tuple[Any, Any]:
    f, _key, value = inp
    if f == "read":
        return state, state
    if f == "write":
        return value, None
    raise ValueError(f"register model: unknown operation {f!r} (expected read or write)")


def _cas_step(state: Any, inp: Input) -> tuple[Any, Any]:
    f, _key, value = inp
    if f == "cas":
        expected, new = value
        if state == expected:
            return new, True
        return state, False
    return _register_step(state, inp)


def _show(state: Any) -> str:
    return "nil" if state is None else str(state)


def _written(inp: Input) -> Any:
    """The value a register call may leave (a cas's new value); None for a read."""
    f, _key, value = inp
    if f == "write":
        return value
    if f == "cas" and isinstance(value, tuple) and len(value) == 2:
        return value[1]
    return None


def _register_needless(calls: Sequence[Call]) -> set[int]:
    """A write (or a cas) that never returned, whose value no completed read returned and no
    cas expected: from it until the next write the register holds that value, which nobody
    was seen to look at. A cas that failed looked at a value too (it saw a different one),
    so while any completed cas failed, nothing is needless."""
    looked: set[Any] = set()
    for c in calls:
        if not observed(c):
            continue
        f, _key, value = c.input
        if f == "read":
            looked.add(_key_of(c.output))
        elif f == "cas":
            if c.output is not True:
                return set()
            looked.add(_key_of(value[0]))
    return {
        i for i, c in enumerate(calls)
        if c.ret is None and c.input[0] in ("write", "cas")
        and _key_of(_written(c.input)) not in looked
    }


def _key_of(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _register_refute(calls: Sequence[Call]) -> Refuted | None:
    """A completed read (or a cas that swapped) saw a value that is neither the initial nil
    nor written by any call."""
    written = {_key_of(_written(c.input)) for c in calls} | {None}
    for i, c in enumerate(calls):
        if not observed(c):
            continue
        f, _key, value = c.input
        if f == "read" and _key_of(c.output) not in written:
            return f"a read returned {_show(c.output)}, which no call wrote", (i,)
        if f == "cas" and c.output is True and _key_of(value[0]) not in written:
            return f"a cas found {_show(value[0])}, which no call wrote", (i,)
    return None


def _register(name: str, step: Callable[[Any, Input], tuple[Any, Any]]) -> Model:
    return Model(
        name=name,
        init=lambda: None,
        step=step,
        read_only=lambda inp: inp[0] == "read",
        describe_state=_show,
        reads_return_state=True,
        needless=_register_needless,
        refute=_register_refute,
    )


REGISTER = _register("register", _register_step)
CAS_REGISTER = _register("cas-register", _cas_step)

# --- log: an append-only log whose append returns the index the entry landed at, as a
# replicated log (Raft seen by its clients) answers. The state is the log's length: the
# index an append gets does not depend on what earlier entries hold.


def _log_step(length: int, inp: Input) -> tuple[int, Any]:
    if inp[0] != "append":
        raise ValueError(f"log model: unknown operation {inp[0]!r} (expected append)")
    return length + 1, length + 1


def _log_refute(calls: Sequence[Call]) -> Refuted | None:
    """Indexes no order of appends gives: two completed appends at one index; an index below
    1 + the appends that returned before the call (they all come first), or above the
    appends called before the return (only they can come first)."""
    known = [(i, c) for i, c in enumerate(calls) if observed(c)]
    at: dict[Any, int] = {}
    for i, c in known:
        if c.output in at:
            return (f"two appends returned index {c.output}", (at[c.output], i))
        at[c.output] = i
    # Every call that returned is placed, whatever it returned; any call may come before one
    # that returns after it was called.
    returns = sorted(c.ret for c in calls if c.ret is not None)
    calls_at = sorted(c.call for c in calls)
    for i, c in known:
        if not isinstance(c.output, int | float):  # (compared as the model compares: 1 == 1.0)
            return (f"an append returned {c.output!r}, not an index", (i,))
        before = bisect_left(returns, c.call)  # returned strictly before this call
        if c.output <= before:
            return (f"an append returned index {c.output}, but {before} appends had "
                    "returned before it was called", (i,))
        assert c.ret is not None
        possible = bisect_right(calls_at, c.ret)  # a call at its return time is concurrent
        if c.output > possible:
            return (f"an append returned index {c.output}, but only {possible} appends "
                    "had been called when it returned", (i,))
    return None


def _log_precedence(calls: Sequence[Call]) -> dict[int, int]:
    """Completed appends in the order of the indexes they returned: the entry at index i is
    placed before the one at j > i in every linearization (one chain: each follows the
    next lower index returned)."""
    known = sorted((c.output, i) for i, c in enumerate(calls)
                   if observed(c) and isinstance(c.output, int | float))
    before: dict[int, int] = {}
    for (low, a), (high, b) in pairwise(known):
        if low < high:
            before[b] = 1 << a
    return before


LOG = Model(
    name="log",
    init=int,
    step=_log_step,
    describe_state=lambda length: f"{length} entries",
    effect=lambda inp: "append",  # the state is the length: any append has the same effect
    refute=_log_refute,
    precedence=_log_precedence,
)


def multiset_excess(taken: Iterable[Hashable], given: Iterable[Hashable]) -> Hashable | None:
    """An element taken more often than given (for queues), or None."""
    have = Counter(given)
    for v, n in Counter(taken).items():
        if n > have.get(v, 0):
            return v
    return None

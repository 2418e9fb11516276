"""The model interface: a sequential specification as a handful of pure functions.

A model is deterministic: `step(state, input)` returns the next state and the output the
object must have returned. The checker compares that output with the recorded one (and skips
the comparison for unknown outcomes), so a model never needs to know about time-outs, crashes
or pending calls. States and inputs must be hashable: the search memoises (linearized set,
state) pairs (Lowe's improvement to Wing & Gong).

Optional hooks make the search faster without changing its answers:
- `partition(input)`: a key; operations with different keys never interact, so each part is
  checked on its own (P-compositionality, Horn & Kroening 2015). Key/value splits per key.
- `read_only(input)`: the operation never changes the state, whatever the state. The search
  then places such an operation as soon as it fits instead of branching on it, and drops
  read-only operations with unknown outputs altogether (they constrain nothing).
- `reads_return_state`: read-only operations return exactly the state (see below).

A new model, e.g. a counter:

    COUNTER = Model(name="counter", init=lambda: 0,
                    step=lambda n, i: (n + i[2], None) if i[0] == "add" else (n, n),
                    read_only=lambda i: i[0] == "get")
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from checker.linearizability.history import Input


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
    # registers): the search then finds the reads that fit a state by one dictionary lookup
    # instead of stepping every pending read at every node.
    reads_return_state: bool = False

    def unpartitioned(self, keys: Sequence[Hashable] = ()) -> Model:
        """The same object checked as one whole: the state is a tuple of every part's state.

        Used to check that partitioned and whole-history searches agree, and to measure the
        search on the harder unpartitioned problem (Porcupine's "no partition" benchmark).
        `keys` lists the parts' keys in advance (a fixed tuple is cheaper than a mapping);
        keys not listed are added as they appear.
        """
        if self.partition is None:
            return self
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

        return Model(
            name=f"{self.name} (unpartitioned)",
            init=lambda: tuple(init() for _ in known),
            step=whole_step,
            partition=None,
            read_only=self.read_only,
            describe_state=describe,
        )

"""The validator's engine: generic over a system's spec, mapping and action matcher.

Theory of operation
-------------------
A system plugs in a `Binding`: the name of its spec, and `start(header, path)`, which returns
a `Stepper` for one trace — the system's action matcher, holding the spec state that the
trace's prefix has led to, written against the system's one refinement mapping (for Raft,
`checker.validation.raft` over `checker.validation.raft_mapping`). The engine feeds it the
trace's events in order (`Validation.feed`, so that `dscheck check-trace` validates in the
same pass that evaluates the invariants) and stops at the first event the stepper rejects:
after a mismatch the spec state is no longer defined, and every later verdict would rest on a
guess. The engine counts the events, keeps the trace lines the mismatch cites, and builds
the result; the stepper counts the spec actions it matched and the events that needed a
search among several candidate actions.

A system without a binding is not validated (the result says so: `binding_for` is None); the
key/value and sharded services add theirs as their specs land (open issue 13).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from checker.trace_check.reader import Event, Header, read_events, read_header
from checker.validation.result import Mismatch, ValidationResult
from checker.verdict import Verdict
from spec.errors import BadInput


class Stepper(Protocol):
    """A system's action matcher for one trace."""

    actions: Counter[str]  # spec actions matched, by name; "stutter" for stuttering steps
    searched: int  # events that needed more than one candidate action
    check_types: bool  # check each new state's JSON types (off when someone else does)

    def event(self, ev: Event) -> Mismatch | None:
        """Match one event to a spec action (or a stutter); the mismatch if none fits."""

    def finish(self) -> Mismatch | None:
        """The end of the trace: a mismatch if something the spec requires never happened."""


@dataclass(frozen=True, slots=True)
class Binding:
    """What a system plugs into the validator."""

    system: str
    spec: str  # the spec module, e.g. "spec.raft"
    start: Callable[[Header, str], Stepper]
    replay: Callable[[Header, str], list[str]]  # the commands that replay a run


def binding_for(system: str) -> Binding | None:
    """The validator's binding for `system`, or None when it has none yet."""
    if system == "raft":
        from checker.validation.raft import BINDING

        return BINDING
    return None


class Validation:
    """One trace's validation, fed event by event."""

    def __init__(self, binding: Binding, header: Header, path: str, *,
                 check_types: bool = True) -> None:
        """`check_types=False` when the events' JSON types are checked elsewhere (the
        invariant pass of the same loop) or hold by construction (a writer's own records);
        a value of a wrong type is still bad input, found when it is used."""
        self.binding = binding
        self.header = header
        self.path = path
        self.stepper = binding.start(header, path)
        self.stepper.check_types = check_types
        self.events = 0
        self.mismatch: Mismatch | None = None
        self.seconds = 0.0

    def feed(self, ev: Event) -> None:
        if self.mismatch is not None:
            return
        start = time.perf_counter()
        self.events += 1
        try:
            self.mismatch = self.stepper.event(ev)
        except (KeyError, TypeError, IndexError, AttributeError, ValueError) as e:
            raise BadInput(f"{ev.event} event: malformed ({type(e).__name__}: {e})",
                           self.path, ev.line) from None
        self.seconds += time.perf_counter() - start

    def finish(self, *, fill: bool = True) -> ValidationResult:
        """The result; `fill`: read the mismatch's excerpt from the trace file."""
        if self.mismatch is None:
            self.mismatch = self.stepper.finish()
        if self.mismatch is not None and fill:
            fill_excerpt(Path(self.path), self.mismatch)
        verdict = Verdict.VIOLATION if self.mismatch is not None else Verdict.OK
        return ValidationResult(self.path, self.binding.system, self.binding.spec, verdict,
                                self.events, self.stepper.actions, self.stepper.searched,
                                self.seconds, self.mismatch,
                                self.binding.replay(self.header, self.path))


def validate_trace(path: Path) -> ValidationResult | None:
    """Validate the trace at `path` on its own (one read); None when its system has no
    binding. BadInput if the file is not a trace."""
    name = str(path)
    start = time.perf_counter()
    try:
        stream = path.open(encoding="utf-8")
    except OSError as e:
        raise BadInput(f"cannot read: {e.strerror}", name) from None
    with stream:
        try:
            header = read_header(stream, name)
            binding = binding_for(header.system)
            if binding is None:
                return None
            validation = Validation(binding, header, name)
            for ev in read_events(stream, name, header):
                validation.feed(ev)
                if validation.mismatch is not None:
                    break
        except UnicodeDecodeError:
            raise BadInput("not UTF-8 text; expected JSON Lines", name) from None
    validation.seconds = time.perf_counter() - start
    return validation.finish()


def fill_excerpt(path: Path, mismatch: Mismatch) -> None:
    wanted = set(mismatch.excerpt_lines)
    text: dict[int, str] = {}
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if number in wanted:
                text[number] = line.rstrip("\n")
            if number >= max(wanted, default=0):
                break
    mismatch.excerpt = [text.get(n, "") for n in mismatch.excerpt_lines]

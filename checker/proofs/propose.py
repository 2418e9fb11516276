"""Proposing auxiliary invariants from counterexamples to induction (a small, template-based
take on what mypyvy's and Ivy's invariant inference do).

Theory of operation
-------------------
A CTI's pre-state satisfies every invariant assumed but should not: some lemma is missing that
rules it out. Candidates are drawn from templates that relate a message in flight to the
current term and role of its sender or receiver (the shape of most of Raft's lemmas about
messages). A candidate is kept when

1. it is false on the pre-state of some remaining CTI (it would rule that CTI out),
2. it is true on every state of a sample of reachable states (random walks of the executable
   spec) — a cheap filter against lemmas that are simply false, and
3. it survives Houdini together with the invariants already proved (`prove`), so that what is
   proposed is inductive relative to them: a real lemma for these bounds, not a guess.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from checker.invariants import CONCRETE, from_spec
from checker.invariants.ops import Ops
from checker.invariants.raft import ALL, Invariant
from checker.invariants.view import AE, AER, CANDIDATE, FOLLOWER, KIND_NAMES, LEADER, RV, RVR
from checker.proofs.induction import ProofResult, prove
from spec.raft import Config, State, initial_states, successors

ROLES = {FOLLOWER: "Follower", CANDIDATE: "Candidate", LEADER: "Leader"}


def _flag_cond(m: Any, o: Ops, kind: int, flag: bool | None) -> Any:
    conds = [m.kind == kind]
    if flag is not None:
        field = m.granted if kind == RVR else m.success
        conds.append(field if flag else o.not_(field))
    return o.all(conds)


def _term_template(kind: int, flag: bool | None, who: str, rel: str) -> Invariant:
    compare: Callable[[Any, Any], Any] = {
        "≤": lambda a, b: a <= b, "=": lambda a, b: a == b, "≥": lambda a, b: a >= b}[rel]

    def body(v: Any, o: Ops, m: Any) -> Any:
        end = m.src if who == "src" else m.dst
        return o.implies(_flag_cond(m, o, kind, flag), o.all(
            o.implies(end == x, compare(m.term, v.term[x])) for x in range(v.n)))

    return Invariant(f"Proposed[{_label(kind, flag)}.term {rel} term[m.{who}]]",
                     "proposed from a CTI", f"∀m ∈ {_label(kind, flag)}. m.term {rel} "
                     f"term[m.{who}]", "message", body, True, frozenset({"network"}))


def _role_template(kind: int, flag: bool | None, who: str, role: int) -> Invariant:
    def body(v: Any, o: Ops, m: Any) -> Any:
        end = m.src if who == "src" else m.dst
        return o.implies(_flag_cond(m, o, kind, flag), o.all(
            o.implies(o.all([end == x, v.term[x] == m.term]), v.role[x] != role)
            for x in range(v.n)))

    return Invariant(f"Proposed[{_label(kind, flag)} ⇒ m.{who} not {ROLES[role]}]",
                     "proposed from a CTI", f"∀m ∈ {_label(kind, flag)}. term[m.{who}] = m.term "
                     f"⇒ role[m.{who}] ≠ {ROLES[role]}", "message", body, True,
                     frozenset({"network"}))


def _label(kind: int, flag: bool | None) -> str:
    name = KIND_NAMES[kind]
    if flag is None:
        return name
    return f"{name}({'granted' if kind == RVR else 'success'}={flag})"


def templates() -> list[Invariant]:
    out = []
    for kind in (RV, RVR, AE, AER):
        flags: list[bool | None] = [None] if kind in (RV, AE) else [None, True, False]
        for flag in flags:
            for who in ("src", "dst"):
                for rel in ("≤", "=", "≥"):
                    out.append(_term_template(kind, flag, who, rel))
                for role in (FOLLOWER, CANDIDATE, LEADER):
                    out.append(_role_template(kind, flag, who, role))
    return out


def reachable_sample(config: Config, *, walks: int = 40, steps: int = 40,
                     seed: int = 0) -> list[State]:
    rng = random.Random(seed)
    sample = []
    for _ in range(walks):
        state = initial_states(config)[0]
        for _ in range(steps):
            sample.append(state)
            options = list(successors(state, config))
            if not options:
                break
            state = rng.choice(options)[1]
    return sample


def propose(config: Config, result: ProofResult, base: tuple[Invariant, ...] = ALL, *,
            workers: int = 1) -> tuple[list[Invariant], ProofResult | None]:
    """Candidates that rule out a remaining CTI, hold on reachable samples, and are inductive
    with what `result` proved; and the proof of `base` re-run with them (None if there were
    none)."""
    ctis = [c.cti.pre for c in result.checks if c.cti is not None and c.cti.confirmed]
    if not ctis:
        return [], None
    cti_views = [from_spec(s) for s in ctis]
    sample = [from_spec(s) for s in reachable_sample(config)]
    candidates = [t for t in templates()
                  if any(not t.holds(v, CONCRETE) for v in cti_views)
                  and all(t.holds(v, CONCRETE) for v in sample)]
    if not candidates:
        return [], None
    proved = [inv for inv in base if inv.name in result.proved]
    houdini = prove(config, invariants=(*proved, *candidates), workers=workers)
    kept = [c for c in candidates if c.name in houdini.proved]
    if not kept:
        return [], None
    return kept, prove(config, invariants=(*base, *kept), workers=workers)

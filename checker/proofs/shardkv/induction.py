"""The sharded KV invariants proved inductive with Z3, each counterexample to induction
re-evaluated by the executable spec before it is shown.

Theory of operation
-------------------
For the candidates (`checker.invariants.shardkv.ALL`: the spec's safety properties and the
auxiliary lemmas) and each candidate P:

- initiation: Init(s) ∧ ¬P(s) is unsatisfiable;
- consecution: Domain(s) ∧ Inv(s) ∧ Next(s, s') ∧ ¬P(s') is unsatisfiable, Inv being the
  conjunction of the candidates still standing — P is preserved by every step from any state of
  the bounded domain where they all hold, reachable or not.

A candidate that fails is dropped, its counterexample kept, and the rest checked again until
none fails (Houdini): what stands is an inductive invariant of the bounded spec, so each
safety property in it holds in every reachable state. ConfigurationsInOrder, a property of
steps, is checked as Domain(s) ∧ Inv(s) ∧ Next(s, s') ⇒ CIO(s, s') against the final set.

A counterexample to induction (CTI) is decoded into spec states and confirmed by the spec: the
post-state is one of the spec's successors of the pre-state (the action is named from there),
the pre-state satisfies every candidate assumed, evaluated concretely, and the post-state
violates P. A CTI the spec does not confirm makes the check UNKNOWN, never a verdict; so does
Z3's "unknown".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from checker.invariants import CONCRETE, Z3
from checker.invariants.shardkv import ALL, CONFIGURATIONS_IN_ORDER, SAFETY, Invariant
from checker.invariants.shardkv_view import from_spec
from checker.invariants.solver import frame
from checker.proofs.shardkv.symbolic import SymState, decode
from checker.proofs.shardkv.transition import init, next_relation
from checker.verdict import Verdict
from spec.shardkv import INVARIANTS, TRANSITION_INVARIANTS, Config, State, successors


@dataclass
class CTI:
    invariant: str
    pre: State
    action: str
    post: State
    confirmed: bool
    notes: list[str] = field(default_factory=list)


@dataclass
class Check:
    invariant: str
    kind: str  # "init", "step (round k)", "step (inductive set)"
    verdict: Verdict
    seconds: float
    cti: CTI | None = None
    reason: str = ""


@dataclass
class ProofResult:
    config: Config
    checks: list[Check]
    seconds: float
    invariants: list[str]  # every candidate, in order, then ConfigurationsInOrder
    proved: list[str]  # the inductive subset (and ConfigurationsInOrder if it holds)
    rounds: int

    @property
    def safety_proved(self) -> bool:
        names = [inv.name for inv in SAFETY] + [CONFIGURATIONS_IN_ORDER.name]
        return all(name in self.proved for name in names)

    @property
    def verdict(self) -> Verdict:
        """OK only when every safety property is proved; a CTI alone is not a violation (its
        pre-state may be unreachable), so anything less is UNKNOWN."""
        return Verdict.OK if self.safety_proved else Verdict.UNKNOWN

    def not_proved(self) -> list[Check]:
        return [c for c in self.checks if c.verdict is not Verdict.OK]


def prove(config: Config, *, invariants: tuple[Invariant, ...] = ALL,
          timeout_ms: int = 60_000) -> ProofResult:
    """Houdini over `invariants` (see the module docstring)."""
    start = time.perf_counter()
    checks: list[Check] = []
    s0 = SymState(config, "init")
    base = z3.Solver()
    base.set("timeout", timeout_ms)
    base.add(init(s0))
    standing: list[Invariant] = []
    for inv in invariants:
        t = time.perf_counter()
        with frame(base):
            base.add(z3.Not(inv.holds(s0, Z3)))
            answer = base.check()
            reason = base.reason_unknown() if answer == z3.unknown else ""
        checks.append(Check(inv.name, "init", _verdict(answer), time.perf_counter() - t,
                            reason=reason))
        if answer == z3.unsat:
            standing.append(inv)

    pre, post = SymState(config, "pre"), SymState(config, "post")
    relation, _ = next_relation(pre, post, config)
    rounds = 0
    while standing:
        rounds += 1
        solver = z3.Solver()
        solver.set("timeout", timeout_ms)
        solver.add(pre.domain(), relation, *[inv.holds(pre, Z3) for inv in standing])
        results = [_consecution(solver, inv, pre, post, config, standing) for inv in standing]
        failed = {c.invariant for c in results if c.verdict is not Verdict.OK}
        for c in results:
            c.kind = f"step (round {rounds})" if failed else "step (inductive set)"
        checks += [c for c in results if c.invariant in failed or not failed]
        if not failed:
            break
        standing = [inv for inv in standing if inv.name not in failed]
    proved = [inv.name for inv in standing]
    step = _step_check(pre, post, relation, config, standing, timeout_ms)
    checks.append(step)
    if step.verdict is Verdict.OK:
        proved.append(CONFIGURATIONS_IN_ORDER.name)
    return ProofResult(config, checks, time.perf_counter() - start,
                       [inv.name for inv in invariants] + [CONFIGURATIONS_IN_ORDER.name],
                       proved, rounds)


def _consecution(solver: z3.Solver, inv: Invariant, pre: SymState, post: SymState,
                 config: Config, standing: list[Invariant]) -> Check:
    t = time.perf_counter()
    with frame(solver):
        solver.add(z3.Not(inv.holds(post, Z3)))
        answer = solver.check()
        reason = solver.reason_unknown() if answer == z3.unknown else ""
        cti = None
        if answer == z3.sat:
            cti = confirm(inv.name, solver.model(), pre, post, config, standing)
    verdict = _verdict(answer)
    if cti is not None and not cti.confirmed:
        verdict = Verdict.UNKNOWN
        reason = "counterexample not confirmed by the executable spec: " + "; ".join(cti.notes)
    return Check(inv.name, "step", verdict, time.perf_counter() - t, cti, reason)


def _step_check(pre: SymState, post: SymState, relation: z3.BoolRef, config: Config,
                standing: list[Invariant], timeout_ms: int) -> Check:
    """ConfigurationsInOrder on every step from a state satisfying the standing set."""
    t = time.perf_counter()
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(pre.domain(), relation, *[inv.holds(pre, Z3) for inv in standing],
               z3.Not(CONFIGURATIONS_IN_ORDER.holds(pre, post, Z3)))
    answer = solver.check()
    reason = solver.reason_unknown() if answer == z3.unknown else ""
    cti = None
    if answer == z3.sat:
        cti = confirm(CONFIGURATIONS_IN_ORDER.name, solver.model(), pre, post, config,
                      standing)
    verdict = _verdict(answer)
    if cti is not None and not cti.confirmed:
        verdict = Verdict.UNKNOWN
        reason = "counterexample not confirmed by the executable spec: " + "; ".join(cti.notes)
    return Check(CONFIGURATIONS_IN_ORDER.name, "step (inductive set)", verdict,
                 time.perf_counter() - t, cti, reason)


def confirm(name: str, model: z3.ModelRef, pre: SymState, post: SymState, config: Config,
            assumed: list[Invariant]) -> CTI:
    """Decode a CTI and re-evaluate it with the executable spec (module docstring)."""
    before, after = decode(model, pre), decode(model, post)
    notes: list[str] = []
    action = spec_action(before, after, config, notes)
    view = from_spec(config, before)
    broken = [inv.name for inv in assumed if not inv.holds(view, CONCRETE)]
    if broken:
        notes.append(f"the pre-state breaks {', '.join(broken)}")
    if name == CONFIGURATIONS_IN_ORDER.name:
        fails = not TRANSITION_INVARIANTS[name](config, before, after)
    else:
        inv = next(i for i in ALL if i.name == name)
        fails = not inv.holds(from_spec(config, after), CONCRETE)
        if name in INVARIANTS and INVARIANTS[name](config, after) == fails:
            notes.append(f"the spec's own {name} disagrees with its definition here")
    if not fails:
        notes.append(f"the spec finds {name} true in the post-state")
    confirmed = action is not None and not broken and fails and len(notes) == 0
    return CTI(name, before, action or "?", after, confirmed, notes)


def spec_action(before: State, after: State, config: Config, notes: list[str]) -> str | None:
    """The spec's name for the step, or None (with a note) when the spec does not take it."""
    try:
        for action, nxt in successors(config, before):
            if nxt == after:
                return action
    except (AssertionError, IndexError, ValueError) as e:
        notes.append(f"the spec's successor function fails on the pre-state: {e!r}")
        return None
    notes.append("the post-state is not a successor of the pre-state in the spec")
    return None


def _verdict(answer: z3.CheckSatResult) -> Verdict:
    if answer == z3.unsat:
        return Verdict.OK
    if answer == z3.sat:
        return Verdict.VIOLATION
    return Verdict.UNKNOWN

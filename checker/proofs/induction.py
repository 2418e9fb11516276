"""Inductiveness checks and bounded model checking, with every counterexample re-evaluated by
the executable spec before it is shown.

Theory of operation
-------------------
For the conjunction Inv of `checker.invariants.raft.ALL` (the spec's safety properties and the
auxiliary lemmas) and each conjunct P:

- initiation: Init(s) ∧ ¬P(s) is unsatisfiable;
- consecution: Domain(s) ∧ Inv(s) ∧ Next(s, s') ∧ ¬P(s') is unsatisfiable — P is preserved
  by every step from any state of the bounded domain where all the invariants hold (not only
  from reachable states). Leader Append-Only, a property of steps, is checked the same way as
  Inv(s) ∧ Next(s, s') ⇒ LAO(s, s').

When every conjunct passes both, Inv is an inductive invariant of the bounded spec: it holds in
every reachable state, and so does each safety property in it. A satisfiable check is a
counterexample to induction (CTI): a pre-state, an action, a post-state. It is decoded into spec
states and re-evaluated by the executable spec — the post-state must be among the spec's
successors of the pre-state, the pre-state must satisfy every invariant and the post-state
violate P — before it is reported; a CTI the spec does not confirm is reported as an encoding
error, never silently. Z3's "unknown" (or a time-out) is reported as unknown.

Bounded model checking unrolls Init ∧ Next^k and asks, depth by depth, for a state violating a
safety property; a trace found is replayed through the spec.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import z3

from checker.invariants import ALL, CONCRETE, LEADER_APPEND_ONLY, SAFETY, Z3, from_spec
from checker.invariants.raft import Invariant
from checker.invariants.symbolic import Bounds, SymState, decode
from checker.proofs.ghost import Ghost, GhostView, update
from checker.proofs.transition import SymAction, init, next_relation
from checker.verdict import Verdict
from spec.raft import INVARIANTS, TRANSITION_INVARIANTS, Action, Config, State, successors


@dataclass
class CTI:
    """A counterexample to induction (or a BMC trace's last step), as spec states."""

    invariant: str
    pre: State
    action: str
    post: State
    confirmed: bool
    notes: list[str] = field(default_factory=list)
    ghost_pre: Ghost | None = None  # the history variables of the pre-state


@dataclass
class Check:
    invariant: str
    kind: str  # "init" or "step"
    verdict: Verdict
    seconds: float
    cti: CTI | None = None
    reason: str = ""


@dataclass
class ProofResult:
    config: Config
    checks: list[Check]  # initiation, then consecution per round, then Leader Append-Only
    seconds: float
    invariants: list[str]  # every candidate, in order
    proved: list[str]  # the inductive subset found (Houdini's fixpoint)
    rounds: int

    @property
    def safety_proved(self) -> bool:
        return all(inv.name in self.proved for inv in SAFETY) and self.transition_proved

    @property
    def transition_proved(self) -> bool:
        return any(c.invariant == LEADER_APPEND_ONLY.name and c.verdict is Verdict.OK
                   for c in self.checks)

    @property
    def verdict(self) -> Verdict:
        """OK only when every safety property is in the proved inductive set. A CTI is not by
        itself a violation (its pre-state may be unreachable): not proved is UNKNOWN, unless
        the solver's counterexample is a real behaviour (`bmc`)."""
        return Verdict.OK if self.safety_proved else Verdict.UNKNOWN

    def not_proved(self) -> list[Check]:
        """For each candidate dropped, the check that dropped it (with its CTI)."""
        return [c for c in self.checks if c.verdict is not Verdict.OK]


@dataclass
class BMCResult:
    config: Config
    depth: int
    verdict: Verdict
    seconds: float
    reached: int  # deepest depth fully checked
    invariant: str | None = None
    trace: list[tuple[str, State]] = field(default_factory=list)
    confirmed: bool = False
    reason: str = ""


def _answer(solver: z3.Solver) -> tuple[z3.CheckSatResult, str]:
    answer = solver.check()
    return answer, (solver.reason_unknown() if answer == z3.unknown else "")


def prove(config: Config, *, invariants: tuple[Invariant, ...] = ALL,
          timeout_ms: int = 60_000) -> ProofResult:
    """Initiation and consecution of every candidate invariant, relative to the conjunction of
    the candidates still standing: a candidate that fails is dropped (its CTI kept) and the
    rest re-checked, until none fails (Houdini, Flanagan & Leino 2001). What stands is an
    inductive invariant; every safety property in it is proved for the bounds."""
    start = time.perf_counter()
    bounds = Bounds.of(config)
    checks: list[Check] = []

    s0 = _with_ghost(SymState(bounds, "init"), "init")
    base = z3.Solver()
    base.set("timeout", timeout_ms)
    base.add(init(s0), s0.ghost.equals(Ghost.initial(bounds)))
    standing: list[Invariant] = []
    for inv in invariants:
        t = time.perf_counter()
        base.push()
        base.add(z3.Not(inv.holds(s0, Z3)))
        answer, reason = _answer(base)
        base.pop()
        checks.append(Check(inv.name, "init", _verdict(answer), time.perf_counter() - t,
                            reason=reason))
        if answer == z3.unsat:
            standing.append(inv)

    pre, post = _with_ghost(SymState(bounds, "pre"), "pre"), _with_ghost(SymState(bounds, "post"), "post")
    relation, acts = _instrumented(pre, post, config)
    rounds = 0
    solver = z3.Solver()
    while standing:
        rounds += 1
        solver = z3.Solver()
        solver.set("timeout", timeout_ms)
        solver.add(pre.domain(), pre.ghost.domain(bounds), relation,
                   *[inv.holds(pre, Z3) for inv in standing])
        round_checks = []
        for inv in standing:
            check = _consecution(solver, inv.name, inv.holds(post, Z3), pre, post, acts, config,
                                 standing)
            check.kind = f"step (round {rounds})"
            round_checks.append(check)
        failed = {c.invariant for c in round_checks if c.verdict is not Verdict.OK}
        # A failed check (its CTI, or the solver's unknown) stays in the record; the OK
        # checks count only in the round where nothing failed: each was then relative to
        # exactly the standing set, and that round's checks are the proof.
        checks += [c for c in round_checks if c.invariant in failed]
        if not failed:
            for c in round_checks:
                c.kind = "step (inductive set)"
            checks += round_checks
            break
        standing = [inv for inv in standing if inv.name not in failed]
    if standing:
        lao = _consecution(solver, LEADER_APPEND_ONLY.name,
                           LEADER_APPEND_ONLY.holds(pre, post, Z3), pre, post, acts, config,
                           standing)
        lao.kind = "step (inductive set)"
        checks.append(lao)
    return ProofResult(config, checks, time.perf_counter() - start,
                       [inv.name for inv in invariants] + [LEADER_APPEND_ONLY.name],
                       [inv.name for inv in standing], rounds)


def _with_ghost(s: SymState, name: str) -> SymState:
    """A symbolic state carrying fresh ghost variables (`checker.proofs.ghost`)."""
    s.ghost = Ghost.fresh(name, s.bounds)
    return s


def _instrumented(pre: SymState, post: SymState, config: Config) -> tuple[z3.BoolRef,
                                                                          list[SymAction]]:
    """Next(s, s') ∧ g' = update(s, g, s'): the spec's relation on the spec's variables (the
    ghost never constrains them), with the history variables updated deterministically."""
    relation, acts = next_relation(pre, post, config)
    ghost_next = post.ghost.equals(
        update(Z3, pre, pre.ghost, post, pre.bounds))
    return z3.And(relation, ghost_next), acts


def _consecution(solver: z3.Solver, name: str, goal: z3.BoolRef, pre: SymState,
                 post: SymState, acts: list[SymAction], config: Config,
                 assumed: list[Invariant]) -> Check:
    t = time.perf_counter()
    solver.push()
    solver.add(z3.Not(goal))
    answer, reason = _answer(solver)
    cti = None
    if answer == z3.sat:
        cti = _confirm(name, solver.model(), pre, post, acts, config, tuple(assumed))
    solver.pop()
    verdict = _verdict(answer)
    if cti is not None and not cti.confirmed:
        verdict = Verdict.UNKNOWN  # the encoding and the spec disagree: not a verdict
        reason = "counterexample not confirmed by the executable spec: " + "; ".join(cti.notes)
    return Check(name, "step", verdict, time.perf_counter() - t, cti, reason)


def _verdict(answer: z3.CheckSatResult) -> Verdict:
    if answer == z3.unsat:
        return Verdict.OK
    if answer == z3.sat:
        return Verdict.VIOLATION
    return Verdict.UNKNOWN


def _confirm(name: str, model: z3.ModelRef, pre: SymState, post: SymState,
             acts: list[SymAction], config: Config,
             invariants: tuple[Invariant, ...]) -> CTI:
    """Decode a CTI and re-evaluate it with the executable spec."""
    before, after = decode(model, pre), decode(model, post)
    bounds = pre.bounds
    g_before = pre.ghost.decode(model)
    g_after = post.ghost.decode(model)
    notes: list[str] = []
    # The ghost update, re-evaluated on the concrete step: it must be the solver's.
    if update(CONCRETE, from_spec(before), g_before, from_spec(after), bounds).key() != \
            g_after.key():
        notes.append("the ghost update on the concrete step differs from the solver's")
    fired = [a for a in acts if z3.is_true(model.eval(z3.And(a.guard, post.equals(a.post)),
                                                      model_completion=True))]
    action = _spec_action(before, after, config, notes)
    label = str(action) if action is not None else (fired[0].label() if fired else "?")
    view_before = GhostView(from_spec(before), g_before, bounds)
    broken_before = [inv.name for inv in invariants if not inv.holds(view_before, CONCRETE)]
    if broken_before:
        notes.append(f"the pre-state breaks {', '.join(broken_before)}")
    if name == LEADER_APPEND_ONLY.name:
        fails = not TRANSITION_INVARIANTS[name](before, after)
    elif name in INVARIANTS:
        fails = not INVARIANTS[name](after)
    else:
        fails = not next(i for i in invariants if i.name == name).holds(
            GhostView(from_spec(after), g_after, bounds), CONCRETE)
    if not fails:
        notes.append(f"the spec finds {name} true in the post-state")
    ghost_ok = not any("ghost update" in n for n in notes)
    confirmed = action is not None and not broken_before and fails and ghost_ok
    return CTI(name, before, label, after, confirmed, notes, g_before)


def _spec_action(before: State, after: State, config: Config, notes: list[str]) -> Action | None:
    try:
        for action, nxt in successors(before, config):
            if nxt == after:
                return action
    except AssertionError as e:  # the spec's own sanity checks (e.g. nextIndex in the log)
        notes.append(f"the spec's successor function fails on the pre-state: {e}")
        return None
    notes.append("the post-state is not a successor of the pre-state in the spec")
    return None


def bmc(config: Config, depth: int, *, timeout_ms: int = 120_000) -> BMCResult:
    """Search for a behaviour of at most `depth` steps that breaks a safety property."""
    start = time.perf_counter()
    bounds = Bounds.of(config)
    states = [SymState(bounds, "s0")]
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(init(states[0]))
    for k in range(depth + 1):
        if k > 0:
            states.append(SymState(bounds, f"s{k}"))
            relation, _ = next_relation(states[k - 1], states[k], config)
            solver.add(relation)
        solver.push()
        solver.add(z3.Not(z3.And([inv.holds(states[k], Z3) for inv in SAFETY])))
        answer, reason = _answer(solver)
        if answer == z3.sat:
            model = solver.model()
            trace_states = [decode(model, s) for s in states]
            solver.pop()
            return _bmc_trace(config, depth, k, trace_states, time.perf_counter() - start)
        solver.pop()
        if answer != z3.unsat:
            return BMCResult(config, depth, Verdict.UNKNOWN, time.perf_counter() - start, k - 1,
                             reason=reason or str(answer))
    # No violation within the bound: that is not a proof (UNKNOWN, never OK).
    return BMCResult(config, depth, Verdict.UNKNOWN, time.perf_counter() - start, depth,
                     reason=f"no violation within {depth} steps")


def _bmc_trace(config: Config, depth: int, k: int, states: list[State],
               seconds: float) -> BMCResult:
    """Replay the solver's behaviour through the spec, naming each step's action."""
    trace: list[tuple[str, State]] = [("Init", states[0])]
    notes: list[str] = []
    confirmed = states[0] in __import__("spec.raft", fromlist=["initial_states"]).initial_states(
        config)
    for before, after in itertools.pairwise(states):
        action = _spec_action(before, after, config, notes)
        confirmed = confirmed and action is not None
        trace.append((str(action) if action else "?", after))
    broken = [name for name, pred in INVARIANTS.items() if not pred(states[-1])]
    confirmed = confirmed and bool(broken)
    verdict = Verdict.VIOLATION if confirmed else Verdict.UNKNOWN
    return BMCResult(config, depth, verdict, seconds, k - 1, broken[0] if broken else None,
                     trace, confirmed, "; ".join(notes))

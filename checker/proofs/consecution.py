"""One consecution check, split into solver calls that can run anywhere (this process or a
forked worker), and the re-evaluation of its counterexample by the executable spec.

Theory of operation
-------------------
Consecution of P relative to the standing candidates S is the unsatisfiability of
Domain(s) ∧ S(s) ∧ Next(s, s') ∧ ¬P(s'). P(s') is a conjunction c₁ ∧ … ∧ cₙ (after unrolling
the bounded quantifiers), and ¬(c₁ ∧ … ∧ cₙ) is satisfiable exactly when some ¬cₖ is, so the
check is split into *parts*, one solver call per group of conjuncts, with the same verdict:
proved when every part is unsat, a counterexample when some part is sat (the first such part,
in part order, gives the CTI), unknown otherwise. Implications with a conjunctive consequent,
A ⇒ (B ∧ C), split the same way into A ⇒ B and A ⇒ C. Nothing is weakened: the parts together
are the goal. Small goals help Z3 a lot — EntryTermsElected's consecution takes ~50 s as one
call and ~6 s as five — and parts are the unit of work the parallel scheduler distributes.

A `Task` names one part as plain data (invariant name, part number, the standing set), so it
can be sent to a worker process; a `PartResult` comes back as plain data (the CTI as spec
states). Z3 objects never cross a process boundary: each process builds its own `StepChecker`
from the config and the candidates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from checker.invariants import CONCRETE, LEADER_APPEND_ONLY, Z3, from_spec
from checker.invariants.raft import Invariant
from checker.invariants.solver import frame
from checker.invariants.symbolic import Bounds, SymState, decode
from checker.proofs.ghost import Ghost, GhostView, update
from checker.proofs.transition import SymAction, next_relation
from checker.verdict import Verdict
from spec.raft import INVARIANTS, TRANSITION_INVARIANTS, Action, Config, State, successors

# Parts per check, where splitting was measured to pay (default bounds, one core):
# EntryTermsElected's consecution takes ~50 s as one call and ~5 s as six. Most other checks get
# slower when split (MatchHistory 7.6 s → 14.7 s): one call on the whole goal reuses what the
# solver learns across its conjuncts, so they stay whole.
PARTS: dict[str, int] = {"EntryTermsElected": 6}
MAX_PARTS = 1


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


@dataclass(frozen=True)
class Task:
    """One solver call of a Houdini round: part `part` of `invariant`'s consecution, relative
    to the candidates `standing` (by name, in candidate order)."""

    invariant: str
    part: int
    standing: tuple[str, ...]


@dataclass
class PartResult:
    task: Task
    verdict: Verdict
    seconds: float
    cpu_seconds: float
    reason: str = ""
    cti: CTI | None = None


def with_ghost(s: SymState, name: str) -> SymState:
    """A symbolic state carrying fresh ghost variables (`checker.proofs.ghost`)."""
    s.ghost = Ghost.fresh(name, s.bounds)
    return s


def instrumented(pre: SymState, post: SymState, config: Config) -> tuple[z3.BoolRef,
                                                                         list[SymAction]]:
    """Next(s, s') ∧ g' = update(s, g, s'): the spec's relation on the spec's variables (the
    ghost never constrains them), with the history variables updated deterministically."""
    relation, acts = next_relation(pre, post, config)
    ghost_next = post.ghost.equals(update(Z3, pre, pre.ghost, post, pre.bounds))
    return z3.And(relation, ghost_next), acts


def conjuncts(goal: z3.BoolRef) -> list[z3.BoolRef]:
    """goal as a list of formulas whose conjunction is goal (And flattened, and A ⇒ (B ∧ C)
    distributed into A ⇒ B, A ⇒ C)."""
    if z3.is_and(goal):
        return [c for child in goal.children() for c in conjuncts(child)]
    if z3.is_implies(goal):
        a, b = goal.children()
        parts = conjuncts(b)
        if len(parts) > 1:
            return [z3.Implies(a, c) for c in parts]
    if z3.is_true(goal):
        return []
    return [goal]


def split(goal: z3.BoolRef, max_parts: int = MAX_PARTS) -> list[z3.BoolRef]:
    """The goal as at most `max_parts` conjunctions (conjuncts dealt round-robin, so each part
    gets a share of every kind of clause); [True] when there is nothing to prove."""
    cs = conjuncts(goal)
    if not cs:
        return [z3.BoolVal(True)]
    k = min(max_parts, len(cs))
    return [z3.And(cs[p::k]) for p in range(k)]


def goals(config: Config, candidates: tuple[Invariant, ...],
          max_parts: int = MAX_PARTS) -> dict[str, list[z3.BoolRef]]:
    """Each candidate's consecution goal (and Leader Append-Only's), split into parts."""
    bounds = Bounds.of(config)
    pre = with_ghost(SymState(bounds, "pre"), "pre")
    post = with_ghost(SymState(bounds, "post"), "post")
    out = {inv.name: split(inv.holds(post, Z3), PARTS.get(inv.name, max_parts))
           for inv in candidates}
    out[LEADER_APPEND_ONLY.name] = split(LEADER_APPEND_ONLY.holds(pre, post, Z3), max_parts)
    return out


class StepChecker:
    """The symbolic step Domain(s) ∧ Next(s, s') with ghost update, and one solver per standing
    set, built in the process that runs the checks."""

    def __init__(self, config: Config, candidates: tuple[Invariant, ...], timeout_ms: int,
                 max_parts: int = MAX_PARTS) -> None:
        self.config, self.timeout_ms, self.max_parts = config, timeout_ms, max_parts
        self.by_name = {inv.name: inv for inv in candidates}
        bounds = Bounds.of(config)
        self.pre = with_ghost(SymState(bounds, "pre"), "pre")
        self.post = with_ghost(SymState(bounds, "post"), "post")
        self.relation, self.acts = instrumented(self.pre, self.post, config)
        self._solver: tuple[tuple[str, ...], z3.Solver] | None = None
        self._goals: dict[str, list[z3.BoolRef]] = {}

    def parts(self, name: str) -> list[z3.BoolRef]:
        """The parts of name's consecution goal (`split`), over this checker's post-state."""
        if name not in self._goals:
            if name == LEADER_APPEND_ONLY.name:
                goal = LEADER_APPEND_ONLY.holds(self.pre, self.post, Z3)
            else:
                goal = self.by_name[name].holds(self.post, Z3)
            self._goals[name] = split(goal, PARTS.get(name, self.max_parts))
        return self._goals[name]

    def solver(self, standing: tuple[str, ...]) -> z3.Solver:
        """The solver asserting the step and the standing candidates in the pre-state (kept
        while the standing set is the same: learned lemmas carry over between checks)."""
        if self._solver is None or self._solver[0] != standing:
            solver = z3.Solver()
            solver.set("timeout", self.timeout_ms)
            solver.add(self.pre.domain(), self.pre.ghost.domain(self.pre.bounds), self.relation,
                       *[self.by_name[n].holds(self.pre, Z3) for n in standing])
            self._solver = (standing, solver)
        return self._solver[1]

    def run(self, task: Task) -> PartResult:
        wall, cpu = time.perf_counter(), time.process_time()
        with frame(self.solver(task.standing)) as solver:
            solver.add(z3.Not(self.parts(task.invariant)[task.part]))
            answer = solver.check()
            reason = solver.reason_unknown() if answer == z3.unknown else ""
            cti = None
            if answer == z3.sat:
                cti = confirm(task.invariant, solver.model(), self.pre, self.post, self.acts,
                              self.config, tuple(self.by_name[n] for n in task.standing))
        verdict = Verdict.OK if answer == z3.unsat else (
            Verdict.VIOLATION if answer == z3.sat else Verdict.UNKNOWN)
        if cti is not None and not cti.confirmed:
            verdict = Verdict.UNKNOWN  # the encoding and the spec disagree: not a verdict
            reason = "counterexample not confirmed by the executable spec: " + "; ".join(
                cti.notes)
        return PartResult(task, verdict, time.perf_counter() - wall,
                          time.process_time() - cpu, reason, cti)


def combine(results: list[PartResult]) -> tuple[Verdict, str, CTI | None]:
    """The verdict of a check from its parts' (in part order; a list cut after the first
    counterexample is complete): a counterexample if some part has one (the first), else
    unknown if some part is unknown, else proved."""
    for r in results:
        if r.verdict is Verdict.VIOLATION:
            return r.verdict, r.reason, r.cti
    for r in results:
        if r.verdict is Verdict.UNKNOWN:
            # An unconfirmed CTI is unknown, and is shown as what the solver found.
            return r.verdict, r.reason, r.cti
    return Verdict.OK, "", None


def confirm(name: str, model: z3.ModelRef, pre: SymState, post: SymState,
            acts: list[SymAction], config: Config, invariants: tuple[Invariant, ...]) -> CTI:
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
    action = spec_action(before, after, config, notes)
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


def spec_action(before: State, after: State, config: Config, notes: list[str]) -> Action | None:
    try:
        for action, nxt in successors(before, config):
            if nxt == after:
                return action
    except (AssertionError, IndexError) as e:
        # the spec's own sanity checks (next_index in the log), or an unreachable pre-state it
        # was not written for (commit_index beyond the log): not a confirmed step
        notes.append(f"the spec's successor function fails on the pre-state: {e!r}")
        return None
    notes.append("the post-state is not a successor of the pre-state in the spec")
    return None

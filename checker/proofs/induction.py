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

Each consecution check is a few solver calls, one per part of its goal (`consecution`), and a
round's calls are independent: `workers` > 1 runs them in forked processes (`parallel`),
slowest first. The set that stands, and every verdict, do not depend on the number of workers.

Bounded model checking unrolls Init ∧ Next^k and asks, depth by depth, for a state violating a
safety property; a trace found is replayed through the spec.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import z3

from checker.invariants import ALL, LEADER_APPEND_ONLY, SAFETY, Z3
from checker.invariants.raft import LONG_LOG_AUXILIARY, SNAPSHOT_AUXILIARY, Invariant
from checker.invariants.solver import frame
from checker.invariants.symbolic import Bounds, SymState, decode
from checker.proofs.consecution import CTI, PartResult, Task, combine, goals, with_ghost
from checker.proofs.consecution import spec_action as _spec_action
from checker.proofs.ghost import Ghost
from checker.proofs.parallel import Workers
from checker.proofs.transition import init, next_relation
from checker.verdict import Verdict
from spec.raft import INVARIANTS, Config, State

__all__ = ["CTI", "BMCResult", "Check", "ProofResult", "bmc", "prove"]


@dataclass
class Check:
    invariant: str
    kind: str  # "init" or "step"
    verdict: Verdict
    seconds: float
    cti: CTI | None = None
    reason: str = ""
    parts: int = 1  # solver calls (`consecution.split`); seconds is their sum


@dataclass
class ProofResult:
    config: Config
    checks: list[Check]  # initiation, then consecution per round, then Leader Append-Only
    seconds: float
    invariants: list[str]  # every candidate, in order
    proved: list[str]  # the inductive subset found (Houdini's fixpoint)
    rounds: int
    workers: int = 1
    cpu_seconds: float = 0.0  # this process's and the workers' solver calls

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


def candidate_invariants(config: Config, *, ghost: bool = True) -> tuple[Invariant, ...]:
    """What `prove raft` tries: the invariants of `checker.invariants` (with the lemmas about
    longer logs from max_log 2 on, and the InstallSnapshot lemma when snapshots are on) and,
    with `ghost`, the ghost-variable lemmas."""
    from checker.proofs.ghost_invariants import GHOST_INVARIANTS, LONG_LOG_GHOST

    long_logs = config.max_log >= 2
    out = (ALL + (LONG_LOG_AUXILIARY if long_logs else ())
           + (SNAPSHOT_AUXILIARY if config.snapshots else ()))
    if ghost:
        out += GHOST_INVARIANTS + (LONG_LOG_GHOST if long_logs else ())
    return out


def _answer(solver: z3.Solver) -> tuple[z3.CheckSatResult, str]:
    answer = solver.check()
    return answer, (solver.reason_unknown() if answer == z3.unknown else "")


def prove(config: Config, *, invariants: tuple[Invariant, ...] = ALL,
          timeout_ms: int = 60_000, workers: int = 1) -> ProofResult:
    """Initiation and consecution of every candidate invariant, relative to the conjunction of
    the candidates still standing: a candidate that fails is dropped (its CTI kept) and the
    rest re-checked, until none fails (Houdini, Flanagan & Leino 2001). What stands is an
    inductive invariant; every safety property in it is proved for the bounds. With
    `workers` > 1 the solver calls of each round run in that many forked processes; the
    verdicts are the same."""
    start, cpu_start = time.perf_counter(), time.process_time()
    bounds = Bounds.of(config)
    checks: list[Check] = []
    ghost = any("ghost" in inv.needs for inv in invariants)

    s0 = with_ghost(SymState(bounds, "init"), "init")
    base = z3.Solver()
    base.set("timeout", timeout_ms)
    base.add(init(s0), s0.ghost.equals(Ghost.initial(bounds)))
    standing: list[Invariant] = []
    for inv in invariants:
        t = time.perf_counter()
        with frame(base):
            base.add(z3.Not(inv.holds(s0, Z3)))
            answer, reason = _answer(base)
        checks.append(Check(inv.name, "init", _verdict(answer), time.perf_counter() - t,
                            reason=reason))
        if answer == z3.unsat:
            standing.append(inv)

    parts = {name: len(g) for name, g in goals(config, invariants).items()}
    lao = LEADER_APPEND_ONLY.name
    measured: dict[tuple[str, int], float] = {}
    worker_cpu = 0.0
    rounds = 0
    with Workers(config, invariants, timeout_ms, workers) as pool:
        while standing:
            rounds += 1
            names = tuple(inv.name for inv in standing)
            # In parallel, Leader Append-Only goes with every round (it is cheap); the one of
            # the last round, relative to the inductive set, is the one that counts.
            targets = names + ((lao,) if workers > 1 else ())
            tasks = [Task(n, p, names) for n in targets for p in range(parts[n])]
            results: dict[str, list[PartResult]] = {n: [] for n in targets}
            for r in pool.run_round(tasks, parts, measured):
                results[r.task.invariant].append(r)
                measured[(r.task.invariant, r.task.part)] = r.seconds
                worker_cpu += r.cpu_seconds if workers > 1 else 0.0
            round_checks = {n: _check(n, results[n]) for n in targets}
            failed = {n for n in names if round_checks[n].verdict is not Verdict.OK}
            # A failed check (its CTI, or the solver's unknown) stays in the record; the OK
            # checks count only in the round where nothing failed: each was then relative to
            # exactly the standing set, and that round's checks are the proof.
            for n in names:
                round_checks[n].kind = f"step (round {rounds})"
            checks += [round_checks[n] for n in names if n in failed]
            if not failed:
                for n in targets:
                    round_checks[n].kind = "step (inductive set)"
                checks += [round_checks[n] for n in names]
                if workers > 1:
                    checks.append(round_checks[lao])
                break
            standing = [inv for inv in standing if inv.name not in failed]
        if standing and workers == 1:
            names = tuple(inv.name for inv in standing)
            tasks = [Task(lao, p, names) for p in range(parts[lao])]
            check = _check(lao, list(pool.run_round(tasks, parts, measured)))
            check.kind = "step (inductive set)"
            checks.append(check)
    if not ghost:
        for c in checks:
            if c.cti is not None:
                c.cti.ghost_pre = None  # no ghost lemma: the solver's ghost values mean nothing
    return ProofResult(config, checks, time.perf_counter() - start,
                       [inv.name for inv in invariants] + [lao],
                       [inv.name for inv in standing], rounds, workers,
                       time.process_time() - cpu_start + worker_cpu)


def _check(name: str, results: list[PartResult]) -> Check:
    ordered = sorted(results, key=lambda r: r.task.part)
    verdict, reason, cti = combine(ordered)
    return Check(name, "step", verdict, sum(r.seconds for r in ordered), cti, reason,
                 parts=len(ordered))


def _verdict(answer: z3.CheckSatResult) -> Verdict:
    if answer == z3.unsat:
        return Verdict.OK
    if answer == z3.sat:
        return Verdict.VIOLATION
    return Verdict.UNKNOWN


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
        with frame(solver):
            solver.add(z3.Not(z3.And([inv.holds(states[k], Z3) for inv in SAFETY])))
            answer, reason = _answer(solver)
            if answer == z3.sat:
                trace_states = [decode(solver.model(), s) for s in states]
                return _bmc_trace(config, depth, k, trace_states, time.perf_counter() - start)
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

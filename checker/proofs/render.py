"""Rendering proof results: readable states and counterexamples, JSON, and the Markdown
proof report."""

from __future__ import annotations

from typing import Any

import z3

from checker.invariants import ALL, LEADER_APPEND_ONLY
from checker.invariants.raft import LONG_LOG_AUXILIARY, SNAPSHOT_AUXILIARY
from checker.proofs.ghost_invariants import GHOST_INVARIANTS, LONG_LOG_GHOST
from checker.proofs.induction import CTI, BMCResult, Check, ProofResult
from spec.raft import Config, Role, State, describe_message

ROLE = {Role.FOLLOWER: "follower", Role.CANDIDATE: "candidate", Role.LEADER: "leader"}
BY_NAME = {inv.name: inv for inv in ALL + LONG_LOG_AUXILIARY + SNAPSHOT_AUXILIARY}


GHOST_BY_NAME = {inv.name: inv for inv in GHOST_INVARIANTS + LONG_LOG_GHOST}


def server_line(s: State, i: int) -> str:
    snapshot = s.snapshot[i]
    cells = [f"snapshot≤{snapshot.index}:t{snapshot.term}"] if snapshot.index else []
    cells += [f"{snapshot.index + k + 1}:t{e.term}" + (f"/v{e.value}" if e.value != 1 else "")
              for k, e in enumerate(s.log[i])]
    log = " ".join(cells) or "-"
    voted = "-" if s.voted_for[i] is None else f"s{s.voted_for[i]}"
    line = (f"s{i}: term {s.term[i]} {ROLE[s.role[i]]}, voted_for {voted}, log [{log}], "
            f"commit_index {s.commit_index[i]}")
    if s.role[i] != Role.FOLLOWER:
        granted = ",".join(f"s{j}" for j in sorted(s.votes_granted[i])) or "-"
        line += f", votes_granted {{{granted}}}"
    if s.role[i] == Role.LEADER:
        line += (f", next_index {list(s.next_index[i])}, "
                 f"match_index {list(s.match_index[i])}")
    return line


def state_lines(s: State) -> list[str]:
    lines = [server_line(s, i) for i in range(s.servers)]
    msgs = sorted(describe_message(m) for m in s.network)
    lines.append("in flight: " + ("; ".join(msgs) if msgs else "nothing"))
    return lines


def diff_lines(before: State, after: State) -> list[str]:
    """Only what changed: servers whose variables changed, and the network's difference."""
    out = [server_line(after, i) for i in range(after.servers)
           if server_line(before, i) != server_line(after, i)
           or before.votes_granted[i] != after.votes_granted[i]]
    sent = sorted(describe_message(m) for m in after.network - before.network)
    gone = sorted(describe_message(m) for m in before.network - after.network)
    if gone:
        out.append("delivered/dropped: " + "; ".join(gone))
    if sent:
        out.append("now in flight: " + "; ".join(sent))
    return out or ["(no change)"]


def ghost_lines(cti: CTI) -> list[str]:
    g = cti.ghost_pre
    if g is None:
        return []
    votes = [f"s{j}@t{t}→s{c} log=(t{g.voter_last_term[j][t]},{g.voter_last_index[j][t]})"
             for j, row in enumerate(g.vote) for t, c in enumerate(row) if c >= 0]
    commits = [f"({k + 1},t{t}) in t{c}" for k, row in enumerate(g.committed_in)
               for t, c in enumerate(row) if c > 0]
    return [f"  ghost votes: {', '.join(votes) or 'none'}",
            f"  ghost committed: {', '.join(commits) or 'none'}"]


def cti_lines(cti: CTI) -> list[str]:
    status = ("confirmed by the executable spec" if cti.confirmed
              else "NOT confirmed by the spec: " + "; ".join(cti.notes))
    return (["pre-state (satisfies every invariant assumed):"]
            + ["  " + x for x in state_lines(cti.pre)]
            + ghost_lines(cti)
            + [f"action: {cti.action}", f"post-state (breaks {cti.invariant}; changes only):"]
            + ["  " + x for x in diff_lines(cti.pre, cti.post)]
            + [f"({status})"])


def bmc_lines(b: BMCResult) -> list[str]:
    if not b.trace:
        if b.reason.startswith("no violation"):
            return [f"no violation of a safety property within {b.reached} steps (bound "
                    "reached: not a proof)"]
        return [f"stopped after {b.reached} steps: {b.reason}"]
    out = [f"{b.invariant} broken after {len(b.trace) - 1} steps "
           f"({'replayed through the spec' if b.confirmed else 'NOT confirmed by the spec'}):"]
    prev: State | None = None
    for n, (action, state) in enumerate(b.trace):
        out.append(f"{n}. {action}")
        out += ["     " + x for x in (state_lines(state) if prev is None else diff_lines(prev, state))]
        prev = state
    return out


def config_text(c: Config) -> str:
    parts = [f"servers={c.servers}", f"max_term={c.max_term}", f"max_log={c.max_log}",
             f"values={c.values}", f"max_messages={c.max_messages}",
             f"max_restarts={c.max_restarts}", f"drops={c.drops}", f"duplicates={c.duplicates}"]
    if c.snapshots:
        parts.append("snapshots=True")
    if c.bugs:
        parts.append("bugs=" + ",".join(sorted(c.bugs)))
    return " ".join(parts)


def status(result: ProofResult, name: str) -> str:
    if name in result.proved or (name == LEADER_APPEND_ONLY.name and result.transition_proved):
        return "proved"
    failed = [c for c in result.checks if c.invariant == name and c.verdict.value != "ok"]
    if any(c.verdict.value == "unknown" for c in failed):
        return "unknown"
    if any(c.kind == "init" for c in failed):
        return "fails initially"
    return "not inductive"


# ---------------------------------------------------------------- JSON


def state_json(s: State) -> dict[str, Any]:
    return {"servers": state_lines(s)[:-1],
            "network": sorted(describe_message(m) for m in s.network)}


def check_json(c: Check) -> dict[str, Any]:
    out: dict[str, Any] = {"invariant": c.invariant, "kind": c.kind, "verdict": c.verdict.value,
                           "seconds": round(c.seconds, 3), "parts": c.parts}
    if c.reason:
        out["reason"] = c.reason
    if c.cti is not None:
        out["cti"] = {"pre": state_json(c.cti.pre), "action": c.cti.action,
                      "post": state_json(c.cti.post), "confirmed": c.cti.confirmed,
                      "notes": c.cti.notes}
    return out


def result_json(result: ProofResult, bmc: BMCResult | None, verdict: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "verdict": verdict, "config": config_text(result.config),
        "seconds": round(result.seconds, 3), "cpu_seconds": round(result.cpu_seconds, 3),
        "workers": result.workers, "rounds": result.rounds,
        "proved": result.proved + ([LEADER_APPEND_ONLY.name] if result.transition_proved else []),
        "not_proved": [n for n in result.invariants if status(result, n) != "proved"],
        "checks": [check_json(c) for c in result.checks],
    }
    if bmc is not None:
        out["bmc"] = {"verdict": bmc.verdict.value, "depth": bmc.depth, "reached": bmc.reached,
                      "seconds": round(bmc.seconds, 3), "invariant": bmc.invariant,
                      "confirmed": bmc.confirmed,
                      "trace": [{"action": a, "state": state_json(s)} for a, s in bmc.trace]}
    return out


# ---------------------------------------------------------------- the Markdown report


def report_markdown(result: ProofResult, bmc: BMCResult | None, verdict: str) -> str:
    r = result
    lines = [
        "# Raft: inductive invariants, proved with Z3",
        "",
        f"- **verdict**: {verdict}",
        f"- **bounds**: {config_text(r.config)}",
        f"- **solver**: Z3 {z3.get_version_string()}, {r.seconds:.1f} s in all "
        f"({r.cpu_seconds:.1f} s of CPU, {r.workers} worker process(es)), "
        f"{r.rounds} round(s) of consecution checks",
        "",
        "## What was checked",
        "",
        "The spec (`spec/raft.py`) was encoded in Z3 over the bounds above: every variable a "
        "bounded integer or boolean, logs as arrays of at most `max_log` entries, the network as "
        "`max_messages` message slots. Init and Next mirror `initial_states` and `successors` "
        "(Compact and InstallSnapshot included when snapshots are on); a test shows that "
        "on states the spec reaches, the successors Z3 allows are exactly the spec's.",
        "",
        "For each candidate invariant P: **initiation**, Init ⇒ P; **consecution**, Inv ∧ Next ⇒ "
        "P′, where Inv is the conjunction of all candidates still standing, over *every* state "
        "of the bounded domain satisfying Inv (not only reachable ones). A candidate whose "
        "check fails is dropped with its counterexample to induction (CTI), and the rest are "
        "re-checked, until none fails (Houdini). What stands is an inductive invariant: each "
        "safety property in it holds in every reachable state within the bounds. Leader "
        "Append-Only, a property of steps, is checked as Inv ∧ Next ⇒ LAO(s, s′). Every CTI was "
        "decoded into spec states and re-evaluated by the executable spec before being shown. "
        "Solver answers other than sat/unsat are reported as unknown, never as proved.",
        "",
        "A consecution check may be made of several solver calls (*parts*): P′ is a conjunction "
        "c₁ ∧ … ∧ cₙ, and Inv ∧ Next ∧ ¬P′ is satisfiable exactly when some Inv ∧ Next ∧ ¬cₖ "
        "is, so P is proved when every part is unsat; the seconds below are the parts' sum. The "
        "calls of a round are independent and run in parallel worker processes; the verdicts "
        "do not depend on how many.",
        "",
        "## Ghost (history) variables",
        "",
        "The spec forgets what §5.4.3's argument is about: whom a server voted for in an earlier "
        "term and what its log was then, and which entries were committed. The proof keeps "
        "them as ghost variables (`checker/proofs/ghost.py`), on the proof side only: "
        "vote[j][T] (the candidate j voted for in term T) with voter_log[j][T] = "
        "(voter_last_term[j][T], voter_last_index[j][T]) (j's last log term and index at that "
        "vote), and committed_in[k][t] (the term of the leader that first committed entry "
        "(k, t); 0 if none). The instrumented relation is Next(s, s′) ∧ g′ = "
        "update(s, g, s′): the ghost never constrains the spec's variables, so its projection "
        "onto them is the spec's relation, and g′ is a deterministic function of the step "
        "(both tested in tests/proofs/test_ghost.py). Hence every reachable spec state is the "
        "projection of a reachable instrumented state, and an invariant proved for the "
        "instrumented system holds, restricted to the spec's variables, in every reachable "
        "spec state. Invariants marked *ghost-based* mention ghost variables. For a CTI under "
        "instrumentation, *confirmed* means: the spec's successor function produces the "
        "post-state from the pre-state (a real spec step), the concrete ghost update of that "
        "step gives the solver's ghost′, the pre-state (with its ghost) satisfies every "
        "invariant assumed, and the post-state (with ghost′) breaks the invariant. The "
        "pre-state's ghost values are the solver's: they need not be the history of any "
        "behaviour, just as the pre-state need not be reachable.",
        "",
        "## Invariants",
        "",
        "| invariant | kind | status | in words | formula |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in r.invariants:
        inv = BY_NAME.get(name) or GHOST_BY_NAME.get(name)
        words = inv.words if inv else LEADER_APPEND_ONLY.words
        formula = inv.formula if inv else LEADER_APPEND_ONLY.formula
        kind = "auxiliary" if inv is not None and inv.auxiliary else "safety"
        if inv is not None and "ghost" in inv.needs:
            kind = "ghost-based"
        lines.append(f"| {name} | {kind} | **{status(r, name)}** | {words} | `{formula}` |")
    lines += ["", "## Checks", "", "| invariant | check | verdict | parts | seconds |",
              "| --- | --- | --- | --- | --- |"]
    lines += [f"| {c.invariant} | {c.kind} | {c.verdict.value} | {c.parts} | {c.seconds:.2f} |"
              for c in r.checks]
    ctis = [c for c in r.checks if c.cti is not None]
    if ctis:
        lines += ["", "## Counterexamples to induction", "",
                  "Each is a pre-state satisfying every candidate then standing, an action of the "
                  "spec, and the post-state (only what changed) in which the invariant fails. A "
                  "CTI's pre-state need not be reachable: it shows what a proof still needs.", ""]
        for c in ctis:
            assert c.cti is not None
            lines += [f"### {c.invariant} ({c.kind})", "", "```", *cti_lines(c.cti), "```", ""]
    if bmc is not None:
        lines += ["", f"## Bounded model checking (depth {bmc.depth})", "", "```"]
        lines += [*bmc_lines(bmc), "```", ""]
    return "\n".join(lines) + "\n"

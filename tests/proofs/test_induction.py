"""Inductiveness proofs: what the correct spec proves, what each bug flag breaks (with a
counterexample to induction the executable spec confirms), BMC's verdicts, and the CLI.

Every proof here is run without the ghost lemmas, named explicitly (`--no-ghost`'s candidate
set): with them the correct spec proves everything and has no CTI to test, so these tests
must not depend on what `prove` assumes by default. tests/proofs/test_ghost.py covers the
ghost lemmas."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.invariants import SAFETY
from checker.invariants.raft import Invariant
from checker.proofs.induction import ProofResult, bmc, candidate_invariants, prove
from checker.verdict import Verdict
from spec.raft import INVARIANTS, Config, Role

ROOT = Path(__file__).resolve().parents[2]


def no_ghost(config: Config) -> tuple[Invariant, ...]:
    candidates = candidate_invariants(config, ghost=False)
    assert not any("ghost" in inv.needs for inv in candidates)
    return candidates


def prove_no_ghost(config: Config) -> ProofResult:
    return prove(config, invariants=no_ghost(config))


@pytest.fixture(scope="module")
def correct() -> ProofResult:
    return prove_no_ghost(Config())


@functools.cache
def with_bug(bug: str) -> ProofResult:
    return prove_no_ghost(Config(bugs=frozenset({bug}),
                                 max_restarts=1 if bug == "unpersisted-vote" else 0))


def test_correct_spec_proves_election_safety_and_the_log_invariants(correct: ProofResult) -> None:
    for name in ("TypeOK", "CommitIndexInLog", "ElectionSafety", "LogMatching"):
        assert name in correct.proved, name
    assert correct.transition_proved  # Leader Append-Only
    # Everything not proved has a CTI the executable spec confirms; nothing is unknown.
    assert all(c.verdict is not Verdict.UNKNOWN for c in correct.checks)
    for check in correct.not_proved():
        assert check.cti is not None and check.cti.confirmed, check.invariant


def test_what_is_not_proved_is_not_reported_as_ok(correct: ProofResult) -> None:
    unproved = [inv.name for inv in SAFETY if inv.name not in correct.proved]
    assert (correct.verdict is Verdict.OK) == (not unproved)


def test_ctis_are_real_steps_of_the_spec_from_states_satisfying_the_assumptions(
        correct: ProofResult) -> None:
    from spec.raft import successors

    assert correct.not_proved()  # without the ghost lemmas some candidates have CTIs
    for check in correct.not_proved():
        assert check.cti is not None
        cti = check.cti
        assert cti.post in {nxt for _, nxt in successors(cti.pre, Config())}
        if cti.invariant in INVARIANTS:
            assert INVARIANTS[cti.invariant](cti.pre) and not INVARIANTS[cti.invariant](cti.post)


@pytest.mark.parametrize("bug", ["no-step-down", "unpersisted-vote"])
def test_vote_bugs_break_the_election_safety_proof(bug: str, correct: ProofResult) -> None:
    result = with_bug(bug)
    assert "ElectionSafety" in correct.proved
    assert "ElectionSafety" not in result.proved
    ctis = [c.cti for c in result.not_proved() if c.cti is not None]
    assert ctis and all(cti.confirmed for cti in ctis)
    # The proof breaks at a step the spec takes: some CTI ends with two leaders of one term,
    # or drops a lemma about votes that Election Safety rests on.
    dropped = {c.invariant for c in result.not_proved()}
    assert dropped & {"ElectionSafety", "VotedForSelf", "GrantedVotes", "GrantMessageExclusive",
                      "DisjointVotes"}


def test_stale_append_truncates_breaks_commit_index_in_log(correct: ProofResult) -> None:
    result = with_bug("stale-append-truncates")
    assert "CommitIndexInLog" in correct.proved
    assert "CommitIndexInLog" not in result.proved
    check = next(c for c in result.not_proved() if c.invariant == "CommitIndexInLog")
    assert check.cti is not None and check.cti.confirmed
    assert not INVARIANTS["CommitIndexInLog"](check.cti.post)


def test_no_step_down_cti_shows_two_leaders() -> None:
    result = with_bug("no-step-down")
    check = next(c for c in result.not_proved() if c.invariant == "ElectionSafety")
    assert check.cti is not None
    leaders = [check.cti.post.term[i] for i in range(3)
               if check.cti.post.role[i] == Role.LEADER]
    assert len(leaders) != len(set(leaders))
    assert check.cti.ghost_pre is None  # no ghost lemma assumed: no ghost values to show


def test_bmc_without_a_violation_is_unknown_never_ok() -> None:
    result = bmc(Config(max_term=1), 3)
    assert result.verdict is Verdict.UNKNOWN
    assert result.reached == 3 and not result.trace


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", "prove", "raft", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)


@pytest.mark.parametrize("args", [["--servers", "0"], ["--bug", "nope"], ["--max-log", "x"],
                                  ["--frobnicate"]])
def test_bad_options_are_one_line_and_exit_2(args: list[str]) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""


def test_cli_json_and_report(tmp_path: Path) -> None:
    report = tmp_path / "proofs.md"
    # Two servers: the command's JSON and report are the point here, and the three-server
    # proofs have tests of their own (a twentieth of the time).
    proc = run_cli("--servers", "2", "--max-term", "2", "--no-ghost", "--json", "--report",
                   str(report))
    assert proc.returncode == 3  # without the ghost lemmas not everything is proved: unknown
    out = json.loads(proc.stdout)
    assert out["verdict"] == "unknown"
    assert "ElectionSafety" in out["proved"] and "StateMachineSafety" in out["not_proved"]
    text = report.read_text()
    for heading in ("## What was checked", "## Invariants", "## Counterexamples to induction"):
        assert heading in text
    assert "| ElectionSafety | safety | **proved** |" in text
    # Without ghost lemmas the solver's ghost values are unconstrained noise: none shown.
    ctis = text.split("## Counterexamples to induction")[1]
    assert "ghost votes" not in ctis and "ghost committed" not in ctis


def test_proposed_invariants_rule_out_ctis_and_are_inductive() -> None:
    from checker.invariants import CONCRETE, from_spec
    from checker.proofs.propose import propose

    config = Config(servers=2, max_term=2)
    base = prove_no_ghost(config)
    kept, again = propose(config, base)
    assert kept, "no auxiliary invariant proposed"
    assert again is not None
    ctis = [c.cti.pre for c in base.checks if c.cti is not None]
    for inv in kept:
        assert inv.name in again.proved  # inductive together with the rest
        assert any(not inv.holds(from_spec(pre), CONCRETE) for pre in ctis)  # rules one out
    assert set(base.proved) <= set(again.proved)

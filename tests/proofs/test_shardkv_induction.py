"""`prove shardkv`: the correct spec's invariants are proved inductive; each bug flag breaks the
proof of the safety property it violates, with counterexamples to induction that the
executable spec confirms; the CLI's statuses, JSON and report."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.invariants import CONCRETE
from checker.invariants.shardkv import ALL, SAFETY
from checker.invariants.shardkv_view import from_spec
from checker.proofs.shardkv.induction import ProofResult, prove
from checker.verdict import Verdict
from spec.shardkv import BUGS, INVARIANTS, TRANSITION_INVARIANTS, Config, successors
from tests.shardkv.strategies import SMALL

ROOT = Path(__file__).resolve().parents[2]

# The safety property whose proof each flag breaks (the one the model checker finds broken).
BROKEN = {
    "serve-after-handoff": "AtMostOneServer",
    "dup-table-not-migrated": "NoCallAppliedTwice",
    "unordered-configs": "ConfigurationsInOrder",
    "delete-before-install": "NoAckedWriteLost",
    "volatile-dup-table": "NoCallAppliedTwice",
}


@functools.cache
def with_bug(bug: str) -> ProofResult:
    return prove(Config(clerks=1, calls=1, max_messages=2, bugs=frozenset({bug})))


def assert_all_proved(result: ProofResult) -> None:
    assert result.verdict is Verdict.OK
    assert result.proved == result.invariants  # every lemma too: one inductive conjunction
    assert result.rounds == 1 and not result.not_proved()


@pytest.mark.parametrize("config", [SMALL, Config()], ids=["small", "default"])
def test_correct_spec_is_proved(config: Config) -> None:
    assert_all_proved(prove(config))


def test_every_flag_has_a_test() -> None:
    assert set(BROKEN) == set(BUGS)


@pytest.mark.parametrize("bug", sorted(BROKEN))
def test_bug_breaks_the_proof_with_confirmed_ctis(bug: str) -> None:
    result = with_bug(bug)
    config = result.config
    assert result.verdict is Verdict.UNKNOWN
    assert BROKEN[bug] not in result.proved
    failed = result.not_proved()
    assert failed and all(c.verdict is Verdict.VIOLATION for c in failed)
    for check in failed:
        cti = check.cti
        assert cti is not None and cti.confirmed, (check.invariant, cti)
        # Independently of `confirm`: a real step of the spec, from a state satisfying what
        # was assumed, to one that breaks the property.
        assert cti.post in {nxt for _, nxt in successors(config, cti.pre)}
        if check.invariant in INVARIANTS:
            assert not INVARIANTS[check.invariant](config, cti.post)
        elif check.invariant in TRANSITION_INVARIANTS:
            assert not TRANSITION_INVARIANTS[check.invariant](config, cti.pre, cti.post)
    # A round-1 counterexample's pre-state satisfies every candidate (all pass initiation).
    assert all(c.verdict is Verdict.OK for c in result.checks if c.kind == "init")
    for check in failed:
        if check.kind == "step (round 1)":
            assert check.cti is not None
            view = from_spec(config, check.cti.pre)
            assert all(inv.holds(view, CONCRETE) for inv in ALL), check.invariant


def test_safety_names_are_the_specs() -> None:
    assert [inv.name for inv in SAFETY] == list(INVARIANTS)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", "prove", "shardkv", *args],
                          capture_output=True, text=True, cwd=ROOT, check=False, timeout=600)


def test_cli_proves_and_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "shardkv-proof.md"
    result = run("--clerks", "1", "--calls", "1", "--max-messages", "2", "--json",
                 "--report", str(report))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["verdict"] == "ok"
    assert all(i["status"] == "proved" for i in out["invariants"])
    text = report.read_text()
    assert "| AtMostOneServer | safety | proved |" in text


def test_cli_bug_exits_3_with_the_confirmed_cti() -> None:
    result = run("--clerks", "1", "--calls", "1", "--max-messages", "2",
                 "--bug", "delete-before-install")
    assert result.returncode == 3
    assert "counterexample to induction for NoAckedWriteLost" in result.stdout
    assert "(confirmed by the executable spec)" in result.stdout
    assert result.stdout.rstrip().endswith("UNKNOWN: not every safety property is proved")


def test_cli_bad_options_exit_2() -> None:
    result = run("--configs", "11 19")
    assert result.returncode == 2 and "expected gids" in result.stderr
    result = run("--report", "/no/such/dir/x.md")
    assert result.returncode == 2 and "no such directory" in result.stderr

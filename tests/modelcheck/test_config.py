"""Configuration is declared once and checked where it is built: the Raft bounds (one table
for every verb), the model's semantics/engine/flags rule, and the search's options."""

from __future__ import annotations

import click
import pytest

from checker.cli.model_check import command as model_check_command
from checker.cli.prove import command as prove_command
from checker.modelcheck import Options
from checker.modelcheck.models import MapReduceModel, RaftModel
from spec import mapreduce, raft


def test_config_is_keyword_only_and_checks_every_bound_against_its_declared_range() -> None:
    with pytest.raises(TypeError):
        raft.Config(3)  # type: ignore[misc]
    for name, bound in raft.BOUNDS.items():
        assert getattr(raft.Config(), name) == bound.default
        raft.Config(**{name: bound.low})
        raft.Config(**{name: bound.high})
        for wrong in (bound.low - 1, bound.high + 1):
            with pytest.raises(ValueError, match=name):
                raft.Config(**{name: wrong})
    with pytest.raises(ValueError, match="unknown bug"):
        raft.Config(bugs=frozenset({"nope"}))


def test_a_bug_that_needs_a_restart_is_declared_once() -> None:
    assert set(raft.BUGS) >= raft.NEEDS_RESTART
    assert raft.default_restarts(frozenset({"unpersisted-vote"})) == 1
    assert raft.default_restarts(frozenset({"no-step-down"})) == 0


@pytest.mark.parametrize(
    ("semantics", "engine", "config", "match"),
    [
        ("raft", "packed", raft.Config(), "packed engine"),
        ("raft-tla", "auto", raft.Config(bugs=frozenset({"no-step-down"})), "no bug flags"),
        ("raft-tla-clean-bag", "spec", raft.Config(snapshots=True), "snapshots"),
        ("raft-tla-set", "auto", raft.Config(), "duplicates"),
        ("paxos", "auto", raft.Config(), "unknown semantics"),
        ("raft", "turbo", raft.Config(), "unknown engine"),
    ],
)
def test_the_model_rejects_a_combination_that_cannot_run_when_built(
    semantics: str, engine: str, config: raft.Config, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        RaftModel(config=config, semantics=semantics, engine=engine)


def test_every_valid_combination_builds_and_says_which_engine_runs() -> None:
    dup = raft.Config(duplicates=True)
    assert RaftModel(config=dup).engine_used == "spec"
    for semantics in ("raft-tla", "raft-tla-clean-bag", "raft-tla-set"):
        assert RaftModel(config=dup, semantics=semantics).engine_used == "packed"
        assert RaftModel(config=dup, semantics=semantics, engine="spec").engine_used == "spec"


def test_search_options_are_checked_when_built() -> None:
    for wrong in ({"workers": 0}, {"max_states": 0}, {"max_depth": 0}, {"time_limit": 0}):
        with pytest.raises(ValueError):
            Options(**wrong)  # type: ignore[arg-type]


def _bound_options(command: click.Command) -> dict[str, tuple[object, object, object]]:
    names = {f"--{name.replace('_', '-')}" for name in raft.BOUNDS}
    out = {}
    for param in command.params:
        flag = param.opts[0]
        if flag in names or flag in ("--drops", "--duplicates", "--snapshots", "--bug"):
            kind = param.type
            bounds = (getattr(kind, "min", None), getattr(kind, "max", None))
            out[flag] = (bounds, param.default, getattr(kind, "choices", None))
    return out


def test_model_check_and_prove_take_the_same_raft_bounds() -> None:
    assert isinstance(model_check_command, click.Group) and isinstance(prove_command, click.Group)
    checked = _bound_options(model_check_command.commands["raft"])
    proved = _bound_options(prove_command.commands["raft"])
    assert len(checked) == len(raft.BOUNDS) + 4
    assert checked == proved
    for name, bound in raft.BOUNDS.items():
        (low, high), _, _ = checked[f"--{name.replace('_', '-')}"]
        assert (low, high) == (bound.low, bound.high)


def test_the_mapreduce_model_binds_its_configuration() -> None:
    model = MapReduceModel(config=mapreduce.Config(n_map=1, n_reduce=1))
    (initial,) = model.initial_states()
    assert model.violated_invariant(initial) is None
    assert set(model.invariants) == set(mapreduce.INVARIANTS)
    assert model.summary()["config"]["maps"] == 1

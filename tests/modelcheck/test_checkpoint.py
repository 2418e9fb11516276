"""Checkpoints: a search interrupted (cut by a bound, or killed) and resumed from its
checkpoint ends with the uninterrupted search's result, on every engine and across engines;
the files are msgpack/JSON that decode into typed values only; a checkpoint of another
configuration, or a damaged one, is one line and exit status 2. Also the seen-set that spills
to disk: the same results, counterexamples rebuilt through spilled parents."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
import ray

from checker.modelcheck import ModelCheckResult, Options, check
from checker.modelcheck.checkpoint import MANIFEST, read
from checker.modelcheck.models import MapReduceModel, RaftModel
from checker.modelcheck.plain import PlainError, pack, stable_fingerprint, unpack
from checker.modelcheck.ray_search import start_local
from checker.modelcheck.trace import replay_holds
from checker.verdict import Verdict
from spec import mapreduce, raft
from spec.errors import BadInput
from spec.kv_types import Op

ROOT = Path(__file__).resolve().parents[2]
SMALL = raft.Config(servers=3, max_term=2, max_log=1, max_messages=1)
TLA = raft.Config(servers=3, max_term=2, max_log=1, max_messages=1)

ENGINES = {
    "serial": Options(),
    "forked": Options(workers=2),
    "ray": Options(engine="ray", workers=2, batch_size=50),
}


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    start_local(3)
    yield
    ray.shutdown()


def figures(result: ModelCheckResult) -> tuple[Any, ...]:
    return (result.verdict, result.distinct_states, result.states_generated, result.depth,
            result.sometimes)


def with_(options: Options, **changes: Any) -> Options:
    fields = {name: getattr(options, name) for name in Options.__dataclass_fields__}
    fields.update(changes)
    return Options(**fields)


@pytest.mark.parametrize(("first", "then"), [
    ("serial", "serial"), ("forked", "forked"), ("ray", "ray"),
    ("serial", "forked"), ("forked", "ray"), ("ray", "serial"),
])
@pytest.mark.parametrize("model_name", ["raft", "mapreduce"])
def test_a_search_cut_at_a_level_resumes_to_the_same_result(
    first: str, then: str, model_name: str, tmp_path: Path, local_ray: None
) -> None:
    def make() -> RaftModel | MapReduceModel:
        return RaftModel(config=SMALL) if model_name == "raft" else MapReduceModel()

    whole = check(make(), ENGINES["serial"])
    folder = tmp_path / "ck"
    cut = check(make(), with_(ENGINES[first], max_depth=9, checkpoint=folder,
                              checkpoint_every=0))
    assert cut.verdict is Verdict.UNKNOWN and cut.depth == 9
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["depth"] == 9 and manifest["distinct"] == cut.distinct_states
    resumed = check(make(), with_(ENGINES[then], resume=folder))
    assert resumed.resumed_at == 9
    assert figures(resumed) == figures(whole)


# Ray's form tries its time limits on actors and takes minutes at -n 2: in the campaign; Ray's
# cuts at a level boundary stay in the default suite.
@pytest.mark.parametrize("engine", ["serial", pytest.param("ray", marks=pytest.mark.campaign)])
def test_a_search_cut_within_a_level_by_time_resumes_to_the_same_result(
    engine: str, tmp_path: Path, local_ray: None
) -> None:
    """The cut comes between states (serial) or batches (Ray), inside a level: the checkpoint
    holds the level's unexpanded rest and the next level found so far. Where a time limit
    falls is the clock's choice: a few limits are tried until one falls within a level."""
    config = raft.Config(max_term=2)
    whole = check(RaftModel(config=config))
    folder = tmp_path / "ck"
    options = ENGINES[engine]
    for limit in (1.0, 1.7, 2.5, 3.4, 4.4, 5.5, 7.0):
        cut = check(RaftModel(config=config),
                    with_(options, time_limit=limit, checkpoint=folder, checkpoint_every=1e6))
        assert cut.verdict is Verdict.UNKNOWN and "time limit" in cut.reason
        saved = read(folder, RaftModel(config=config), options.workers)
        if any(part.next for part in saved.parts):
            break
    else:
        pytest.fail("no time limit fell within a level")
    assert saved.distinct == cut.distinct_states and saved.generated == cut.states_generated
    resumed = check(RaftModel(config=config), with_(options, resume=folder))
    assert figures(resumed) == figures(whole)


def test_a_violation_found_after_a_resume_is_a_replayed_shortest_counterexample(
    tmp_path: Path,
) -> None:
    config = raft.Config(max_term=2, bugs=frozenset({"no-step-down"}))
    whole = check(RaftModel(config=config))
    check(RaftModel(config=config), Options(max_depth=4, checkpoint=tmp_path,
                                            checkpoint_every=0))
    resumed = check(RaftModel(config=config), Options(workers=2, resume=tmp_path))
    assert resumed.verdict is Verdict.VIOLATION and resumed.counterexample is not None
    assert whole.counterexample is not None
    assert len(resumed.counterexample.steps) == len(whole.counterexample.steps)
    assert replay_holds(resumed.model.replay_model(), resumed.counterexample)


def test_the_packed_engine_resumes_with_as_many_partitions_only(tmp_path: Path) -> None:
    model = RaftModel(config=TLA, semantics="raft-tla-clean-bag")
    check(model, Options(workers=2, max_depth=12, checkpoint=tmp_path, checkpoint_every=0))
    whole = check(RaftModel(config=TLA, semantics="raft-tla-clean-bag"))
    resumed = check(RaftModel(config=TLA, semantics="raft-tla-clean-bag"),
                    Options(workers=2, resume=tmp_path))
    assert figures(resumed) == figures(whole) and whole.distinct_states == 57_021
    with pytest.raises(BadInput, match="--workers 2"):
        check(RaftModel(config=TLA, semantics="raft-tla-clean-bag"), Options(resume=tmp_path))


def test_a_checkpoint_of_another_configuration_is_refused(tmp_path: Path) -> None:
    check(RaftModel(config=SMALL), Options(max_depth=3, checkpoint=tmp_path))
    with pytest.raises(BadInput, match=r"another configuration \(config\.max_term: 2 there, 3"):
        check(RaftModel(config=raft.Config(servers=3, max_term=3, max_log=1, max_messages=1)),
              Options(resume=tmp_path))
    with pytest.raises(BadInput, match="another configuration"):
        check(MapReduceModel(), Options(resume=tmp_path))


def test_checkpoint_files_hold_plain_data_and_typed_values_only(tmp_path: Path) -> None:
    check(MapReduceModel(), Options(max_depth=5, checkpoint=tmp_path, checkpoint_every=0))
    (part,) = tmp_path.glob("level-*-part-*.msgpack")
    top = msgpack.unpackb(part.read_bytes())
    assert set(top) == {"fingerprints", "parents", "frontier", "next"}
    frontier = unpack(top["frontier"])
    assert frontier and all(isinstance(s, mapreduce.State) for _, s in frontier)
    assert all(unpack(pack(s)) == s for _, s in frontier)
    # A type from outside the spec package is never built, whatever the file says.
    evil = msgpack.packb(msgpack.ExtType(1, msgpack.packb(["os:system", "true"])))
    with pytest.raises(PlainError, match="not a type of the spec"):
        unpack(evil)


def test_named_tuples_of_the_spec_come_back_as_themselves() -> None:
    """The kv spec's states hold named tuples (its log entries): they travel as their type
    and fields, and only the spec's named tuples are built back."""
    op = Op("append", "k", "x", 1, 2)
    back = unpack(pack((op, frozenset({op}))))
    assert back == (op, frozenset({op})) and type(back[0]) is Op
    assert stable_fingerprint(op) == stable_fingerprint(Op("append", "k", "x", 1, 2))
    not_a_tuple = msgpack.packb(msgpack.ExtType(4, pack(["spec.kv_types:Config", 1])))
    with pytest.raises(PlainError, match="not a named tuple of the spec"):
        unpack(not_a_tuple)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", "model-check", *args],
                          capture_output=True, text=True, cwd=ROOT, check=False, timeout=600)


def test_a_killed_run_resumes_from_its_last_checkpoint(tmp_path: Path) -> None:
    """The whole story through the CLI: the run is killed (SIGKILL, no chance to clean up)
    once it has checkpointed depth 10, and --resume finishes with the uninterrupted figures."""
    folder = tmp_path / "ck"
    args = ["raft", "--max-term", "2", "--checkpoint", str(folder), "--checkpoint-every", "0"]
    proc = subprocess.Popen([sys.executable, "-m", "checker", "model-check", *args],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            manifest = folder / MANIFEST
            if manifest.exists() and json.loads(manifest.read_text())["depth"] >= 10:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    resumed = run_cli("raft", "--max-term", "2", "--resume", str(folder), "--json")
    assert resumed.returncode == 0, resumed.stderr
    out = json.loads(resumed.stdout)
    assert out["resumed_at"] >= 10
    assert (out["verdict"], out["distinct_states"], out["states_generated"], out["depth"]) == (
        "ok", 90_417, 250_904, 35)


@pytest.mark.parametrize("damage", ["no-manifest", "not-json", "not-ours", "bad-part",
                                    "other-config", "missing-folder"])
def test_a_bad_resume_folder_gets_one_line_and_exit_2(damage: str, tmp_path: Path) -> None:
    folder = tmp_path / "ck"
    made = run_cli("raft", "--servers", "2", "--max-term", "2", "--max-depth", "4",
                   "--checkpoint", str(folder))
    assert made.returncode == 3, made.stderr
    resume_args = ["raft", "--servers", "2", "--max-term", "2"]
    if damage == "no-manifest":
        (folder / MANIFEST).unlink()
    elif damage == "not-json":
        (folder / MANIFEST).write_text("{\n  oops")
    elif damage == "not-ours":
        (folder / MANIFEST).write_text(json.dumps({"format": "something else"}))
    elif damage == "bad-part":
        next(folder.glob("level-*")).write_bytes(b"\x93\x01\x02")
    elif damage == "other-config":
        resume_args = ["raft", "--servers", "3", "--max-term", "2"]
    else:
        folder = tmp_path / "nowhere"
    result = run_cli(*resume_args, "--resume", str(folder))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert str(folder) in lines[0]
    if damage == "not-json":
        assert f"{folder / MANIFEST}:2:" in lines[0]


@pytest.mark.parametrize("args", [
    ["--cluster", "127.0.0.1:1"],
    ["--cluster", "no-port-here"],
])
def test_an_unreachable_cluster_gets_one_line_and_exit_2(args: list[str]) -> None:
    started = time.monotonic()
    result = run_cli("raft", "--max-term", "1", *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "Ray" in result.stderr
    assert time.monotonic() - started < 120  # it fails fast: Ray itself would retry


@pytest.mark.parametrize("engine", ["forked", "ray"])
def test_a_spilling_seen_set_gives_the_same_results(
    engine: str, tmp_path: Path, local_ray: None
) -> None:
    spill = {"spill_after": 300, "spill_dir": tmp_path}
    clean = raft.Config(max_term=2, max_messages=1)
    whole = check(RaftModel(config=clean))
    spilled = check(RaftModel(config=clean), with_(ENGINES[engine], **spill))
    assert figures(spilled) == figures(whole)
    buggy = raft.Config(max_term=2, bugs=frozenset({"no-step-down"}))
    found = check(RaftModel(config=buggy), with_(ENGINES[engine], **spill))
    unspilled = check(RaftModel(config=buggy), with_(ENGINES[engine]))
    assert found.verdict is Verdict.VIOLATION and found.counterexample is not None
    assert figures(found) == figures(unspilled)
    assert replay_holds(found.model.replay_model(), found.counterexample)


def test_a_checkpoint_of_a_spilled_search_resumes(tmp_path: Path) -> None:
    config = raft.Config(max_term=2, max_messages=1)
    whole = check(RaftModel(config=config))
    folder = tmp_path / "ck"
    check(RaftModel(config=config), Options(workers=2, spill_after=200, spill_dir=tmp_path,
                                            max_depth=12, checkpoint=folder))
    resumed = check(RaftModel(config=config), Options(resume=folder))
    assert figures(resumed) == figures(whole)


def test_spilled_runs_answer_membership_and_parents_like_the_dict(tmp_path: Path) -> None:
    """The disk tier against a plain dict: runs merged past MAX_RUNS, lookups in batches."""
    from checker.modelcheck.seen import MAX_RUNS, Spill

    spill = Spill(tmp_path, "t")
    truth: dict[int, int | None] = {}
    for run in range(MAX_RUNS + 3):
        chunk = {fp: (None if fp % 5 == 0 else fp * 7) for fp in range(run, 3000, MAX_RUNS + 3)}
        truth.update(chunk)
        spill.add(chunk)
    assert len(spill) == len(truth) and len(spill.runs) <= MAX_RUNS
    records = [(fp, 0, None) for fp in range(-50, 3100)]
    assert [r[0] for r in spill.unseen(records)] == [fp for fp in range(-50, 3100)
                                                    if fp not in truth]
    for fp in (0, 1, 7, 2999, 3000, -1):
        assert spill.parent_of(fp) == ((True, truth[fp]) if fp in truth else (False, None))
    spill.close()
    assert not list(tmp_path.glob("*.npy"))

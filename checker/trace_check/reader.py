"""Reading a `dscheck-trace` (traces/README.md): one pass, every line validated as it is read.

One reader serves every system. It knows the envelope — the header (format, version, system,
configuration), consecutive `seq`, a non-decreasing integer `time`, a `node` that names a
server of the cluster or a client — and each system parses its own events on top: Raft's
`state` here (`server_rec`), MapReduce's coordinator steps in `checker.trace_check.mapreduce`.

What is bad input and what is a violation (traces/README.md, "What a checker rejects"):

* A file that is not a trace is `BadInput(what, path, line)`, exit 2: not UTF-8 or JSON, no
  header or another format, version or system, an envelope broken (a gap in `seq`, time going
  back, an unknown node), or a value whose JSON type or range the schema rules out (a term
  that is not an integer ≥ 0, a role that is not a role, a log entry that is not
  `[index ≥ 1, term ≥ 0]`).
* A trace whose states pass the schema but break a rule that relates their values is read
  on, and those rules are judged as a violation, exit 1: log indexes consecutive from
  `snapshot_index + 1` and `last_applied ≤ commit_index` (`format_rules` below: the trace
  checker's WellFormedState), `snapshot_index ≤ commit_index ≤` the last index
  (CommitIndexInLog), `voted_for` a server of the cluster (TypeOK). A buggy core writes such
  states, and the trace up to them is exactly what its author needs to see judged.

Unknown events and keys are skipped, as the format's versioning rule asks. Nothing is
evaluated; JSON only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeGuard

from checker.invariants.view import CANDIDATE, FOLLOWER, LEADER, NONE, ServerRec
from spec.errors import BadInput

FORMAT = "dscheck-trace"
SYSTEMS = ("raft", "kv", "shardctrler", "shardkv", "mapreduce")  # the systems dscheck reads
ROLES = {"follower": FOLLOWER, "candidate": CANDIDATE, "leader": LEADER}
# `durable`: a server's disk finished a write it had started, and the server stepped on it
# (parallel write: a leader may commit then).
STATE_EVENTS = frozenset({"receive", "timer", "restart", "return", "durable"})
SERVER_SYSTEMS = ("raft", "kv")  # traces of Raft servers: config.servers, nodes 0..servers-1


@dataclass(frozen=True, slots=True)
class Header:
    system: str
    servers: int | None  # Raft, kv: config.servers (nodes 0..servers-1); None for others
    seed: int | None
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    line: int  # 1-based line of the file
    seq: int
    node: int | str
    event: str
    record: dict[str, Any]


def read_header(stream: IO[str], path: str, systems: tuple[str, ...] = SYSTEMS) -> Header:
    """Line 1, for a trace of one of `systems`."""
    first = stream.readline()
    if not first:
        raise BadInput("empty file; expected a dscheck-trace header on line 1", path, 1)
    rec = _json(first, path, 1)
    if rec.get("format") != FORMAT:
        raise BadInput(f"format is {rec.get('format')!r}; expected \"{FORMAT}\"", path, 1)
    if rec.get("version") != 1:
        raise BadInput(f"version {rec.get('version')!r} is not supported; expected 1", path, 1)
    system = rec.get("system")
    if system not in systems:
        quoted = [f'"{s}"' for s in systems]
        expected = (", ".join(quoted[:-1]) + " or " + quoted[-1]) if len(quoted) > 1 else quoted[0]
        raise BadInput(f"system {system!r}: expected a {expected} trace here", path, 1)
    config = rec.get("config")
    if not isinstance(config, dict):
        raise BadInput("config must be an object", path, 1)
    servers: int | None = None
    if system in SERVER_SYSTEMS:
        count = config.get("servers")
        if not _is_int(count) or count < 1:
            raise BadInput("config.servers must be an integer ≥ 1", path, 1)
        servers = count
    seed = rec.get("seed")
    return Header(system, servers, seed if _is_int(seed) else None, config)


def read_events(stream: IO[str], path: str, header: Header) -> Iterator[Event]:
    """Every event after the header, its envelope checked."""
    seq, time, line = 0, 0, 1
    loads = json.loads
    servers = header.servers
    for text in stream:
        line += 1
        try:
            rec = loads(text)
        except json.JSONDecodeError:
            rec = _json(text, path, line)  # raises with the reason
        if type(rec) is not dict:
            rec = _json(text, path, line)
        s, t, node, name = rec.get("seq"), rec.get("time"), rec.get("node"), rec.get("event")
        if type(s) is not int or s != seq + 1:
            raise BadInput(f"seq is {s!r}; expected {seq + 1} (consecutive from 1)", path, line)
        if type(t) is not int or t < time:
            raise BadInput(f"time is {t!r}; expected an integer ≥ {time} (never decreasing)",
                           path, line)
        if not isinstance(name, str):
            raise BadInput("missing \"event\" name", path, line)
        if type(node) is not str and not (
                type(node) is int and node >= 0 and (servers is None or node < servers)):
            known = f"a server 0..{servers - 1}" if servers is not None else "a node id"
            raise BadInput(f"node {node!r} is not {known} or a name", path, line)
        seq, time = s, t
        yield Event(line, s, node, name, rec)


# -- Raft states ------------------------------------------------------------------------


def server_rec(state: Any, path: str, line: int, servers: int) -> ServerRec:
    """A trace `state` as the invariant layer's per-server record (values unknown: 0).

    Raises BadInput when the state is not of the schema's types; a state of the right types
    that breaks the format's rules is read as it stands (its log positionally, entry k at
    `snapshot_index + k`) and `format_rules` says what it breaks."""
    if not isinstance(state, dict):
        raise BadInput("\"state\" must be an object", path, line)
    try:
        term, voted, role = state["term"], state["voted_for"], ROLES[state["role"]]
        snapshot_index, snapshot_term = state["snapshot_index"], state["snapshot_term"]
        commit_index = state["commit_index"]
        log = state["log"] if "log" in state or "log_runs" not in state else None
    except (KeyError, TypeError) as e:
        raise BadInput(f"state: missing or bad key {e}; expected term, voted_for, role "
                       "(follower|candidate|leader), log (or log_runs), snapshot_index, "
                       "snapshot_term, commit_index", path, line) from None
    if not all(_is_int(x) and x >= 0
               for x in (term, snapshot_index, snapshot_term, commit_index)):
        raise BadInput("state: term, snapshot_index, snapshot_term, commit_index must be "
                       "integers ≥ 0", path, line)
    applied = state.get("last_applied", 0)
    if not (_is_int(applied) and applied >= 0):
        raise BadInput("state: last_applied must be an integer ≥ 0", path, line)
    if voted is not None and not _is_int(voted):
        raise BadInput(f"state: voted_for {voted!r} is not null or an integer", path, line)
    if log is None:
        log_terms = _run_terms(state["log_runs"], path, line)
    elif not (isinstance(log, list) and all(
            # `type(x) is int` is _is_int inlined (a bool's type is bool): this runs once per
            # entry of every state, the reader's hottest loop on long logs.
            type(e) is list and len(e) == 2 and type(e[0]) is int and e[0] >= 1
            and type(e[1]) is int and e[1] >= 0 for e in log)):
        raise BadInput(f"state: log {_short(log)}; expected [[index, term], …] with integer "
                       "indexes ≥ 1 and terms ≥ 0", path, line)
    else:
        log_terms = tuple(e[1] for e in log)
    # A trace records neither values (commands go in `apply` events) nor a leader's
    # next_index/match_index: they read as neutral (value 0 everywhere, next_index 1,
    # match_index 0).
    return ServerRec(term=term, role=role, voted_for=NONE if voted is None else voted,
                     commit_index=commit_index, snapshot_index=snapshot_index,
                     snapshot_term=snapshot_term, log_terms=log_terms, values=None,
                     next_index=(1,) * servers, match_index=(0,) * servers)


def format_rules(state: dict[str, Any]) -> list[str]:
    """The format's rules relating a state's values that no invariant states (traces/README.md,
    Raft state), for a state `server_rec` accepted: what it breaks, one phrase each."""
    broken = []
    snapshot_index = state["snapshot_index"]
    if "log" in state:
        indexes = [entry[0] for entry in state["log"]]
        if indexes != list(range(snapshot_index + 1, snapshot_index + 1 + len(indexes))):
            broken.append(f"log indexes {_short(indexes)} do not run consecutively from "
                          f"snapshot_index + 1 = {snapshot_index + 1}")
    else:
        runs = state["log_runs"]
        bounds = [b for first, last, _term in runs for b in (first, last + 1)]
        # Each run starts where the previous one ended (+1); the first after the snapshot.
        if runs and (any(first > last for first, last, _term in runs) or bounds[::2] != [
                snapshot_index + 1, *bounds[1:-1:2]]):
            broken.append(f"log_runs {_short(runs)} do not run consecutively from "
                          f"snapshot_index + 1 = {snapshot_index + 1}")
    applied, commit_index = state.get("last_applied"), state["commit_index"]
    if applied is not None and applied > commit_index:
        broken.append(f"last_applied {applied} is above commit_index {commit_index}")
    return broken


def _run_terms(runs: Any, path: str, line: int) -> tuple[int, ...]:
    """The terms of a log written as runs [first index, last index, term] (the entries
    first..last all hold term): the run's length times its term, run after run."""
    if not (isinstance(runs, list) and all(
            type(r) is list and len(r) == 3 and all(_is_int(x) for x in r) and r[0] >= 1
            and r[1] >= 1 and r[2] >= 0 for r in runs)):
        raise BadInput(f"state: log_runs {_short(runs)}; expected [[first index, last index, "
                       "term], …] with integer indexes ≥ 1 and terms ≥ 0", path, line)
    terms: list[int] = []
    for first, last, term in runs:
        terms.extend((term,) * (last - first + 1))
    return tuple(terms)


def initial_rec(servers: int) -> ServerRec:
    """A server before its first recorded state: Figure 2's first boot."""
    return ServerRec(term=0, role=FOLLOWER, voted_for=NONE, commit_index=0, snapshot_index=0,
                     snapshot_term=0, log_terms=(), values=None, next_index=(1,) * servers,
                     match_index=(0,) * servers)


def crashed_rec(rec: ServerRec) -> ServerRec:
    """A crashed server: what it persisted (term, vote, log, snapshot) survives; it is no
    longer leader or candidate, and its commit index is back at its snapshot (§7)."""
    return ServerRec(term=rec.term, role=FOLLOWER, voted_for=rec.voted_for,
                     commit_index=rec.snapshot_index, snapshot_index=rec.snapshot_index,
                     snapshot_term=rec.snapshot_term, log_terms=rec.log_terms,
                     values=rec.values, next_index=rec.next_index,
                     match_index=rec.match_index)


def _json(text: str, path: str, line: int) -> dict[str, Any]:
    try:
        rec = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"not JSON ({e.msg} at column {e.colno}); expected one JSON object "
                       "per line", path, line) from None
    if not isinstance(rec, dict):
        raise BadInput("expected a JSON object", path, line)
    return rec


def _short(x: object) -> str:
    text = json.dumps(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(x: object) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)

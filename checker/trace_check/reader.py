"""Reading a `dscheck-trace` (traces/README.md): one pass, every line validated as it is read.

The reader checks what the checker relies on — the header, consecutive `seq`, a
non-decreasing `time`, known server ids, and each Raft `state` (types, a log whose indexes run
consecutively from `snapshot_index + 1`) — and turns a malformed line into
`BadInput(what, path, line)`. It does not judge values a correct Raft would never produce (a
commit index past the log, two leaders): those are the invariants' business. Unknown events
and keys are skipped, as the format's versioning rule asks. Nothing is evaluated; JSON only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from checker.errors import BadInput
from checker.invariants.view import CANDIDATE, FOLLOWER, LEADER, NONE, ServerRec

ROLES = {"follower": FOLLOWER, "candidate": CANDIDATE, "leader": LEADER}
STATE_EVENTS = frozenset({"receive", "timer", "restart", "return"})


@dataclass(frozen=True, slots=True)
class Header:
    system: str
    servers: int
    seed: int | None
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    line: int  # 1-based line of the file
    seq: int
    node: int | str
    event: str
    record: dict[str, Any]


def read_header(stream: IO[str], path: str) -> Header:
    first = stream.readline()
    if not first:
        raise BadInput("empty file; expected a dscheck-trace header on line 1", path, 1)
    rec = _json(first, path, 1)
    if rec.get("format") != "dscheck-trace":
        raise BadInput(f"format is {rec.get('format')!r}; expected \"dscheck-trace\"", path, 1)
    if rec.get("version") != 1:
        raise BadInput(f"version {rec.get('version')!r} is not supported; expected 1", path, 1)
    if rec.get("system") != "raft":
        raise BadInput(f"system {rec.get('system')!r}: only \"raft\" traces can be checked", path, 1)
    config = rec.get("config")
    if not isinstance(config, dict):
        raise BadInput("config must be an object with \"servers\"", path, 1)
    servers = config.get("servers")
    if not isinstance(servers, int) or isinstance(servers, bool) or servers < 1:
        raise BadInput("config.servers must be an integer ≥ 1", path, 1)
    seed = rec.get("seed")
    return Header("raft", servers, seed if isinstance(seed, int) else None, config)


def read_events(stream: IO[str], path: str, header: Header) -> Iterator[Event]:
    seq, time, line = 0, 0, 1
    loads = json.loads
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
        if not (type(node) is str or (type(node) is int and 0 <= node < header.servers)):
            raise BadInput(f"node {node!r} is not a server 0..{header.servers - 1} or a name",
                           path, line)
        seq, time = s, t
        yield Event(line, s, node, name, rec)


def server_rec(state: Any, path: str, line: int, servers: int) -> ServerRec:
    """A trace `state` as the invariant layer's per-server record (values unknown: 0)."""
    if not isinstance(state, dict):
        raise BadInput("\"state\" must be an object", path, line)
    try:
        term, voted, role = state["term"], state["voted_for"], ROLES[state["role"]]
        log, snapshot_index, snapshot_term = (state["log"], state["snapshot_index"],
                                              state["snapshot_term"])
        commit_index = state["commit_index"]
    except (KeyError, TypeError) as e:
        raise BadInput(f"state: missing or bad key {e}; expected term, voted_for, role "
                       "(follower|candidate|leader), log, snapshot_index, snapshot_term, "
                       "commit_index", path, line) from None
    if not all(_is_int(x) and x >= 0
               for x in (term, snapshot_index, snapshot_term, commit_index)):
        raise BadInput("state: term, snapshot_index, snapshot_term, commit_index must be "
                       "integers ≥ 0", path, line)
    if voted is not None and not (_is_int(voted) and 0 <= voted < servers):
        raise BadInput(f"state: voted_for {voted!r} is not null or a server id", path, line)
    if not isinstance(log, list):
        raise BadInput("state: log must be a list of [index, term]", path, line)
    try:
        indexes = [e[0] for e in log]
        terms = tuple(e[1] for e in log)
        well_formed = (
            all(len(e) == 2 for e in log)
            and indexes == list(range(snapshot_index + 1, snapshot_index + 1 + len(log)))
            and all(type(t) is int and t >= 0 for t in terms)
        )
    except (TypeError, IndexError, KeyError):
        well_formed = False
    if not well_formed:
        raise BadInput(f"state: log {_short(log)}; expected [[index, term], …] with integer "
                       f"terms ≥ 0 and indexes consecutive from snapshot_index + 1 = "
                       f"{snapshot_index + 1}",
                       path, line)
    # A trace records neither values (commands go in `apply` events) nor a leader's
    # next_index/match_index: they read as neutral (value 0 everywhere, next_index 1,
    # match_index 0).
    return ServerRec(term=term, role=role, voted_for=NONE if voted is None else voted,
                     commit_index=commit_index, snapshot_index=snapshot_index,
                     snapshot_term=snapshot_term, log_terms=tuple(terms), values=None,
                     next_index=(1,) * servers, match_index=(0,) * servers)


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


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)

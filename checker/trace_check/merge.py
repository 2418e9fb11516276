"""Merging the traces of a cluster of real processes into one trace (impl.net.server).

Each server process writes its own trace per incarnation (`trace-s<id>-<n>.jsonl`), with
wall-clock milliseconds and message ids of its own: `(incarnation << 32) | counter`, so a
message is named by (sender, id) across restarts. The checkers read one trace whose order
is a possible order of the whole run. Any interleaving of the files that keeps

* each file's own order (a process's events happened in that order), and
* every `receive` of a peer's message after that message's `send` (causality),

is one: its global states are consistent cuts of the run, states the cluster really passed
through as far as any observer could tell, so every invariant of reachable states must hold
in each. The merge takes the files' events in wall-clock order (one clock: the servers of a
test share a machine) and, when a file's next event is a receive whose send has not been
taken yet, holds that file back until it is: the clock orders what causality leaves free,
never against it. A receive whose send is in no file is bad input (a file is missing). A
clerk's requests name no traced sender (clerks write no trace) and are not held.

A sharded cluster's servers (`dscheck cluster start --sharded`) are named — `ctrler0`,
`server-100-2` — in their files' names (`trace-server-100-2-<n>.jsonl`) and events, and
their files merge the same way into one `shardkv` trace of the whole service. A server's
requests to another (a group polling the controller, a shard handed to another group) arrive
on a client connection, so their receives name no traced sender and are not held; the
answers to them are, like a peer's messages.

Between two incarnations of a server the process was killed or stopped, which no trace
records: the merge writes a `crash` event for that server just before its next incarnation's
first event, so its volatile state is gone, as after the simulator's crashes. Times are kept
(made non-decreasing where causality overrode the clock by a millisecond) and `seq` is
renumbered from 1.
"""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.trace_check.reader import FORMAT, read_events, read_header
from impl.trace import Node  # a key/value server's id, or a sharded cluster's server's name
from spec.errors import BadInput

TRACE_NAME = re.compile(r"^trace-(?:s(\d+)|(ctrler\d+|server-\d+-\d+))-(\d+)\.jsonl$")
MERGED_NAME = "merged-trace.jsonl"


@dataclass
class _File:
    path: str
    node: Node
    incarnation: int
    header: dict[str, Any]
    events: list[tuple[int, dict[str, Any]]]  # (line, record)
    next: int = 0


@dataclass(frozen=True, slots=True)
class Merged:
    path: Path
    files: int
    events: int
    held: int  # times a receive was held back behind its send (the clock alone would err)


def trace_files(directory: Path) -> list[Path]:
    """The per-server trace files of a directory, by server then incarnation."""
    found: list[tuple[str, int, int, Path]] = []
    for path in directory.iterdir():
        match = TRACE_NAME.match(path.name)
        if match and path.is_file():
            node = int(match[1]) if match[1] is not None else -1
            found.append((match[2] or "", node, int(match[3]), path))
    if not found:
        raise BadInput("no per-server trace files (trace-s<id>-<n>.jsonl) here", str(directory))
    return [path for _, _, _, path in sorted(found)]


def _read(path: Path) -> _File:
    name = str(path)
    try:
        stream = path.open(encoding="utf-8")
    except OSError as error:
        raise BadInput(f"cannot read: {error.strerror}", name) from None
    with stream:
        try:
            header = read_header(stream, name, ("raft", "kv", "shardkv"))
            events = [(ev.line, ev.record) for ev in read_events(stream, name, header)]
            stream.seek(0)
            raw = json.loads(stream.readline())
        except UnicodeDecodeError:
            raise BadInput("not UTF-8 text; expected JSON Lines", name) from None
    node, incarnation = raw.get("node"), raw.get("incarnation")
    if type(node) not in (int, str) or type(incarnation) is not int:
        raise BadInput("the header names no node and incarnation: not one server's trace "
                       "(merge the files 'dscheck server --trace' writes)", name, 1)
    return _File(name, node, incarnation, raw, events)


def merge_traces(paths: Iterable[Path], out: Path) -> Merged:
    """Merge the per-server trace files `paths` into one trace at `out`."""
    files = sorted((_read(p) for p in paths), key=lambda f: (f.node, f.incarnation))
    if not files:
        raise BadInput("no trace files to merge")
    first = files[0].header
    for f in files[1:]:
        if (f.header.get("system"), f.header.get("config")) != (first.get("system"),
                                                                  first.get("config")):
            raise BadInput(f"its system or config differs from {files[0].path}'s: not "
                           "the same cluster", f.path, 1)
    if len({type(f.node) for f in files}) > 1:
        raise BadInput("numbered and named servers' traces mixed: not the same cluster",
                       files[-1].path, 1)
    seen: set[tuple[Node, int]] = set()
    for f in files:
        if (f.node, f.incarnation) in seen:
            raise BadInput(f"a second trace of server {f.node}, incarnation {f.incarnation}",
                           f.path, 1)
        seen.add((f.node, f.incarnation))
    later = {id(f) for f in files
             if any(g.node == f.node and g.incarnation < f.incarnation for g in files)}
    header = {key: value for key, value in first.items()
              if key not in ("node", "incarnation")}
    header["merged_from"] = [Path(f.path).name for f in files]
    servers = _servers(first)  # a receive from anyone else (a clerk) is never held
    sent: set[tuple[Node, int]] = set()
    waiting: dict[tuple[Node, int], list[_File]] = {}  # a send -> files held until it
    ready: list[tuple[int, Any, int, int]] = []  # (time, node, incarnation, index in files)
    for index, f in enumerate(files):
        if f.events:
            ready.append((f.events[0][1]["time"], f.node, f.incarnation, index))
    heapq.heapify(ready)
    seq = time = held = 0
    started: set[int] = set()  # files (by id) whose first event was written
    with out.open("w", encoding="utf-8") as stream:
        stream.write(json.dumps(header) + "\n")

        def write(record: dict[str, Any]) -> None:
            nonlocal seq, time
            seq += 1
            time = max(time, record["time"])
            record["seq"], record["time"] = seq, time
            stream.write(json.dumps(record, separators=(",", ":")) + "\n")

        while ready:
            _, _, _, index = heapq.heappop(ready)
            f = files[index]
            record = f.events[f.next][1]
            cause = _cause(record, servers)
            if cause is not None and cause not in sent:
                held += 1
                waiting.setdefault(cause, []).append(f)
                continue
            if id(f) in later and id(f) not in started:
                write({"time": record["time"], "node": f.node, "event": "crash"})
            started.add(id(f))
            write(dict(record))
            if record.get("event") == "send":
                key = (f.node, record.get("id"))
                if type(key[1]) is int:
                    sent.add((f.node, key[1]))
                    for g in waiting.pop((f.node, key[1]), []):
                        heapq.heappush(ready, (g.events[g.next][1]["time"], g.node,
                                               g.incarnation, files.index(g)))
            f.next += 1
            if f.next < len(f.events):
                heapq.heappush(ready, (f.events[f.next][1]["time"], f.node, f.incarnation,
                                       index))
    if waiting:
        (sender, msg), stuck = next(iter(waiting.items()))
        g = stuck[0]
        raise BadInput(f"server {g.node} received message {msg} from server {sender}, whose "
                       "send is in no trace file given (is a file missing?)",
                       g.path, g.events[g.next][0])
    return Merged(out, len(files), seq, held)


def _servers(header: dict[str, Any]) -> frozenset[str] | None:
    """The names of a sharded cluster's servers (its header lists them); None for a
    key/value cluster, whose servers are the integer ids."""
    config = header.get("config")
    if header.get("system") != "shardkv" or not isinstance(config, dict):
        return None
    names = list(config.get("controllers") or [])
    for group in (config.get("groups") or {}).values():
        names += list(group)
    return frozenset(n for n in names if isinstance(n, str))


def _cause(record: dict[str, Any], servers: frozenset[str] | None) -> tuple[Node, int] | None:
    """The (sender, id) of a server's message this event receives, if any."""
    if record.get("event") != "receive":
        return None
    sender, msg = record.get("from"), record.get("id")
    if type(msg) is not int:
        return None
    if type(sender) is int and servers is None:
        return sender, msg
    if type(sender) is str and servers is not None and sender in servers:
        return sender, msg
    return None


def is_server_trace(path: Path) -> bool:
    """Is `path` one server's own trace (a header with node and incarnation)?"""
    try:
        with path.open(encoding="utf-8") as stream:
            head = json.loads(stream.readline())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return (isinstance(head, dict) and head.get("format") == FORMAT
            and type(head.get("node")) in (int, str) and type(head.get("incarnation")) is int)

"""Fault schedules as data: what the simulator writes (`--schedule-out`) and replays
(`--schedule FILE`).

A schedule file is JSON Lines, UTF-8: a header line, then one line per fault or step, so that
a malformed file is reported as `path:line: what is wrong`. Two kinds:

- `faults`: a random run made data. The header holds the seed (whose draws decide delays,
  drops, reordering, election timeouts and the clients' choices) and the run's settings;
  each line is one fault at a virtual time: `{"t": 1200, "op": "crash", "node": 1}`, with op
  one of crash, restart, disconnect, connect, partition (`"groups": [[0, 1], [2]]`), heal,
  isolate (one server against the rest), cut (the links between `node` and `peer`), slow
  (`"ms": 60`: the server's requests take that much longer, so replies overtake them),
  timeout (the server's election timer fires now, as the model checker's timer step: a
  follower that stops trusting its leader, a paused server's timer running out), or skip
  (a draw that changed nothing: kept so that a recorded run replays draw for draw).
  A fault's server may be a role resolved when it is carried out (`"node": "voter"`, with
  `"pick": k` among several); `"on": "elected"` (or candidate, vote) waits from `t` for the
  next such event; `"for": ms` undoes it that long after (impl/raft/scenarios/roles.py).
- `steps`: an exact interleaving, as a model checker's counterexample is — each line one input
  to one node, in order, with nothing else happening in between: `timer` (`"node", "timer"`),
  `deliver`/`duplicate`/`drop` (`"from", "to", "msg"`: the message's wire form), `start`
  (`"node", "command"`), `snapshot` (`"node", "index"`), `crash`/`restart` (`"node"`).

Header: `{"format": "dscheck-schedule", "version": 1, "system": "raft", "kind": ...,
"servers": N, "bugs": [...]}` plus, for `faults`, `seed`, `duration_ms`, `unreliable`,
`drop_rate` (null: the lab's), `snapshots`, and optionally `clients` (how many of the lab's
churn clients start commands during the faults: 0..3, 3 when absent; with 0 the logs hold
only the settling's command, and elections are decided by terms alone), and optionally
`drawn` (true: the faults are the ones the seed draws, as `--schedule-out` writes them, so
the seed alone replays the run; absent: they were chosen otherwise, by a hunt say, and a
trace of their run names the schedule file as what replays it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spec.errors import BadInput

FORMAT = "dscheck-schedule"
VERSION = 1
KINDS = ("faults", "steps")
FAULT_OPS = ("crash", "restart", "disconnect", "connect", "partition", "heal", "skip", "isolate",
             "cut", "slow", "timeout")
# a fault's server by role, resolved when it is carried out, and the events a fault may wait
# for (impl/raft/scenarios/roles.py says what each means)
ROLES = ("leader", "follower", "candidate", "voter", "nonvoter", "crashed")
TRIGGERS = ("elected", "candidate", "vote")
_ROLE_OPS = {"crash", "restart", "disconnect", "connect", "isolate", "cut", "slow", "timeout"}
_UNDOABLE = {"crash", "disconnect", "isolate", "cut", "partition", "slow"}
STEP_OPS = ("timer", "deliver", "duplicate", "drop", "start", "snapshot", "crash", "restart")
CLIENTS = 3  # the lab's churn clients in a `faults` run (impl/raft/scenarios/chaos.py)
_NODE_OPS = {"crash", "restart", "disconnect", "connect", "timer", "start", "snapshot"}


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule. `lines[k]` is the file line of `items[k]` (for messages about it)."""

    kind: str
    servers: int
    bugs: tuple[str, ...] = ()
    seed: int = 1
    duration_ms: int = 0
    unreliable: bool = False
    drop_rate: float | None = None
    snapshots: bool = False
    clients: int = CLIENTS
    drawn: bool = False
    items: tuple[dict[str, Any], ...] = ()
    path: str = "<schedule>"
    lines: tuple[int, ...] = field(default=(), compare=False)

    def header(self) -> dict[str, Any]:
        record: dict[str, Any] = {"format": FORMAT, "version": VERSION, "system": "raft",
                                  "kind": self.kind, "servers": self.servers,
                                  "bugs": sorted(self.bugs)}
        if self.kind == "faults":
            record.update(seed=self.seed, duration_ms=self.duration_ms,
                          unreliable=self.unreliable, drop_rate=self.drop_rate,
                          snapshots=self.snapshots)
            if self.clients != CLIENTS:  # written only when not the default: older files
                record["clients"] = self.clients  # and their golden copies stay as they are
            if self.drawn:
                record["drawn"] = True
        return record

    @property
    def faults(self) -> int:
        """The faults it holds, not counting `skip` (a draw kept only for the replay)."""
        return sum(1 for f in self.items if f["op"] != "skip")

    def text(self) -> str:
        return "".join(json.dumps(r, separators=(",", ":")) + "\n"
                       for r in (self.header(), *self.items))

    def line_of(self, k: int) -> int:
        return self.lines[k] if k < len(self.lines) else k + 2


def write_schedule(path: Path, schedule: Schedule) -> None:
    path.write_text(schedule.text(), encoding="utf-8")


def read_schedule(path: Path) -> Schedule:
    """Parse and validate a schedule file; BadInput names the line and what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BadInput(f"cannot read the schedule: {error.strerror}", str(path)) from None
    except UnicodeDecodeError:
        raise BadInput("not UTF-8 text; expected a dscheck-schedule (JSON Lines)",
                       str(path)) from None
    return parse_schedule(text.splitlines(), str(path))


def parse_schedule(lines: Iterable[str], path: str = "<schedule>") -> Schedule:
    records: list[tuple[int, dict[str, Any]]] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as e:
            raise BadInput(f"not JSON ({e.msg} at column {e.colno}); expected one JSON object "
                           "per line", path, number) from None
        if not isinstance(record, dict):
            raise BadInput("expected a JSON object", path, number)
        records.append((number, record))
    if not records:
        raise BadInput("empty; expected a dscheck-schedule header line", path, 1)
    number, head = records[0]
    if head.get("format") != FORMAT or head.get("version") != VERSION:
        raise BadInput(f"not a {FORMAT} version {VERSION} header (format "
                       f"{head.get('format')!r}, version {head.get('version')!r})", path, number)
    if head.get("system") != "raft":
        raise BadInput(f"system {head.get('system')!r}: only raft schedules exist", path, number)
    kind = head.get("kind")
    if kind not in KINDS:
        raise BadInput(f"kind {kind!r}; expected one of {', '.join(KINDS)}", path, number)
    servers = head.get("servers")
    if not isinstance(servers, int) or not _int(servers, 1, 15):
        raise BadInput(f"servers {servers!r}; expected an integer 1..15", path, number)
    bugs = head.get("bugs", [])
    if not (isinstance(bugs, list) and all(isinstance(b, str) for b in bugs)):
        raise BadInput("bugs must be a list of flag names", path, number)
    settings: dict[str, Any] = {}
    if kind == "faults":
        settings = _fault_settings(head, path, number)
    items = tuple(record for _, record in records[1:])
    for (line, record) in records[1:]:
        _check_item(kind, record, servers, path, line)
    if kind == "faults":
        times = [r["t"] for r in items]
        for k in range(1, len(times)):
            if times[k] < times[k - 1]:
                raise BadInput(f"t {times[k]} is before the previous fault's {times[k - 1]}; "
                               "faults must be in time order", path, records[k + 1][0])
        if times and times[-1] > settings["duration_ms"]:
            raise BadInput(f"t {times[-1]} is past duration_ms {settings['duration_ms']}",
                           path, records[-1][0])
    return Schedule(kind=kind, servers=servers, bugs=tuple(bugs), items=items, path=path,
                    lines=tuple(line for line, _ in records[1:]), **settings)


def _fault_settings(head: dict[str, Any], path: str, number: int) -> dict[str, Any]:
    seed, duration = head.get("seed"), head.get("duration_ms")
    if not _int(seed, 0, 2**63):
        raise BadInput(f"seed {seed!r}; expected a non-negative integer", path, number)
    if not _int(duration, 0, 3_600_000):
        raise BadInput(f"duration_ms {duration!r}; expected an integer 0..3600000", path, number)
    rate = head.get("drop_rate")
    if rate is not None and not (isinstance(rate, int | float) and not isinstance(rate, bool)
                                 and 0.0 <= rate <= 1.0):
        raise BadInput(f"drop_rate {rate!r}; expected null or a number 0..1", path, number)
    unreliable, snapshots = head.get("unreliable", False), head.get("snapshots", False)
    if not isinstance(unreliable, bool) or not isinstance(snapshots, bool):
        raise BadInput("unreliable and snapshots must be true or false", path, number)
    clients = head.get("clients", CLIENTS)
    if not _int(clients, 0, CLIENTS):
        raise BadInput(f"clients {clients!r}; expected an integer 0..{CLIENTS}", path, number)
    drawn = head.get("drawn", False)
    if not isinstance(drawn, bool):
        raise BadInput(f"drawn {drawn!r}; expected true or false", path, number)
    return {"seed": seed, "duration_ms": duration, "unreliable": unreliable,
            "drop_rate": None if rate is None else float(rate), "snapshots": snapshots,
            "clients": clients, "drawn": drawn}


def _check_item(kind: str, r: dict[str, Any], servers: int, path: str, line: int) -> None:
    op = r.get("op")
    ops = FAULT_OPS if kind == "faults" else STEP_OPS
    if op not in ops:
        raise BadInput(f"op {op!r}; a {kind} schedule's ops are {', '.join(ops)}", path, line)
    if kind == "faults" and not _int(r.get("t"), 0, 3_600_000):
        raise BadInput(f"t {r.get('t')!r}; expected the fault's virtual time in ms", path, line)
    if kind == "faults":
        _check_fault(r, str(op), servers, path, line)
    elif op in _NODE_OPS and not _int(r.get("node"), 0, servers - 1):
        raise BadInput(f"{op}: node {r.get('node')!r}; expected 0..{servers - 1}", path, line)
    if op == "partition":
        groups = r.get("groups")
        flat = [x for g in groups for x in g] if groups is not None and _groups(groups) else None
        if flat is None or not all(_int(x, 0, servers - 1) for x in flat) \
                or len(set(flat)) != len(flat):
            raise BadInput("partition: groups must be lists of distinct node ids "
                           f"0..{servers - 1}", path, line)
    if op == "timer" and r.get("timer") not in ("election", "heartbeat"):
        raise BadInput(f"timer: {r.get('timer')!r}; expected election or heartbeat", path, line)
    if op in ("deliver", "duplicate", "drop"):
        if not (_int(r.get("from"), 0, servers - 1) and _int(r.get("to"), 0, servers - 1)):
            raise BadInput(f"{op}: from and to must be node ids 0..{servers - 1}", path, line)
        if not isinstance(r.get("msg"), list) or not r["msg"]:
            raise BadInput(f"{op}: msg must be the message's wire form (a list)", path, line)
    if op == "start" and "command" not in r:
        raise BadInput("start: missing command", path, line)
    if op == "snapshot" and not _int(r.get("index"), 0, 2**31):
        raise BadInput(f"snapshot: index {r.get('index')!r}; expected an integer", path, line)


def _check_fault(r: dict[str, Any], op: str, servers: int, path: str, line: int) -> None:
    """A fault's server (a number, or a role with `pick`), `peer` of a cut, `on`, `for`."""
    where = [("node", "pick")] if op in _ROLE_OPS else []
    if op == "cut":
        where.append(("peer", "peer_pick"))
    for key, pick in where:
        node = r.get(key)
        if not (_int(node, 0, servers - 1) or node in ROLES):
            raise BadInput(f"{op}: {key} {node!r}; expected 0..{servers - 1} or a role "
                           f"({', '.join(ROLES)})", path, line)
        if pick in r and not _int(r[pick], 0, servers - 1):
            raise BadInput(f"{op}: {pick} {r[pick]!r}; expected 0..{servers - 1}", path, line)
    if op == "slow" and not _int(r.get("ms"), 1, 60_000):
        raise BadInput(f"slow: ms {r.get('ms')!r}; expected the extra delay of the server's "
                       "requests, 1..60000", path, line)
    if "on" in r and (r["on"] not in TRIGGERS or op == "skip"):
        raise BadInput(f"{op}: on {r['on']!r}; expected one of {', '.join(TRIGGERS)}",
                       path, line)
    if "for" in r and (op not in _UNDOABLE or not _int(r["for"], 0, 3_600_000)):
        raise BadInput(f"{op}: for {r['for']!r}; expected ms until it is undone, on "
                       f"{', '.join(sorted(_UNDOABLE))}", path, line)


def _groups(groups: Any) -> bool:
    return isinstance(groups, list) and all(isinstance(g, list) for g in groups)


def _int(x: Any, low: int, high: int) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and low <= x <= high


def wire_json(wire: Any) -> Any:
    """A message's wire form as JSON (bytes as {"$bytes": hex}, as traces write them)."""
    if isinstance(wire, bytes | bytearray):
        return {"$bytes": bytes(wire).hex()}
    if isinstance(wire, list | tuple):
        return [wire_json(x) for x in wire]
    return wire

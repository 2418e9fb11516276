"""A model checker's counterexample as the validation page's space-time diagram.

`dscheck model-check ... --html OUT` draws its counterexample the way `check-trace --html`
draws a trace (`checker.validation.html`): a step is an event on the lane of the server that
takes it, and a message is an arrow from the step that put it in flight to the step that
delivered or dropped it. This works for any spec whose states keep per-server variables as
tuples indexed by server id with a `term` among them (Raft, as `spec.raft` or raft.tla's
semantics) and whose actions name their `server`; a message is matched by equality, the
network being a set (or raft.tla's bag). Other specs (MapReduce, the sharded services) are
drawn on one lane, each step with the state it led to. The last state, where the invariant
fails, is ringed.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from checker.modelcheck.result import Counterexample
from checker.validation.html import render_page


def counterexample_diagram(trace: Counterexample, title: str) -> dict[str, Any]:
    states = trace.states
    first = states[0]
    servers = len(first.term) if isinstance(getattr(first, "term", None), tuple) else 0
    lanes = [f"s{i}" for i in range(servers)] or ["model"]
    events: list[dict[str, Any]] = [{"seq": 1, "lane": lanes[0], "kind": "restart",
                                     "label": "initial state", "line": 1,
                                     "state": _server_state(first, 0, servers)}]
    in_flight: dict[Any, list[int]] = {}  # message → the ids of its unmatched sends
    messages: list[dict[str, Any]] = []
    for m in _network(first):
        in_flight.setdefault(m, []).append(len(messages))
        messages.append({"id": len(messages), "from": 1, "to": None, "dropped": False,
                         "label": str(m)})
    for k, step in enumerate(trace.steps, start=2):
        before, after = states[k - 2], step.state
        action = step.action
        server = getattr(action, "server", None)
        lane = f"s{server}" if servers and isinstance(server, int) else lanes[0]
        name = getattr(action, "name", type(action).__name__)
        events.append({"seq": k, "lane": lane, "kind": _KINDS.get(name, "return"),
                       "label": str(action), "line": k,
                       "state": _server_state(after, server if servers else None, servers)})
        delivered = getattr(action, "message", None)
        if name in ("Receive", "Drop", "Duplicate") and in_flight.get(delivered):
            sent = messages[in_flight[delivered][0]]
            sent["to"], sent["dropped"] = k, name == "Drop"
            if name != "Duplicate":
                in_flight[delivered].pop(0)
        for m in _network(after) - _network(before):
            in_flight.setdefault(m, []).append(len(messages))
            messages.append({"id": len(messages), "from": k, "to": None, "dropped": False,
                             "label": str(m)})
    last = len(states)
    return {"title": title, "lanes": lanes, "events": events,
            "messages": messages,
            "network": [], "focus": last, "diff": [],
            "notes": [f"counterexample: {trace.invariant} fails in the last state, after "
                      f"{len(trace.steps)} steps (ringed)",
                      "each step is drawn on the lane of the server that takes it; click a "
                      "step for that server's variables after it"]}


def counterexample_page(trace: Counterexample, title: str) -> str:
    """The page's text (the caller writes it, as it writes the ITF file)."""
    return render_page(counterexample_diagram(trace, title))


_KINDS = {"Receive": "receive", "Duplicate": "receive", "Drop": "drop", "Timeout": "timer",
          "Restart": "restart", "ClientRequest": "return", "Compact": "return",
          "RequestVote": "send", "AppendEntries": "send", "InstallSnapshot": "send"}


def _network(state: Any) -> frozenset[Any]:
    network = getattr(state, "network", None)
    if isinstance(network, frozenset):
        return network
    if isinstance(network, tuple):  # raft.tla's bag: (message, count) pairs
        return frozenset(m for m, _ in network)
    return frozenset()


def _server_state(state: Any, server: int | None, servers: int) -> dict[str, Any]:
    """Server `server`'s variables in `state` (all of the state when it has no servers)."""
    if not dataclasses.is_dataclass(state):
        return {"state": repr(state)}
    out: dict[str, Any] = {}
    for f in dataclasses.fields(state):
        value = getattr(state, f.name)
        if server is not None and isinstance(value, tuple) and len(value) == servers \
                and f.name != "network":
            value = value[server]
        elif f.name == "network":
            value = len(_network(state))
        out[f.name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, (frozenset, set)):
        return sorted((_plain(v) for v in value), key=str)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, (int, str, float)) or value is None:
        return value
    return str(value)

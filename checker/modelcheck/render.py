"""Rendering a model-checking result: terminal text (rich) and JSON. No checking here."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from checker.modelcheck.result import ModelCheckResult, NodeProgress, Progress
from checker.modelcheck.trace import changes, to_itf
from checker.verdict import Verdict


def progress_line(p: Progress) -> str:
    line = (
        f"model-check: {p.generated:,} states, {p.distinct:,} distinct, queue {p.queue:,}, "
        f"depth {p.depth}, {p.per_second:,.0f} distinct/s, {p.seconds:.0f} s"
    )
    for node in p.nodes:
        line += f"\n  {node_line(node)}"
    return line


def node_line(node: NodeProgress) -> str:
    return (
        f"node {node.node}: {node.partitions} partition(s), {node.distinct:,} distinct, "
        f"queue {node.queue:,}, {node.memory / 2**20:,.0f} MB peak resident"
    )


def to_json(result: ModelCheckResult) -> dict[str, Any]:
    model = result.model
    out: dict[str, Any] = {"verdict": result.verdict.value}
    out.update(model.summary())
    out.update(
        {
            "workers": result.options.workers,
            "search": result.options.engine,
            "distinct_states": result.distinct_states,
            "states_generated": result.states_generated,
            "depth": result.depth,
            "seconds": round(result.seconds, 3),
            "reason": result.reason,
            "sometimes": result.sometimes,
            "resumed_at": result.resumed_at,
            "nodes": [
                {"node": n.node, "partitions": n.partitions, "distinct_states": n.distinct,
                 "queue": n.queue, "peak_resident_bytes": n.memory,
                 "cpu_seconds": round(n.cpu, 2)}
                for n in result.nodes
            ],
            "counterexample": None,
        }
    )
    trace = result.counterexample
    if trace is not None:
        replay = model.replay_model()
        states = trace.states
        out["counterexample"] = {
            "invariant": trace.invariant,
            "length": len(trace.steps),
            "initial": replay.variables(trace.initial),
            "steps": [
                {
                    "action": replay.describe_action(step.action),
                    "changes": changes(replay, before, step.state),
                }
                for before, step in zip(states, trace.steps, strict=False)
            ],
            "itf": to_itf(replay, trace),
        }
    return out


def dumps(result: ModelCheckResult) -> str:
    return json.dumps(to_json(result), sort_keys=False)


_STYLE = {Verdict.OK: "bold green", Verdict.VIOLATION: "bold red", Verdict.UNKNOWN: "bold yellow"}


def print_result(result: ModelCheckResult, console: Console) -> None:
    model = result.model
    trace = result.counterexample
    if trace is not None:
        replay = model.replay_model()
        console.print(
            f"[bold red]Counterexample[/] ({len(trace.steps)} steps) to {trace.invariant}:"
        )
        console.print(
            f"  0. {replay.describe_initial(trace.initial)}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        for k, (before, step) in enumerate(zip(trace.states, trace.steps, strict=False), 1):
            action = replay.describe_action(step.action)
            # Escaped: an action's own brackets are text, not markup.
            console.print(f"  {k}. [bold]{escape(action)}[/]", highlight=False, soft_wrap=True)
            for name, value in changes(replay, before, step.state).items():
                console.print(
                    f"       {name}: {_short(value)}", highlight=False, markup=False, soft_wrap=True
                )
        console.print(
            f"  (replayed through {model.replayed_through}: the last "
            f"{'step' if trace.invariant in replay.transition_invariants else 'state'} "
            f"violates {trace.invariant})"
        )
    console.print(f"bounds: {model.bounds_text()}", soft_wrap=True)
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")  # a long invariant name wraps; the labels never do
    table.add_row("verdict", f"[{_STYLE[result.verdict]}]{result.verdict.name}[/]")
    table.add_row("reason", result.reason)
    table.add_row("distinct states", f"{result.distinct_states:,}")
    table.add_row("states generated", f"{result.states_generated:,}")
    table.add_row("depth", str(result.depth))
    rate = result.distinct_states / result.seconds if result.seconds > 0 else 0.0
    table.add_row("time", f"{result.seconds:.1f} s")
    on_ray = ", on Ray" if result.options.engine == "ray" else ""
    table.add_row(
        "speed", f"{rate:,.0f} distinct states/s, {result.options.workers} worker(s){on_ray}"
    )
    if result.resumed_at is not None:
        table.add_row("resumed", f"from a checkpoint at depth {result.resumed_at}")
    if result.options.per_node:
        for node in result.nodes:
            table.add_row("node", node_line(node))
    for name, value in model.labels():
        table.add_row(name, value)
    for name, hit in result.sometimes.items():
        table.add_row(f"sometimes {name}", "reached" if hit else "[yellow]not reached[/]")
    console.print(table)


def _short(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"+", "-"}:
        parts = [f"+ {m}" for m in value["+"]] + [f"- {m}" for m in value["-"]]
        return "; ".join(parts)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)

"""Rendering a model-checking result: terminal text (rich) and JSON. No checking here."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from checker.modelcheck.model import engine_name
from checker.modelcheck.result import ModelCheckResult, Options, Progress
from checker.modelcheck.trace import changes, to_itf, variables
from checker.verdict import Verdict


def progress_line(p: Progress) -> str:
    return (
        f"model-check: {p.generated:,} states, {p.distinct:,} distinct, queue {p.queue:,}, "
        f"depth {p.depth}, {p.per_second:,.0f} distinct/s, {p.seconds:.0f} s"
    )


def config_dict(result: ModelCheckResult) -> dict[str, Any]:
    c = result.config
    return {
        "servers": c.servers,
        "max_term": c.max_term,
        "max_log": c.max_log,
        "values": c.values,
        "max_messages": c.max_messages,
        "max_restarts": c.max_restarts,
        "drops": c.drops,
        "duplicates": c.duplicates,
        "snapshots": c.snapshots,
        "bugs": sorted(c.bugs),
    }


def to_json(result: ModelCheckResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "verdict": result.verdict.value,
        "spec": "raft",
        "semantics": result.options.model,
        "engine": engine_of(result.options),
        "config": config_dict(result),
        "symmetry": result.options.symmetry,
        "workers": result.options.workers,
        "distinct_states": result.distinct_states,
        "states_generated": result.states_generated,
        "depth": result.depth,
        "seconds": round(result.seconds, 3),
        "reason": result.reason,
        "sometimes": result.sometimes,
        "counterexample": None,
    }
    trace = result.counterexample
    if trace is not None:
        states = trace.states
        out["counterexample"] = {
            "invariant": trace.invariant,
            "length": len(trace.steps),
            "initial": variables(trace.initial),
            "steps": [
                {"action": str(step.action), "changes": changes(before, step.state)}
                for before, step in zip(states, trace.steps, strict=False)
            ],
            "itf": to_itf(trace, result.config),
        }
    return out


def engine_of(options: Options) -> str:
    return engine_name(options.model, options.engine)


def dumps(result: ModelCheckResult) -> str:
    return json.dumps(to_json(result), sort_keys=False)


_STYLE = {Verdict.OK: "bold green", Verdict.VIOLATION: "bold red", Verdict.UNKNOWN: "bold yellow"}


def print_result(result: ModelCheckResult, console: Console) -> None:
    trace = result.counterexample
    if trace is not None:
        console.print(
            f"[bold red]Counterexample[/] ({len(trace.steps)} steps) to {trace.invariant}:"
        )
        console.print("  0. Init: every server a follower, empty logs, nothing in flight")
        for k, (before, step) in enumerate(zip(trace.states, trace.steps, strict=False), 1):
            console.print(f"  {k}. [bold]{step.action}[/]", highlight=False, soft_wrap=True)
            for name, value in changes(before, step.state).items():
                console.print(
                    f"       {name}: {_short(value)}", highlight=False, markup=False, soft_wrap=True
                )
        console.print(f"  (replayed through the spec: the last state violates {trace.invariant})")
    c = result.config
    bounds = (
        f"{c.servers} servers, terms ≤ {c.max_term}, logs ≤ {c.max_log}, {c.values} value(s), "
        f"≤ {c.max_messages} in flight, ≤ {c.max_restarts} restarts"
        + (", drops" if c.drops else "")
        + (", duplicates" if c.duplicates else "")
        + (", snapshots" if c.snapshots else "")
        + (f", bugs: {', '.join(sorted(c.bugs))}" if c.bugs else "")
    )
    console.print(f"bounds: {bounds}", soft_wrap=True)
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_row("verdict", f"[{_STYLE[result.verdict]}]{result.verdict.name}[/]")
    table.add_row("reason", result.reason)
    table.add_row("distinct states", f"{result.distinct_states:,}")
    table.add_row("states generated", f"{result.states_generated:,}")
    table.add_row("depth", str(result.depth))
    rate = result.distinct_states / result.seconds if result.seconds > 0 else 0.0
    table.add_row("time", f"{result.seconds:.1f} s")
    table.add_row("speed", f"{rate:,.0f} distinct states/s, {result.options.workers} worker(s)")
    table.add_row("semantics", f"{result.options.model}, {engine_of(result.options)} engine")
    table.add_row("symmetry", "on" if result.options.symmetry else "off")
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

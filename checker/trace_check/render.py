"""Rendering a trace-check result: terminal text (rich) and JSON (`--json`)."""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape

from checker.trace_check.check import TraceResult

EXCERPT_WIDTH = 220


def render_text(result: TraceResult, console: Console) -> None:
    r = result
    rate = r.events / r.seconds if r.seconds else 0.0
    calls = f", {r.calls:,} clerk calls returned" if r.system in ("kv", "shardkv") else ""
    groups = (f"{r.groups} groups and the controller, " if r.system == "shardkv" else
              "the controller, " if r.system == "shardctrler" else "")
    console.print(f"trace {escape(r.path)}: {r.system}, {groups}{r.servers} servers{calls}")
    console.print(f"{r.events:,} events · {r.states:,} server states "
                  f"({r.evaluated:,} changed, re-evaluated) · {r.seconds:.2f} s "
                  f"({rate:,.0f} events/s)")
    console.print("invariants: " + ", ".join(r.invariants))
    if not r.violations:
        console.print("[green]OK[/green]: every state of the trace satisfies every invariant")
        return
    for v in r.violations:
        servers = ", ".join(v.nodes) if v.nodes else ", ".join(f"s{s}" for s in v.servers)
        who = f"call {v.call}" if v.call else f"servers {servers}" if servers else "the trace"
        console.print(f"\n[red]VIOLATION[/red] {v.invariant} at line {v.line} (seq {v.seq}), "
                      f"{who}")
        console.print(f"  {escape(v.detail)}")
        console.print("  shortest excerpt (the lines that set the state of each server involved):"
                      if not v.call else
                      "  excerpt (the call's invoke, where it took effect, its return):")
        for number, text in zip(v.excerpt_lines, v.excerpt, strict=True):
            shown = text if len(text) <= EXCERPT_WIDTH else text[: EXCERPT_WIDTH - 3] + "..."
            console.print(f"  {number:>7}: {escape(shown)}", soft_wrap=True)


def render_json(result: TraceResult) -> str:
    return json.dumps(result.to_json(), ensure_ascii=False)

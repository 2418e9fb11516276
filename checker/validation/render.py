"""Rendering a validation result: terminal text (rich); `--json` is `ValidationResult.to_json`."""

from __future__ import annotations

import enum

from rich.console import Console
from rich.markup import escape

from checker.validation.result import ValidationResult

EXCERPT_WIDTH = 220


def render_text(result: ValidationResult, console: Console) -> None:
    r = result
    rate = r.events / r.seconds if r.seconds else 0.0
    steps = sum(n for name, n in r.actions.items() if name != "stutter")
    console.print(f"validation against {r.spec}: {r.events:,} events, {steps:,} matched to spec "
                  f"actions, {r.actions.get('stutter', 0):,} stutters, {r.searched:,} needed a "
                  f"search ({r.search_share:.2%}) · {r.seconds:.2f} s ({rate:,.0f} events/s)")
    m = r.mismatch
    if m is None:
        console.print("[green]OK[/green]: the trace is a behaviour of the spec")
        return
    console.print(f"\n[red]MISMATCH[/red] {m.rule} at line {m.line} (seq {m.seq}), "
                  f"{m.event} at {'s' if isinstance(m.node, int) else ''}{m.node}")
    console.print(f"  {escape(m.detail)}")
    for tried in m.tried:
        note = f" ({escape(tried.note)})" if tried.note else ""
        console.print(f"  tried {escape(tried.action)}{note}:")
        if not tried.diff:
            console.print("    (no result to compare)")
        for name, expected, recorded in tried.diff:
            console.print(f"    {name}: spec {escape(_short(expected))} ≠ recorded "
                          f"{escape(_short(recorded))}")
    console.print("  shortest excerpt:")
    for number, text in zip(m.excerpt_lines, m.excerpt, strict=True):
        shown = text if len(text) <= EXCERPT_WIDTH else text[: EXCERPT_WIDTH - 3] + "..."
        console.print(f"  {number:>7}: {escape(shown)}", soft_wrap=True)
    if r.replay:
        console.print("  replay:")
        for command in r.replay:
            console.print(f"    {escape(command)}", soft_wrap=True)


def _short(x: object) -> str:
    text = x.name.lower() if isinstance(x, enum.Enum) else repr(x)
    return text if len(text) <= 80 else text[:77] + "..."

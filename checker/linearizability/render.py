"""Rendering results: terminal text and JSON. (HTML is in `html.py`.) Checkers never print."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from checker.linearizability.history import Operation
from checker.linearizability.result import LinResult, PartitionResult
from checker.verdict import Verdict

_MAX_SHOWN = 6  # operations of a prefix shown in terminal text (the JSON has them all)
_MAX_UNKNOWN = 5  # unfinished parts named in terminal text


def summary_line(path: str, result: LinResult) -> str:
    parts = len(result.partitions)
    failing = len(result.failing)
    detail = f"{failing} of {parts} parts fail" if failing else f"{parts} part{'s' * (parts != 1)}"
    return (
        f"{path}: {result.verdict.name}  {result.model}  {result.operations} operations  "
        f"{detail}  {result.seconds:.3f} s CPU"
    )


def render_text(result: LinResult, path: str = "history") -> str:
    """The summary line, then for each failing part why nothing fits after its longest prefix."""
    lines = [summary_line(path, result)]
    for part in result.failing:
        lines.extend(_explain_part(part))
    unknown = [p for p in result.partitions if p.verdict is Verdict.UNKNOWN]
    if unknown:
        notes = sorted({p.note or "not finished" for p in unknown})
        lines.append(f"  {len(unknown)} part(s) unknown: {'; '.join(notes)}")
        # Which parts, and how far each got (the longest prefix placed).
        for part in sorted(unknown, key=lambda p: -len(p.operations))[:_MAX_UNKNOWN]:
            where = "the history" if part.key is None else f"part {part.key!r}"
            n = len(part.operations) - len(part.ignored)
            lines.append(f"    {where}: not finished, {len(part.linearization)} of {n} "
                         "operations placed")
        if len(unknown) > _MAX_UNKNOWN:
            lines.append(f"    ... {len(unknown) - _MAX_UNKNOWN} more (--json lists them all)")
    return "\n".join(lines)


def _explain_part(part: PartitionResult) -> list[str]:
    where = "" if part.key is None else f" {part.key!r}"
    n = len(part.operations) - len(part.ignored)
    if part.refutation:
        lines = [f"  part{where}: not linearizable, before any search: {part.refutation}"]
        for op in part.witnesses:
            lines.append(f"    {_when(op)}  {op.describe()}")
        return lines
    lines = [
        f"  part{where}: the longest linearizable prefix has {len(part.linearization)} of {n} "
        "operations; nothing can be placed next"
    ]
    shown = part.linearization[-_MAX_SHOWN:]
    if len(part.linearization) > len(shown):
        lines.append(f"    ... {len(part.linearization) - len(shown)} earlier operations")
    for placed in shown:
        lines.append(
            f"    {_when(placed.op)}  {placed.op.describe()}   state: {placed.state_after!r}"
        )
    lines.append(f"    state after the prefix: {part.state!r}")
    if part.must_precede is not None:
        lines.append(
            f"    must be placed before anything called after its return: "
            f"{_when(part.must_precede)}  {part.must_precede.describe()}"
        )
    for refusal in part.refusals:
        lines.append(f"    cannot be next: {_when(refusal.op)}  {refusal.describe()}")
    return lines


def _when(op: Operation) -> str:
    end = "∞" if op.ret is None else f"{op.ret:g}"
    line = f" line {op.line}" if op.line is not None else ""
    return f"[{op.call:g}, {end}]{line}"


# --- JSON -------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Model values as JSON: tuples become arrays; anything else unusual becomes its repr."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted((jsonable(v) for v in value), key=repr)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return repr(value)


def op_json(op: Operation) -> dict[str, Any]:
    f, key, value = op.input
    return {
        "index": op.index,
        "client": op.client,
        "f": f,
        "key": jsonable(key),
        "value": jsonable(value),
        "output": jsonable(op.output) if op.output_known else None,
        "output_known": op.output_known,
        "call": op.call,
        "return": op.ret,
        "line": op.line,
        "text": op.describe(),
    }


def part_json(
    part: PartitionResult, *, with_operations: bool = False, with_states: bool | None = None
) -> dict[str, Any]:
    """A part as JSON. The linearization is [operation index, state after] pairs; states are
    left out (null) of an OK part's unless asked for, as they can run to megabytes (a key/value
    state is the whole string)."""
    if with_states is None:
        with_states = part.verdict is not Verdict.OK
    data: dict[str, Any] = {
        "key": jsonable(part.key),
        "verdict": part.verdict.value,
        "operations": len(part.operations),
        "seconds": round(part.seconds, 6),
        "explored": part.explored,
        # For OK the linearization, otherwise the longest linearizable prefix found:
        # [operation index, state after it] pairs.
        "linearization": [
            [p.op.index, jsonable(p.state_after) if with_states else None]
            for p in part.linearization
        ],
        "state": jsonable(part.state),
    }
    if part.refutation:
        data["refutation"] = part.refutation
        data["witnesses"] = [op_json(op) for op in part.witnesses]
    if part.verdict is Verdict.VIOLATION:
        data["must_precede"] = None if part.must_precede is None else op_json(part.must_precede)
        data["refusals"] = [
            {
                "operation": op_json(r.op),
                "model_output": jsonable(r.model_output),
                "output_mismatch": r.output_mismatch,
            }
            for r in part.refusals
        ]
        data["prefix"] = [op_json(p.op) for p in part.linearization]
    if part.note:
        data["note"] = part.note
    if with_operations:
        data["history"] = [op_json(op) for op in part.operations]
    return data


def result_json(
    path: str, result: LinResult, *, fmt: str | None = None, nemesis: Sequence[Any] = ()
) -> dict[str, Any]:
    """One JSON object per file: file, verdict, operations, seconds (CPU), and the evidence;
    the nemesis's faults the file recorded, if any (not checked: shown for the reader)."""
    data = {
        "file": path,
        "verdict": result.verdict.value,
        "operations": result.operations,
        "seconds": round(result.seconds, 6),
        "model": result.model,
        "format": fmt,
        "parts": len(result.partitions),
        "failing": [part_json(p) for p in result.failing],
        "unknown": [
            {"key": jsonable(p.key), "note": p.note, "operations": len(p.operations),
             "placed": len(p.linearization)}
            for p in result.partitions
            if p.verdict is Verdict.UNKNOWN
        ],
        "peak_memory_mb": round(result.peak_memory / 2**20, 1),
        "partitions": [part_json(p) for p in result.partitions],
    }
    if nemesis:
        data["nemesis"] = [
            {"line": e.line, "type": e.type, "f": e.f, "value": e.value} for e in nemesis
        ]
    return data


def result_json_line(
    path: str, result: LinResult, *, fmt: str | None = None, nemesis: Sequence[Any] = ()
) -> str:
    return json.dumps(result_json(path, result, fmt=fmt, nemesis=nemesis), ensure_ascii=False)

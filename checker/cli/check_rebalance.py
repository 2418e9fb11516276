"""`dscheck check-rebalance [FILE] [--ops TEXT]`: the controller's rebalancing, proved minimal.

Reads a sequence of Join/Leave/Move (a text or JSON file, or `--ops` with `;` between
operations; the format is in `checker.shardctrler.sequence`), applies it from configuration 0
with the controller spec's rule (or judges the assignment a line gives after `=>`), and
reports for every step the configuration, the shards moved, the least number any balanced
assignment must move (proved with Z3) and the verdict. Exit status 0 when every step is
balanced and minimal, 1 when one is not, 2 on bad input, 3 when the solver did not answer.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from checker.shardctrler.minimality import cost
from checker.shardctrler.sequence import SequenceReport, Step, check, parse_json, parse_text
from checker.verdict import Verdict
from spec.errors import BadInput


@click.command(name="check-rebalance")
@click.argument("file", required=False, metavar="[FILE]")
@click.option("-e", "--ops", "ops_text", default=None, metavar="TEXT",
              help="The operations on the command line, separated by ';', e.g. "
                   "'join 1 2; leave 1; move 0 2'.")
@click.option("--shards", type=click.IntRange(1, 64), default=10, show_default=True,
              help="Number of shards (the lab's NShards is 10).")
@click.option("--timeout", "timeout_s", type=click.IntRange(1, 3600), default=10,
              show_default=True, help="Seconds per solver call; beyond it the verdict is unknown.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def command(file: str | None, ops_text: str | None, shards: int, timeout_s: int,
            as_json: bool) -> None:
    """Check that each rebalancing of a Join/Leave/Move sequence is balanced and minimal.

    \b
    FILE (or --ops, with ';' between operations) holds one operation a line:
      join 1 2              groups 1 and 2, each with the lab's three server names
      join 3:a,b,c          group 3 with servers a, b and c
      leave 1
      move 0 3              shard 0 to group 3
      join 4 => 3 3 3 2 2 4 4 2 3 4   judge this assignment instead of the spec's
    '#' starts a comment. A FILE ending in .json (or starting with '[') is a list of
    {"join": [1, 2]}, {"join": {"3": ["a", "b"]}}, {"leave": [1]} or {"move": [0, 3]},
    each with an optional "expect": [gid, ...].

    Exit status: 0 every step balanced and minimal, 1 one is not, 2 bad input, 3 the
    solver did not answer.
    """
    steps, source = _read(file, ops_text)
    if not steps:
        raise BadInput("no operations to check", source)
    report = check(steps, source, nshards=shards, timeout_ms=timeout_s * 1000)
    if as_json:
        click.echo(json.dumps(to_json(report)))
    else:
        click.echo("\n".join(report_lines(report)))
    sys.exit(report.verdict.exit_status)


def _read(file: str | None, ops_text: str | None) -> tuple[list[Step], str]:
    if (file is None) == (ops_text is None):
        raise click.UsageError("give either a FILE or --ops, not both and not neither")
    if ops_text is not None:
        return parse_text(ops_text, "--ops", separator=";"), "--ops"
    assert file is not None
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput("no such file", file) from None
    except UnicodeDecodeError:
        raise BadInput("not UTF-8 text", file, 1) from None
    except OSError as error:
        raise BadInput(f"cannot read: {error.strerror}", file) from None
    if file.endswith(".json") or text.lstrip().startswith("["):
        return parse_json(text, file), file
    return parse_text(text, file), file


def to_json(report: SequenceReport) -> dict[str, Any]:
    return {
        "verdict": report.verdict.value,
        "source": report.source,
        "steps": [
            {
                "step": s.index,
                "line": s.step.line,
                "op": s.step.op.describe(),
                "judged": s.judged,
                "num": s.after.num,
                "shards": list(s.after.shards),
                "groups": {str(gid): list(servers) for gid, servers in s.after.groups},
                "moved": s.result.moved,
                "minimum": s.result.minimum,
                "balanced": s.result.balanced,
                "verdict": s.result.verdict.value,
                "reason": s.result.reason,
                "better": list(s.result.better) if s.result.better else None,
            }
            for s in report.steps
        ],
    }


_WORDS = {
    Verdict.OK: "OK: every Join and Leave is balanced and moves the fewest shards (proved "
                "with Z3); every Move is as requested",
    Verdict.VIOLATION: "VIOLATION: a step is unbalanced or moves more shards than it must",
    Verdict.UNKNOWN: "UNKNOWN: the solver did not answer for every step",
}


def report_lines(report: SequenceReport) -> list[str]:
    """Plain aligned columns: nothing truncated, whatever the terminal's width."""
    rows = [("step", "operation", "configuration", "moved", "minimum", "verdict")]
    for s in report.steps:
        shards = " ".join(str(g) for g in s.after.shards)
        given = " (given)" if s.judged == "given" else ""
        minimum = "-" if s.result.minimum is None else str(s.result.minimum)
        rows.append((str(s.index), s.step.op.describe(), f"#{s.after.num} [{shards}]{given}",
                     str(s.result.moved), minimum, s.result.reason))
    widths = [max(len(row[c]) for row in rows) for c in range(5)]
    lines = [f"check-rebalance {report.source}: {len(report.steps)} step(s), "
             f"{len(report.steps[0].after.shards)} shards"]
    for row in rows:
        cells = [row[0].rjust(widths[0]), row[1].ljust(widths[1]), row[2].ljust(widths[2]),
                 row[3].rjust(widths[3]), row[4].rjust(widths[4]), row[5]]
        lines.append("  ".join(cells))
    for s in report.steps:
        if s.result.better is not None:
            better = " ".join(str(g) for g in s.result.better)
            lines.append(f"step {s.index}: the balanced assignment [{better}] moves only "
                         f"{cost(s.before.shards, s.result.better)} shard(s)")
    lines.append(_WORDS[report.verdict])
    return lines

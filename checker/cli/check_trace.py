"""`dscheck check-trace FILE`: judge every state of a recorded trace.

Reads a `dscheck-trace` (traces/README.md) and hands it to its system's checker: a Raft trace
has its global state rebuilt after each event and every invariant a trace can show evaluated
(`checker.trace_check`), and so does each Raft group of a kv, shardctrler or shardkv trace,
with the service's own properties in the same pass (`checker.trace_check.kv`,
`shardctrler`, `shardkv`); a Raft trace is also validated against the spec in that pass
(every event matched to a spec action through one refinement mapping, the persistence
contract included: `checker.validation`, docs/trace-validation.md; `--no-validate` turns it
off); a MapReduce coordinator's trace has every step judged by the spec's rules
(`checker.trace_check.mapreduce`, also `dscheck mr check-trace`). Exit status 0 when
everything holds, 1 on a violation or a mismatch (with its position, what it breaks, the
shortest excerpt, and for a mismatch the actions tried with their field diffs and the command
that replays the run), 2 when the file is not a trace (`path:line: what is wrong`).

The servers of a real cluster (`dscheck server --trace DIR`) each write their own files: given
that directory, or several such files, `check-trace` first merges them into one trace by their
message ids (`checker.trace_check.merge`; written to `--merged`, by default
`merged-trace.jsonl` in the directory) and checks that.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click
from rich.console import Console

from checker.trace_check import check_trace, system_of
from checker.trace_check.merge import MERGED_NAME, is_server_trace, merge_traces, trace_files
from checker.trace_check.reader import Event, Header
from checker.trace_check.render import render_text
from checker.validation.engine import Validation, binding_for
from checker.validation.render import render_text as render_validation
from checker.validation.result import ValidationResult
from checker.verdict import Verdict
from spec.errors import BadInput


@click.command(name="check-trace")
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--max-violations", type=click.IntRange(min=1), default=10, show_default=True,
              help="Report at most this many violations (the first of each invariant and "
                   "set of servers, shard or call) of a Raft, kv, shardctrler or shardkv trace.")
@click.option("--merged", "merged_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Where to write the merge of per-server traces "
                                 f"[default: {MERGED_NAME} beside them].")
@click.option("--validate/--no-validate", default=True, show_default=True,
              help="Also validate the trace against the spec (refinement: every event a spec "
                   "action, and the persistence contract).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write a self-contained page: a space-time diagram of "
                                 "the trace, the first mismatch ringed with its diff.")
def command(files: tuple[str, ...], as_json: bool, max_violations: int,
            merged_path: Path | None, validate: bool, html_path: Path | None) -> None:
    """Check every state of the trace FILE: a Raft trace against the Raft invariants and,
    in the same pass, against the spec's actions (a kv, shardctrler or shardkv trace against
    its service's properties too), a MapReduce trace against the coordinator's rules. A
    directory of per-server traces, or several of them, are merged first."""
    paths = [Path(f) for f in files]
    if len(paths) > 1 or paths[0].is_dir() or is_server_trace(paths[0]):
        parts = trace_files(paths[0]) if len(paths) == 1 and paths[0].is_dir() else paths
        for part in parts:
            if part.is_dir():
                raise BadInput("give one directory, or trace files", str(part))
        target = merged_path or (paths[0] if paths[0].is_dir() else paths[0].parent) / MERGED_NAME
        merged = merge_traces(parts, target)
        if not as_json:
            click.echo(f"merged {merged.files} server trace files into {target} "
                       f"({merged.events:,} events)")
        paths = [target]
    path = paths[0]
    file = str(path)
    if system_of(path) == "mapreduce":
        from checker.trace_check.mapreduce import check_trace as check_mapreduce

        checked = check_mapreduce(path)
        click.echo(json.dumps(checked.to_json(file)) if as_json else checked.describe(file))
        sys.exit(checked.verdict.exit_status)
    validations: list[Validation] = []

    def observe(header: Header) -> Callable[[Event], None]:
        binding = binding_for(header.system)
        if binding is None:
            return lambda ev: None
        # The invariant pass checks each state's types in the same loop.
        validation = Validation(binding, header, str(path), check_types=False)
        validations.append(validation)
        return validation.feed

    result = check_trace(path, max_violations=max_violations,
                         observe=observe if validate else None)
    validated: ValidationResult | None = validations[0].finish() if validations else None
    verdict = Verdict.worst([result.verdict] + ([validated.verdict] if validated else []))
    if html_path is not None:
        from checker.validation.html import write_trace_page

        write_trace_page(path, html_path, validated, result)
    if as_json:
        out = result.to_json()
        out["validation"] = validated.to_json() if validated is not None else None
        out["verdict"] = verdict.value
        out["invariants_verdict"] = result.verdict.value
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        console = Console(highlight=False)
        render_text(result, console)
        if validated is not None:
            render_validation(validated, console)
    sys.exit(verdict.exit_status)

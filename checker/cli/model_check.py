"""`dscheck model-check raft ...`: exhaustively model-check a small Raft cluster.

Defaults (3 servers, terms ≤ 3, logs ≤ 1 entry, 1 value, ≤ 2 messages in flight, no restarts)
are exhausted for the correct spec in a few minutes on a 2-core machine and find every bug
flag; a bug that needs a crash to show (unpersisted-vote) raises the restart bound to 1 unless
--max-restarts is given, since without a restart it is not a bug at all.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console

from checker.files import write_output
from checker.modelcheck import ModelCheckResult, Options, Progress, check
from checker.modelcheck.render import dumps, print_result, progress_line
from checker.modelcheck.trace import to_itf
from spec import raft
from spec.errors import BadInput

# Bugs that cannot show without a crash/restart: their default restart bound is 1.
NEEDS_RESTART = frozenset({"unpersisted-vote"})


@click.command(name="model-check")
@click.argument("spec", type=click.Choice(["raft"]))
@click.option("--servers", type=click.IntRange(1, 5), default=3, show_default=True)
@click.option("--max-term", type=click.IntRange(0, 10), default=3, show_default=True)
@click.option("--max-log", type=click.IntRange(0, 10), default=1, show_default=True)
@click.option(
    "--values",
    "values",
    type=click.IntRange(1, 5),
    default=1,
    show_default=True,
    help="Client requests carry values 1..V.",
)
@click.option(
    "--max-messages",
    type=click.IntRange(0, 10),
    default=2,
    show_default=True,
    help="Distinct messages in flight at once.",
)
@click.option(
    "--max-restarts",
    type=click.IntRange(0, 10),
    default=None,
    help="Crash/restarts per behaviour [default: 0; 1 with --bug unpersisted-vote].",
)
@click.option(
    "--drops/--no-drops", default=False, show_default=True, help="The network may lose messages."
)
@click.option(
    "--duplicates/--no-duplicates",
    default=False,
    show_default=True,
    help="The network may deliver a message and keep it.",
)
@click.option(
    "--snapshots/--no-snapshots",
    default=False,
    show_default=True,
    help="Log compaction and InstallSnapshot (§7).",
)
@click.option(
    "--bug",
    "bugs",
    type=click.Choice(sorted(raft.BUGS)),
    multiple=True,
    help="Switch on a fault flag (see --list-bugs); repeatable.",
)
@click.option("--list-bugs", is_flag=True, help="List the fault flags and exit.")
@click.option(
    "--symmetry/--no-symmetry",
    default=True,
    show_default=True,
    help="Explore one state per renaming of server ids.",
)
@click.option(
    "--max-depth", type=click.IntRange(1), default=None, help="BFS level bound (UNKNOWN if hit)."
)
@click.option(
    "--max-states",
    type=click.IntRange(1),
    default=None,
    help="Distinct-state bound (UNKNOWN if hit).",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(0, min_open=True),
    default=None,
    help="Seconds (UNKNOWN if hit).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes exploring in parallel.",
)
@click.option(
    "--semantics",
    type=click.Choice(["raft", "raft-tla", "raft-tla-clean-bag", "raft-tla-set"]),
    default="raft",
    show_default=True,
    help="raft: spec.raft (atomic message handling, network as a set); raft-tla: raft.tla's "
    "actions and message bag (count-0 messages kept, as raft.tla does); raft-tla-clean-bag: "
    "the same with count-0 messages removed; raft-tla-set: the network as a set whose "
    "messages stay after delivery (needs --duplicates, which it stands for). The raft-tla "
    "modes start terms at 1 and have no bug flags or snapshots.",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "packed", "spec"]),
    default="auto",
    show_default=True,
    help="spec: run the readable spec's own functions; packed (raft-tla semantics only): the "
    "same successor relation specialised to packed states, kept equal to the spec by tests; "
    "auto: packed where it exists.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option(
    "--itf",
    "itf_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the counterexample, if any, as ITF JSON to this file.",
)
@click.pass_context
def command(
    ctx: click.Context,
    spec: str,
    servers: int,
    max_term: int,
    max_log: int,
    values: int,
    max_messages: int,
    max_restarts: int | None,
    drops: bool,
    duplicates: bool,
    snapshots: bool,
    bugs: tuple[str, ...],
    list_bugs: bool,
    symmetry: bool,
    max_depth: int | None,
    max_states: int | None,
    time_limit: float | None,
    workers: int,
    semantics: str,
    engine: str,
    as_json: bool,
    itf_path: Path | None,
) -> None:
    """Exhaustively model-check a small cluster of SPEC (raft).

    Exit status: 0 no invariant violated in the whole bounded space, 1 a violation (with a
    shortest counterexample), 2 bad usage, 3 unknown (a depth/state/time bound cut the search).
    """
    if list_bugs:
        if as_json:
            click.echo(json.dumps(raft.BUGS))
        else:
            for name, what in raft.BUGS.items():
                click.echo(f"{name:24} {what}")
        sys.exit(0)
    if itf_path is not None and not itf_path.parent.is_dir():
        raise BadInput("no such directory for --itf; expected an existing folder", str(itf_path))
    if max_restarts is None:
        max_restarts = 1 if NEEDS_RESTART & set(bugs) else 0
    config = raft.Config(
        servers=servers,
        max_term=max_term,
        max_log=max_log,
        values=values,
        max_messages=max_messages,
        max_restarts=max_restarts,
        drops=drops,
        duplicates=duplicates,
        snapshots=snapshots,
        bugs=frozenset(bugs),
    )
    if semantics != "raft" and (bugs or snapshots):
        raise BadInput(
            f"--semantics {semantics} has no bug flags or snapshots; use --semantics raft"
        )
    if semantics == "raft-tla-set" and not duplicates:
        raise BadInput(
            "--semantics raft-tla-set stands for a network that duplicates: add --duplicates"
        )
    if semantics == "raft" and engine == "packed":
        raise BadInput("--engine packed exists for the raft-tla semantics only")
    options = Options(max_depth, max_states, time_limit, symmetry, workers, semantics, engine)
    result = _run(config, options)
    if itf_path is not None and result.counterexample is not None:
        write_output(itf_path, json.dumps(to_itf(result.counterexample, config), indent=1), "the ITF file")
    if as_json:
        click.echo(dumps(result))
    else:
        print_result(result, Console(highlight=False))
    # sys.exit, not ctx.exit: with standalone_mode=False click would return the status
    # instead of exiting, and `python -m checker` drops it.
    sys.exit(result.verdict.exit_status)


def _run(config: raft.Config, options: Options) -> ModelCheckResult:
    """Run with a live progress line on stderr when it is a terminal."""
    err = Console(stderr=True)
    if not err.is_terminal:
        return check(config, options)
    with err.status("model-check: starting") as status:

        def show(p: Progress) -> None:
            status.update(progress_line(p))

        return check(config, options, show)

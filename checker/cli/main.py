"""Entry point of `dscheck`: a click group whose verbs are loaded lazily from their modules.

Each verb is a module of this package exporting a click command named `command`; the table
below is the only place that lists them, so teams can add verbs without touching each other's
code. Loading lazily keeps `dscheck --help` fast even though some verbs import z3.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from checker.verdict import EXIT_BAD_INPUT
from spec.errors import BadInput

# verb -> (module, one-line help shown by `dscheck --help`)
VERBS: dict[str, tuple[str, str]] = {
    "demo": (
        "checker.cli.demo",
        "Simulate Raft and key/value clusters under faults, then run every checker on them.",
    ),
    "sim": ("checker.cli.sim", "Run a system on the deterministic simulator and summarise it."),
    "lin": ("checker.cli.lin", "Audit histories for linearizability."),
    "model-check": (
        "checker.cli.model_check",
        "Exhaustively model-check a small cluster of a spec.",
    ),
    "check-trace": (
        "checker.cli.check_trace",
        "Check every state of a recorded trace against the invariants.",
    ),
    "prove": (
        "checker.cli.prove",
        "Prove invariants inductive with Z3, or bounded-model-check them.",
    ),
    "check-rebalance": (
        "checker.cli.check_rebalance",
        "Prove each rebalancing of a shard-controller Join/Leave/Move sequence minimal.",
    ),
    "hunt": (
        "checker.cli.hunt",
        "Hunt a fault flag with random fault schedules; shrink what fails.",
    ),
    "mr": ("checker.cli.mr", "MapReduce: coordinator, workers, sequential oracle, whole runs."),
    "cluster": (
        "checker.cli.cluster",
        "Start, inspect and stop a key/value or sharded cluster of real server processes.",
    ),
    "server": ("checker.cli.server", "Run one server of a cluster (TCP, on disk)."),
    "kv": ("checker.cli.kv", "Get, put and append on a running cluster; generate load."),
    "shardctrler": (
        "checker.cli.shardctrler",
        "Join, leave, move and query on a running sharded cluster's shard controller.",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, (module, _) in VERBS.items() if _module_exists(module))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in VERBS:
            return None
        module_name, _ = VERBS[cmd_name]
        if not _module_exists(module_name):
            return None
        command = importlib.import_module(module_name).command
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, VERBS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _module_exists(module_name: str) -> bool:
    return importlib.util.find_spec(module_name) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dscheck")
def cli() -> None:
    """dscheck: the 6.5840 distributed systems, built for real and checked formally.

    Exit status: 0 every check holds, 1 a violation was found, 2 bad input or usage,
    3 unknown (a time-out or a bound was reached).
    """


def main(argv: list[str] | None = None) -> Any:
    """Run the command; bad input and usage errors become one line on stderr and exit 2."""
    try:
        return cli.main(args=argv, prog_name="dscheck", standalone_mode=False)
    except BadInput as error:
        click.echo(f"dscheck: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except click.exceptions.NoArgsIsHelpError as error:
        # `dscheck` alone prints the help, as a user expects, with the usage status.
        click.echo(error.ctx.get_help() if error.ctx else str(error))
        sys.exit(EXIT_BAD_INPUT)
    except click.UsageError as error:
        # One line, not click's multi-line usage block: what is wrong and where to look.
        command = error.ctx.command_path if error.ctx else "dscheck"
        click.echo(f"{command}: {error.format_message()} (see '{command} --help')", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except click.exceptions.Abort:
        click.echo("dscheck: aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        click.echo(f"dscheck: {error.format_message()}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except click.exceptions.Exit as stop:
        sys.exit(stop.exit_code)
    except BrokenPipeError:
        sys.exit(0)

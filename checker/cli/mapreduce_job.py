"""The options of one MapReduce job, for the verbs that model-check the coordinator's spec
(`dscheck model-check mapreduce`, `dscheck mr check-spec`). Light to import: `dscheck mr`'s
other subcommands load this module too, and the model checker is imported only when a job's
model is built."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from spec import mapreduce

if TYPE_CHECKING:
    from checker.modelcheck.models import MapReduceModel


def mapreduce_job(workers_flag: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options of one MapReduce job (`workers_flag` names the job's workers: --workers
    for `mr check-spec`, --job-workers where --workers is the search's processes); the command
    receives `model: MapReduceModel`, built and validated once."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            model = mapreduce_model(
                kwargs.pop("maps"), kwargs.pop("reduces"), kwargs.pop("job_workers"),
                kwargs.pop("attempts"), kwargs.pop("mutation"),
            )
            return command(model=model, **kwargs)

        decorated: Callable[..., Any] = wrapper
        for option in reversed([
            click.option("--maps", type=click.IntRange(1, 4), default=2, show_default=True,
                         help="Map tasks."),
            click.option("--reduces", type=click.IntRange(1, 4), default=2, show_default=True,
                         help="Reduce tasks."),
            click.option(workers_flag, "job_workers", type=click.IntRange(1, 4), default=2,
                         show_default=True, help="Workers of the job."),
            click.option("--attempts", type=click.IntRange(1, 4), default=2, show_default=True,
                         help="Most attempts handed out per task."),
            click.option("--mutation", type=click.Choice(list(mapreduce.MUTATIONS)),
                         default=None,
                         help="Check a deliberately wrong coordinator instead (it must fail)."),
        ]):
            decorated = option(decorated)
        return decorated

    return decorate


def mapreduce_model(
    maps: int, reduces: int, workers: int, attempts: int, mutation: str | None
) -> MapReduceModel:
    from checker.modelcheck.models import MapReduceModel

    chosen = next((m for m in mapreduce.MUTATIONS if m == mutation), None)
    config = mapreduce.Config(
        n_map=maps, n_reduce=reduces, n_workers=workers, max_attempts=attempts, mutation=chosen
    )
    return MapReduceModel(config=config)

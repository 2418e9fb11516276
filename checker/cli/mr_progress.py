"""The progress display of `dscheck mr run`: tasks done per phase, on stderr while it runs."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from impl.mapreduce.core import Progress as JobProgress


class ProgressDisplay:
    """Two bars, map and reduce, plus worker crashes; silent when stderr is not a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bars: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressDisplay:
        if self.enabled:
            self._bars = Progress(
                TextColumn("{task.description:>7}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[note]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._bars.start()
        return self

    def update(self, job: JobProgress, crashes: int) -> None:
        if self._bars is None:
            return
        if not self._tasks:
            self._tasks["map"] = self._bars.add_task("map", total=job.n_map, note="")
            self._tasks["reduce"] = self._bars.add_task("reduce", total=job.n_reduce, note="")
        note = f"{job.in_progress} running, {job.reissued} re-issued, {crashes} worker crashes"
        self._bars.update(
            self._tasks["map"], completed=job.maps_done, note=note if job.phase == "map" else ""
        )
        self._bars.update(
            self._tasks["reduce"],
            completed=job.reduces_done,
            note=note if job.phase == "reduce" else "",
        )

    def stop(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

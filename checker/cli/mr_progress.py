"""The progress display of `dscheck mr run`: tasks done per phase, on stderr while it runs."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported only when the display is shown: it costs start-up time
    from rich.progress import Progress, TaskID

    from impl.mapreduce.core import Progress as JobProgress


class ProgressDisplay:
    """Two live bars (map, reduce) with running tasks and worker crashes on a terminal; where
    stderr is not a terminal (logs, CI), one line on stdout each time a phase completes instead
    (stdout: stderr keeps the single line of an error)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bars: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._started = time.monotonic()
        self._phase = "map"

    def __enter__(self) -> ProgressDisplay:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

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
            if not self.enabled and job.phase != self._phase:
                elapsed = time.monotonic() - self._started
                done, total = (
                    (job.maps_done, job.n_map)
                    if self._phase == "map"
                    else (job.reduces_done, job.n_reduce)
                )
                print(
                    f"mr run: {self._phase} phase: {done}/{total} tasks done at {elapsed:.2f} s "
                    f"({job.reissued} re-issued, {crashes} worker crashes so far)",
                    file=sys.stdout,
                    flush=True,
                )
                self._phase = "reduce" if self._phase == "map" else "done"
                self.update(job, crashes)  # both phases may have ended since the last look
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

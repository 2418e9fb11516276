"""A seen-set that spills to disk: sorted runs of (fingerprint, parent) in memory-mapped files.

A partition keeps its seen-set in a dict (fast, but about 100 bytes a state: 33 M states took
3.9 GB a process). `Spill` takes the dict's contents when it grows past a bound, sorts them by
fingerprint and writes them as a *run*: two int64 arrays (fingerprints, parents) in `.npy`
files, read back memory-mapped, so the operating system keeps in memory only the pages the
lookups touch. Lookups are batched (a merge checks a whole bucket of records with one
`searchsorted` per run), which is what makes a disk-based set affordable in Python; TLC's
disk-based fingerprint set works the same way. Runs are merged into one when there are more
than `MAX_RUNS`, so a lookup costs a few binary searches.

A parent of NO_PARENT_CODE (-1: CPython's `hash` never returns -1, and neither does
`plain.stable_fingerprint`) stands for "initial state". numpy is needed only when spilling.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

NO_PARENT_CODE = -1
MAX_RUNS = 4


def _numpy() -> Any:
    try:
        import numpy
    except ImportError as error:  # pragma: no cover - numpy comes with the ray extra
        raise RuntimeError(
            "spilling the seen-set to disk needs numpy: pip install 'dscheck[ray]'"
        ) from error
    return numpy


class Spill:
    """The spilled part of one partition's seen-set (see the module docstring)."""

    def __init__(self, folder: Path | None, label: str) -> None:
        self.np = _numpy()
        self.own_folder = folder is None
        base = Path(tempfile.mkdtemp(prefix=f"dscheck-spill-{label}-")) if folder is None else folder
        base.mkdir(parents=True, exist_ok=True)
        self.folder = base
        self.label = label
        self.runs: list[tuple[Any, Any]] = []  # (fingerprints, parents), sorted by fingerprint
        self.files: list[Path] = []
        self.size = 0
        self.serial = 0

    def __len__(self) -> int:
        return self.size

    def add(self, parent: dict[int, int | None]) -> None:
        """Spill the dict's entries (the caller clears it); none of them is in a run yet."""
        np = self.np
        fps = np.fromiter(parent.keys(), dtype=np.int64, count=len(parent))
        parents = np.fromiter(
            (NO_PARENT_CODE if p is None else p for p in parent.values()),
            dtype=np.int64,
            count=len(parent),
        )
        self.add_arrays(fps, parents)

    def add_arrays(self, fps: Any, parents: Any) -> None:
        np = self.np
        order = np.argsort(fps, kind="stable")
        self.runs.append(self._write(fps[order], parents[order]))
        self.size += len(fps)
        if len(self.runs) > MAX_RUNS:
            all_fps = np.concatenate([f for f, _ in self.runs])
            all_parents = np.concatenate([p for _, p in self.runs])
            order = np.argsort(all_fps, kind="stable")
            merged = self._write(all_fps[order], all_parents[order])
            old = self.files[:-2]
            self.runs = [merged]
            self.files = self.files[-2:]
            for path in old:
                path.unlink(missing_ok=True)

    def _write(self, fps: Any, parents: Any) -> tuple[Any, Any]:
        np = self.np
        self.serial += 1
        paths = []
        for name, array in (("fps", fps), ("parents", parents)):
            path = self.folder / f"{self.label}-run{self.serial}-{name}.npy"
            np.save(path, array, allow_pickle=False)
            paths.append(path)
        self.files.extend(paths)
        return tuple(np.load(p, mmap_mode="r", allow_pickle=False) for p in paths)

    def unseen(self, records: list[Any]) -> list[Any]:
        """The records whose fingerprint (their first item) is in no run."""
        if not self.runs:
            return records
        np = self.np
        fps = np.fromiter((r[0] for r in records), dtype=np.int64, count=len(records))
        seen = np.zeros(len(records), dtype=bool)
        for run, _ in self.runs:
            where = np.searchsorted(run, fps)
            where[where == len(run)] = 0
            seen |= run[where] == fps
        if not seen.any():
            return records
        return [r for r, s in zip(records, seen.tolist(), strict=True) if not s]

    def parent_of(self, fp: int) -> tuple[bool, int | None]:
        np = self.np
        for run, parents in self.runs:
            k = int(np.searchsorted(run, fp))
            if k < len(run) and int(run[k]) == fp:
                p = int(parents[k])
                return True, None if p == NO_PARENT_CODE else p
        return False, None

    def arrays(self) -> Iterator[tuple[Any, Any]]:
        """The runs, for a checkpoint."""
        yield from self.runs

    def close(self) -> None:
        self.runs = []
        for path in self.files:
            path.unlink(missing_ok=True)
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

"""The few file operations the storage layer uses, on one directory, behind one interface.

Everything the durable Raft state does to the disk goes through a `Disk`: create, append,
fsync a file, rename, fsync the directory, truncate, unlink, read. `OsDisk` carries them out
with the operating system's calls; a crash-consistency test substitutes a disk that records
the sequence and rebuilds every state a crash could leave (the approach of ALICE, Pillai et
al., OSDI 2014: the persistence order that the file system guarantees, applied to the
application's own sequence of writes and fsyncs). Names are plain file names inside the
directory, so the sequence reads the same on every run.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Protocol


class Disk(Protocol):
    def names(self) -> list[str]: ...  # the directory's entries

    def read(self, name: str) -> bytes | None: ...  # None if absent

    def create(self, name: str) -> None: ...  # a new, empty file (replacing any old one)

    def append(self, name: str, data: bytes) -> None: ...

    def fsync(self, name: str) -> None: ...

    def rename(self, source: str, target: str) -> None: ...  # atomic, replaces target

    def fsync_dir(self) -> None: ...  # makes creations, renames and unlinks durable

    def truncate(self, name: str, size: int) -> None: ...

    def unlink(self, name: str) -> None: ...

    def close(self) -> None: ...


class OsDisk:
    """The real thing. Files being appended to stay open (one descriptor each) so that a
    group commit costs one write and one fsync, not an open and a close as well."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._open: dict[str, int] = {}

    def _path(self, name: str) -> Path:
        return self.directory / name

    def _fd(self, name: str) -> int:
        fd = self._open.get(name)
        if fd is None:
            fd = os.open(self._path(name), os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
            self._open[name] = fd
        return fd

    def _forget(self, name: str) -> None:
        fd = self._open.pop(name, None)
        if fd is not None:
            os.close(fd)

    def names(self) -> list[str]:
        return sorted(os.listdir(self.directory))

    def read(self, name: str) -> bytes | None:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            return None

    def create(self, name: str) -> None:
        self._forget(name)
        fd = os.open(self._path(name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND
                     | os.O_CLOEXEC, 0o644)
        self._open[name] = fd

    def append(self, name: str, data: bytes) -> None:
        fd = self._fd(name)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    def fsync(self, name: str) -> None:
        os.fsync(self._fd(name))

    def rename(self, source: str, target: str) -> None:
        self._forget(target)
        fd = self._open.pop(source, None)
        os.replace(self._path(source), self._path(target))
        if fd is not None:
            self._open[target] = fd  # the descriptor follows the file

    def fsync_dir(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def truncate(self, name: str, size: int) -> None:
        os.truncate(self._path(name), size)

    def unlink(self, name: str) -> None:
        self._forget(name)
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()

    def close(self) -> None:
        for name in list(self._open):
            self._forget(name)

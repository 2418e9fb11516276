"""Writing a file so that nobody ever sees half of it (DESIGN.md section 7).

The one atomic writer of the project, for the systems (MapReduce's outputs, persisted state)
and for the checker's reports alike. The data goes to a temporary file in the target's own
directory (so the final rename stays on one filesystem, where POSIX makes it atomic), is
flushed and fsync'd, and is renamed over the target with `os.replace`; the directory is then
fsync'd so that the new name survives a crash too. A reader sees the old file or the new one,
never a mixture; on any failure, before the rename, the temporary file is removed and the
target is left as it was.

The temporary file is created with mode 0o666 less the umask, as `open` would create the
target, so a replaced file gets the permissions a plain write would have given it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO, Literal, TextIO, cast, overload

TEMP_SUFFIX = ".tmp"
_ATTEMPTS = 100  # random names tried before giving up (a clash is already unlikely)


@overload
def open_atomically(
    path: str | os.PathLike[str], mode: Literal["w"] = "w"
) -> AbstractContextManager[TextIO]: ...


@overload
def open_atomically(
    path: str | os.PathLike[str], mode: Literal["wb"]
) -> AbstractContextManager[BinaryIO]: ...


def open_atomically(
    path: str | os.PathLike[str], mode: Literal["w", "wb"] = "w"
) -> AbstractContextManager[TextIO] | AbstractContextManager[BinaryIO]:
    """`with open_atomically(path) as f: f.write(...)` — the file appears at `path`, whole,
    when the block ends without an exception; if it raises, `path` is untouched and no
    temporary file remains. Text mode is UTF-8 with no newline translation."""
    if mode == "w":
        return cast(AbstractContextManager[TextIO], _replacing(Path(path), binary=False))
    return cast(AbstractContextManager[BinaryIO], _replacing(Path(path), binary=True))


def write_atomically(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Replace `path` with `data` (text is written as UTF-8), all or nothing."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with open_atomically(path, "wb") as stream:
        stream.write(payload)


@contextlib.contextmanager
def _replacing(target: Path, *, binary: bool) -> Iterator[TextIO | BinaryIO]:
    fd, temp = _create_beside(target)
    try:
        stream = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
    except BaseException:
        os.close(fd)
        _remove(temp)
        raise
    try:
        with stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, target)
    except BaseException:
        _remove(temp)
        raise
    _sync_directory(target.parent)


def _create_beside(target: Path) -> tuple[int, Path]:
    """A new, empty, hidden file in `target`'s directory, opened for writing."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_ATTEMPTS):
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {target} after {_ATTEMPTS} tries")


def _remove(temp: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()


def _sync_directory(directory: Path) -> None:
    # Makes the rename itself durable. The file's content is already synced and in place, so
    # a filesystem that cannot sync a directory (some network and FUSE ones refuse) costs
    # only what that filesystem never offered.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

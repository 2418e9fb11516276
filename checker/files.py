"""Writing reports so that a reader never sees half of one (DESIGN.md section 6)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def write_atomically(path: str | Path, text: str) -> None:
    """Write `text` beside `path` under a temporary name, then rename it into place."""
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)


@contextlib.contextmanager
def open_atomically(path: str | Path) -> Iterator[IO[str]]:
    """A text stream whose content appears at `path` only when the block ends normally (a
    recorded trace, written as the run goes). Until then it is a hidden temporary file in the
    same directory; if the block raises, the temporary file is removed and `path` untouched."""
    target = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                     dir=target.resolve().parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide the file from other readers
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise

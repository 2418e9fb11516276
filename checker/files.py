"""Writing the files a user asked for (reports, counterexamples), whole or not at all.

The writing itself is `impl.files.write_atomically`, the project's one atomic writer. What the
checker adds is the user's view: a file that cannot be written where the user said is bad
input (`path: cannot write ...`, exit status 2), not a traceback.
"""

from __future__ import annotations

import os

from impl.files import write_atomically
from spec.errors import BadInput

__all__ = ["write_output"]


def write_output(path: str | os.PathLike[str], data: str | bytes, what: str) -> None:
    """Write `data` to `path` atomically; `what` names the file in the error ("the report")."""
    try:
        write_atomically(path, data)
    except OSError as error:
        raise BadInput(f"cannot write {what}: {error.strerror or error}", str(path)) from None

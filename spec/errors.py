"""Bad input: one line, `path:line: what is wrong and what was expected`, exit status 2.

Parsers and loaders raise `BadInput`; the command-line entry point turns it into that single
line. Nothing below the CLI prints or exits on its own, so a library caller gets an exception
it can catch.

It lives in `spec/` although it specifies nothing: it is a plain shared type, and `spec/` is
the one package that both `impl/` (the MapReduce loaders and transport reject bad files,
settings and peers) and `checker/` may import (DESIGN.md, Layout).
"""

from __future__ import annotations


class BadInput(Exception):
    """Input that cannot be used: a malformed file, an impossible setting, an unknown name."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return f"{where}{self.message}"

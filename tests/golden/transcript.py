"""Command-line transcripts: `$ dscheck ...` lines, each followed by what it printed.

The commands run as a user's shell would run them from the checkout's root: `dscheck ARGS`
is `python -m checker ARGS` on this worktree's code, arguments with `*` are expanded as
sorted globs, and `echo $?` prints the previous command's exit status. Output is stdout and
stderr interleaved as written (unbuffered), on an 80-column terminal without colour, so
that rich lays out tables the same on every machine.
"""

from __future__ import annotations

import glob
import os
import shlex
import subprocess
import sys

from tests.golden.expect import ROOT

PROMPT = "$ "
ENV = {"COLUMNS": "80", "LINES": "50", "NO_COLOR": "1", "TERM": "dumb", "PYTHONUNBUFFERED": "1"}


class Shell:
    def __init__(self) -> None:
        self.status: int | None = None

    def run(self, command: str) -> list[str]:
        words = shlex.split(command)
        if words == ["echo", "$?"]:
            if self.status is None:
                raise ValueError("'echo $?' before any command")
            return [str(self.status)]
        if not words or words[0] != "dscheck":
            raise ValueError(f"a transcript runs 'dscheck ...' and 'echo $?' only: {command!r}")
        args = []
        for word in words[1:]:
            args += sorted(glob.glob(word, root_dir=ROOT)) if "*" in word else [word]
        proc = subprocess.run([sys.executable, "-m", "checker", *args], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, **ENV}, check=False, timeout=600)
        self.status = proc.returncode
        return proc.stdout.splitlines()

"""Worker processes for `dscheck mr run`, started by fork() instead of a fresh interpreter.

A fresh `python -m checker mr worker` costs about 0.1 CPU-second before it asks for its first
task (interpreter, site, click, the package imports): more than a whole word-count map task on
this data. `run` already has every module imported, so it forks: the child is still a separate
process that talks to the coordinator only over its socket, runs the same `work()` loop as
`dscheck mr worker`, and reports bad input the same way (one line on stderr, status 2). What
the child must not share with the parent is dropped at once:

- every inherited file descriptor above stderr (the coordinator's listening socket, the event
  loop's selector): a worker whose coordinator died must find the socket refusing connections,
  not hang on a listener it holds itself;
- the parent's Python objects are frozen out of the cycle collector (`gc.freeze`) so that no
  inherited socket object is finalised in the child and closes a descriptor number the child has
  since reused;
- the application's module is imported afresh, so module state (the crash application's random
  generator) differs between workers as it does between separately started processes;
- signal dispositions go back to the defaults a fresh worker has.

The standalone `dscheck mr worker APP` command is unchanged; the lab's scripts use that one.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import traceback
from pathlib import Path

from impl.mapreduce.apps import load_app
from impl.mapreduce.protocol import Codec
from impl.mapreduce.transport import Endpoint
from impl.mapreduce.worker import work
from spec.errors import BadInput

EXIT_BAD_INPUT = 2
EXIT_CRASHED = 1


def fork_worker(app: str, endpoint: Endpoint, directory: Path, codec: Codec) -> tuple[int, int]:
    """Start one worker process; returns (pid, fd of the pipe that carries its stderr).

    The pipe reaches end-of-file when the worker exits (nothing else holds its write end).
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the parent's event loop
        status = EXIT_CRASHED
        try:
            _detach(write_end)
            status = _work(app, endpoint, directory, codec)
        except BaseException:  # a crash, as an uncaught exception would be in `mr worker`
            with contextlib.suppress(BaseException):
                traceback.print_exc()
        finally:
            with contextlib.suppress(BaseException):
                sys.stderr.flush()
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _detach(stderr_fd: int) -> None:
    gc.freeze()
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(stderr_fd, 2)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    # Fresh stream objects: the parent's may have been locked by another thread at fork time.
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for name in [name for name in sys.modules if name.startswith("impl.mapreduce.apps.")]:
        del sys.modules[name]


def _work(app: str, endpoint: Endpoint, directory: Path, codec: Codec) -> int:
    try:
        application = load_app(app)
        # Applications use relative paths (marker files), as the lab's workers share one directory.
        os.chdir(directory)
        work(application, endpoint, Path("."), codec=codec)
    except BadInput as error:
        print(f"dscheck: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0

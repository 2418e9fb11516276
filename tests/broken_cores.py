"""Raft cores broken on purpose, as a user debugging their own changes would have them: the
leader's handling of AppendEntries replies wrapped for the length of a `with` block.

The patch fails loudly if the method it replaces does not exist (after a rename, an
assignment would add a new attribute nobody calls, and every test using it would pass
vacuously)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from impl.raft import core

Handler = Callable[[core.RaftCore, int, core.AppendEntriesReply], None]
METHOD = "_on_append_entries_reply"


@contextlib.contextmanager
def patched_reply_handler(wrap: Callable[[Handler], Handler]) -> Iterator[None]:
    original = getattr(core.RaftCore, METHOD)  # AttributeError, never a silent no-op
    setattr(core.RaftCore, METHOD, wrap(original))
    try:
        yield
    finally:
        setattr(core.RaftCore, METHOD, original)


def raising_at_match(index: int) -> contextlib.AbstractContextManager[None]:
    """A core that raises once a leader learns that entry `index` is replicated."""

    def wrap(original: Handler) -> Handler:
        def broken(self: core.RaftCore, src: int, m: core.AppendEntriesReply) -> None:
            if m.success and m.match_index >= index:
                raise ZeroDivisionError("commit arithmetic went wrong")
            original(self, src, m)

        return broken

    return patched_reply_handler(wrap)


def chattering() -> contextlib.AbstractContextManager[None]:
    """A core whose leader answers every AppendEntries reply with another AppendEntries: on a
    reliable network (zero delay both ways) the pair chatters at one instant forever."""

    def wrap(original: Handler) -> Handler:
        def broken(self: core.RaftCore, src: int, m: core.AppendEntriesReply) -> None:
            original(self, src, m)
            self._send_append(src)

        return broken

    return patched_reply_handler(wrap)

"""Named one-shot timers for a node's driver, on the event loop.

Setting a timer that is already set re-arms it; cancelled or re-armed timers are voided by a
generation number rather than removed from the heap (cheaper, and just as deterministic).
`stop()` voids all of them at once — what a crash does to a node's timers.

A scripted run (a model checker's counterexample replayed, `impl.sim.schedule`) decides
itself when a timer fires: `armed(name)` says whether one is set, `fire_now(name)` fires it at
once and voids its scheduled expiry.
"""

from __future__ import annotations

from collections.abc import Callable

from impl.sim.loop import EventLoop


class Timers:
    def __init__(self, loop: EventLoop, fire: Callable[[str], None]) -> None:
        self._loop = loop
        self._fire = fire
        self._generation: dict[str, int] = {}
        self._armed: set[str] = set()
        self._stopped = False

    def set(self, name: str, delay_ms: int) -> None:
        if self._stopped:
            return
        generation = self._generation.get(name, 0) + 1
        self._generation[name] = generation
        self._armed.add(name)
        self._loop.call_later(delay_ms, self._expire, name, generation)

    def cancel(self, name: str) -> None:
        self._generation[name] = self._generation.get(name, 0) + 1
        self._armed.discard(name)

    def stop(self) -> None:
        self._stopped = True
        self._armed.clear()
        for name in self._generation:
            self._generation[name] += 1

    def armed(self, name: str) -> bool:
        return name in self._armed

    def fire_now(self, name: str) -> None:
        """Fire the armed timer `name` now (its scheduled expiry is voided)."""
        if name not in self._armed:
            raise ValueError(f"timer {name!r} is not armed")
        self.cancel(name)
        self._fire(name)

    def describe_event(self, callback: object, args: tuple[object, ...]) -> str | None:
        """One line for the event loop's watchdog: which timer was firing."""
        return f"timer {args[0]!r}" if args else None

    def _expire(self, name: str, generation: int) -> None:
        if not self._stopped and self._generation.get(name) == generation:
            self._armed.discard(name)
            self._fire(name)

"""What a fake platform server was asked, and waiting on it without sleeping."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Generic, TypeVar

C = TypeVar("C")


class CallLog(Generic[C]):
    """Calls in arrival order; waiters wake on every new call."""

    def __init__(self, name: Callable[[C], str]) -> None:
        self.calls: list[C] = []
        self._name = name  # how a call reads in a failure message
        self._changed = asyncio.Condition()

    async def record(self, call: C) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def wait_for(
        self, matching: Callable[[], list[C]], *, what: str, count: int, within: float
    ) -> list[C]:
        """Until ``matching()`` holds ``count`` calls; after ``within`` s, an AssertionError listing all."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: len(matching()) >= count), within)
            except TimeoutError:
                seen = [self._name(c) for c in self.calls]
                raise AssertionError(f"no {count}× {what} within {within}s; calls: {seen}") from None
        return matching()

    async def wait_quiet(self, counted: Callable[[], int], quiet_s: float) -> None:
        """A bounded quiet period in which ``counted()`` does not grow (asserting that nothing happens)."""
        before = counted()
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(lambda: counted() > before), quiet_s)

"""Small pieces both chat adapters share, free of either platform's library (each is an extra)."""

from __future__ import annotations

import traceback
from collections import OrderedDict
from typing import Protocol

MAX_WEEKS = 12  # longest /mood period offered; a longer chart gets hard to read on a phone
ASKED_CAP = 50_000


class MoodResultLike(Protocol):
    """What ``engine.mood(user, weeks)`` returns, as far as the adapters care."""

    summary: str
    chart_png: bytes


class AskedOnce:
    """People already shown the consent prompt by this process, so it is asked once, not per message."""

    def __init__(self, cap: int = ASKED_CAP) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._cap = cap

    def first_time(self, key: str) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self._cap:  # bounded: oldest first out, they may get asked again
            self._seen.popitem(last=False)
        return True

    def forget(self, key: str) -> None:
        self._seen.pop(key, None)


def where(error: BaseException | None) -> str:
    """Where an error happened, as ``file:line function`` frames (innermost first): code
    locations only, never an exception's message, which may carry a user's text or a URL with
    the token."""
    if error is None or error.__traceback__ is None:
        return "?"
    frames = traceback.extract_tb(error.__traceback__)[-4:]
    return " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))

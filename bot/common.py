"""Small pieces both chat adapters share, free of either platform's library (each is an extra)."""

from __future__ import annotations

import traceback
from collections import OrderedDict
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ShardPlan:
    """Which Discord gateway shards this process runs: ``ids`` of ``count`` (None: all of them)."""

    count: int
    ids: tuple[int, ...] | None = None

    @property
    def owns_shard_zero(self) -> bool:
        return self.ids is None or 0 in self.ids

    def describe(self) -> str:
        ids = "all" if self.ids is None else ",".join(map(str, self.ids))
        return f"shard(s) {ids} of {self.count}"


def shard_plan(count: int | None, ids: list[int] | None) -> ShardPlan | None:
    """The plan from MAEUM_DISCORD_SHARD_COUNT / MAEUM_DISCORD_SHARD_IDS; None: unsharded.

    Raises ValueError for ids without a count, out of range or repeated: run unsharded by mistake,
    every process would get every event and people would be answered twice."""
    if count is None:
        if ids:
            raise ValueError("MAEUM_DISCORD_SHARD_IDS needs MAEUM_DISCORD_SHARD_COUNT (the total)")
        return None
    if count < 1:
        raise ValueError("MAEUM_DISCORD_SHARD_COUNT must be at least 1")
    if ids is None:
        return ShardPlan(count)
    if not ids or len(set(ids)) != len(ids) or any(not 0 <= i < count for i in ids):
        raise ValueError(f"MAEUM_DISCORD_SHARD_IDS must be distinct numbers from 0 to {count - 1}")
    return ShardPlan(count, tuple(sorted(ids)))


def where(error: BaseException | None) -> str:
    """Where an error happened, as ``file:line function`` frames (innermost first): code
    locations only, never an exception's message, which may carry a user's text or a URL with
    the token."""
    if error is None or error.__traceback__ is None:
        return "?"
    frames = traceback.extract_tb(error.__traceback__)[-4:]
    return " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))

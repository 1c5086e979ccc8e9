"""Per-user "heightened" state after a crisis message.

After someone expresses a crisis, the next messages are handled more
carefully for a while even if they say "농담이야" — walking it back is common
and does not mean the risk has passed. Only the window expiring or an
explicit clear() (the user's /forget) ends it.

Kept in memory and, when a store is given, in the shared database too, so that
it survives a restart and holds on whichever replica gets the person's next
message. Memory is bounded by evicting expired entries and, past `max_users`,
the entries closest to expiring.

Privacy: the stored row is the one thing kept about a person even before they
consented, because it protects their life (PIPA's vital-interests basis). It
holds only the person's key and an expiry (no text, no label, not even when the
crisis was), is deleted once expired (within 6 hours), and goes with the
person's other data on /forget (`EmotionStore.forget`); /export shows it.

Fail safe: `mark` only touches memory, so the crisis card never waits on the
database; `persist` writes it afterwards (the caller runs it in the background).
`is_heightened_anywhere` reads memory first and then the store, and when the
store fails it answers from memory and logs the exception type only.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Protocol

__all__ = ["DEFAULT_WINDOW", "CrisisTracker", "HeightenedStore"]

log = logging.getLogger(__name__)

DEFAULT_WINDOW = timedelta(hours=6)


class HeightenedStore(Protocol):
    """Where the state is shared between processes (``EmotionStore`` provides it)."""

    async def mark_heightened(self, user_key: str, until: datetime) -> None: ...

    async def heightened_until(self, user_key: str, now: datetime) -> datetime | None:
        """The expiry if still in the future (an expired row is deleted), else None."""
        ...


def _require_aware(now: datetime) -> None:
    # Naive datetimes silently mix local time and UTC across hosts; refuse them.
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware (e.g. datetime.now(UTC))")


class CrisisTracker:
    def __init__(
        self,
        window: timedelta = DEFAULT_WINDOW,
        max_users: int = 100_000,
        store: HeightenedStore | None = None,
    ) -> None:
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        if max_users < 1:
            raise ValueError("max_users must be at least 1")
        self._window = window
        self._max_users = max_users
        self.store = store
        # user_key -> expiry; kept in expiry order because the window is fixed
        # and mark() moves a key to the end, so expired keys sit at the front
        # (if callers' clocks jitter, eviction is merely late: lookups still
        # compare times).
        self._until: OrderedDict[str, datetime] = OrderedDict()
        self._lock = threading.Lock()  # bot adapters may call from worker threads

    @property
    def window(self) -> timedelta:
        return self._window

    @property
    def shared(self) -> bool:
        """Whether the state is also kept in a store other processes read."""
        return self.store is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._until)

    def mark(self, user_key: str, now: datetime) -> datetime:
        """Start (or extend) the heightened window for this user, in memory at once; returns the
        expiry, which :meth:`persist` writes to the store."""
        _require_aware(now)
        until = now + self._window
        with self._lock:
            self._evict_expired(now)
            self._put(user_key, until)
        return until

    async def persist(self, user_key: str, until: datetime) -> None:
        """Write a :meth:`mark` to the store (raises when it cannot: run it in the background)."""
        if self.store is not None:
            await self.store.mark_heightened(user_key, until)

    def is_heightened(self, user_key: str, now: datetime) -> bool:
        """This process's memory only (cheap, never waits)."""
        _require_aware(now)
        with self._lock:
            self._evict_expired(now)
            until = self._until.get(user_key)
            return until is not None and now < until

    async def is_heightened_anywhere(self, user_key: str, now: datetime) -> bool:
        """Memory first, then the store (another replica's mark, or one from before a restart).
        Never raises for a store failure: then memory's answer stands."""
        if self.is_heightened(user_key, now):
            return True
        if self.store is None:
            return False
        try:
            until = await self.store.heightened_until(user_key, now)
        except Exception as exc:
            log.warning("could not read the heightened state; using memory: %s", type(exc).__name__)
            return False
        if until is None or until <= now:
            return False
        with self._lock:  # remembered here too: the next read is cheap and survives an outage
            if self._until.get(user_key, until) <= until:
                self._put(user_key, until)
        return True

    def clear(self, user_key: str) -> None:
        """Forget this user's state in memory (the user's /forget; the store deletes its row)."""
        with self._lock:
            self._until.pop(user_key, None)

    def _put(self, user_key: str, until: datetime) -> None:
        self._until[user_key] = until
        self._until.move_to_end(user_key)
        while len(self._until) > self._max_users:
            self._until.popitem(last=False)

    def _evict_expired(self, now: datetime) -> None:
        # Amortised O(1): stops at the first entry that is still live.
        while self._until:
            key, until = next(iter(self._until.items()))
            if until > now:
                return
            del self._until[key]

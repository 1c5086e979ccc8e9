"""Per-user "heightened" state after a crisis message.

After someone expresses a crisis, the next messages are handled more
carefully for a while even if they say "농담이야" — walking it back is common
and does not mean the risk has passed. Only the window expiring or an
explicit clear() (the user's /forget) ends it.

In memory only: nothing is persisted, and the state is lost on restart,
which errs towards privacy. Memory is bounded by evicting expired entries and,
past `max_users`, the entries closest to expiring.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta

__all__ = ["DEFAULT_WINDOW", "CrisisTracker"]

DEFAULT_WINDOW = timedelta(hours=6)


def _require_aware(now: datetime) -> None:
    # Naive datetimes silently mix local time and UTC across hosts; refuse them.
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware (e.g. datetime.now(UTC))")


class CrisisTracker:
    def __init__(self, window: timedelta = DEFAULT_WINDOW, max_users: int = 100_000) -> None:
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        if max_users < 1:
            raise ValueError("max_users must be at least 1")
        self._window = window
        self._max_users = max_users
        # user_key -> expiry; kept in expiry order because the window is fixed
        # and mark() moves a key to the end, so expired keys sit at the front
        # (if callers' clocks jitter, eviction is merely late: lookups still
        # compare times).
        self._until: OrderedDict[str, datetime] = OrderedDict()
        self._lock = threading.Lock()  # bot adapters may call from worker threads

    @property
    def window(self) -> timedelta:
        return self._window

    def __len__(self) -> int:
        with self._lock:
            return len(self._until)

    def mark(self, user_key: str, now: datetime) -> None:
        """Start (or extend) the heightened window for this user."""
        _require_aware(now)
        with self._lock:
            self._evict_expired(now)
            self._until[user_key] = now + self._window
            self._until.move_to_end(user_key)
            while len(self._until) > self._max_users:
                self._until.popitem(last=False)

    def is_heightened(self, user_key: str, now: datetime) -> bool:
        _require_aware(now)
        with self._lock:
            self._evict_expired(now)
            until = self._until.get(user_key)
            return until is not None and now < until

    def clear(self, user_key: str) -> None:
        """Forget this user's state (the user's /forget command)."""
        with self._lock:
            self._until.pop(user_key, None)

    def _evict_expired(self, now: datetime) -> None:
        # Amortised O(1): stops at the first entry that is still live.
        while self._until:
            key, until = next(iter(self._until.items()))
            if until > now:
                return
            del self._until[key]

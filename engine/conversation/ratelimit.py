"""A per-person token bucket: generous for conversation, firm against floods.

A flood gets one notice, not one per message: the first message over the limit is answered
with the rate-limit text, the ones after it (until a message is allowed again) with nothing.
Buckets run on the time a message was *sent* when the caller knows it, not on when it is
processed: a backlog worked through for half a minute must not refill the bucket as it goes."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    DENY_FIRST = "deny_first"  # over the limit: say so, once
    DENY_AGAIN = "deny_again"  # still over the limit, already told: send nothing


class RateLimiter:
    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.time,
        max_keys: int = 100_000,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float, bool]] = OrderedDict()

    def check(self, key: str, at: float | None = None) -> Verdict:
        """Take one token for ``key``; ``at`` is when the message was sent (epoch seconds)."""
        if self.rate <= 0:
            return Verdict.ALLOW
        now = self.clock() if at is None else at
        tokens, last, told = self._buckets.pop(key, (self.burst, now, False))
        tokens = min(self.burst, tokens + max(0.0, now - last) * self.rate)
        if tokens >= 1.0:
            verdict, tokens, told = Verdict.ALLOW, tokens - 1.0, False
        else:
            verdict, told = (Verdict.DENY_AGAIN if told else Verdict.DENY_FIRST), True
        self._buckets[key] = (tokens, now, told)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)  # least recently seen people first
        return verdict

    def allow(self, key: str) -> bool:
        """Take one token for ``key``; False when the bucket is empty."""
        return self.check(key) is Verdict.ALLOW

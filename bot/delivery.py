"""Getting a reply to a person through a flaky network: retries with backoff and jitter.

A crisis card is retried first and longest. Nothing here sends an error text: when a send
may have gone through (the response was lost), telling the person "something went wrong" would
be false, and when it surely failed the platform is unreachable for the error text too.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPlan:
    attempts: int
    first_delay_s: float
    max_delay_s: float


# About 30 s of trying for a card, about 3 s for an ordinary reply.
CRISIS_PLAN = RetryPlan(attempts=8, first_delay_s=0.25, max_delay_s=8.0)
REPLY_PLAN = RetryPlan(attempts=4, first_delay_s=0.25, max_delay_s=2.0)


class Undelivered(Exception):
    """Every attempt failed with a retryable error."""


async def deliver(
    send: Callable[[], Awaitable[T]],
    *,
    retryable: Callable[[BaseException], bool],
    crisis: bool = False,
    what: str = "reply",
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """``send()`` until it succeeds; errors ``retryable`` rejects propagate at once.
    Raises :class:`Undelivered` when the attempts run out."""
    plan = CRISIS_PLAN if crisis else REPLY_PLAN
    delay = plan.first_delay_s
    for attempt in range(1, plan.attempts + 1):
        try:
            return await send()
        except Exception as exc:
            if not retryable(exc):
                raise
            if attempt == plan.attempts:
                log.error("%s not delivered after %d attempts: %s", what, attempt, type(exc).__name__)
                raise Undelivered(what) from exc
            wait = min(plan.max_delay_s, delay) * (0.5 + random.random())  # full jitter around the step
            log.warning("%s send failed (%s), retry %d in %.2fs", what, type(exc).__name__, attempt, wait)
            await sleep(wait)
            delay *= 2
    raise AssertionError("unreachable")

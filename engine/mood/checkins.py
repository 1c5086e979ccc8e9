"""Opt-in daily check-ins: at most one a day, at the person's chosen local time, never in quiet hours.

The schedule lives in the database (so a restart restores it); the scheduler only asks the store
which check-ins are due and hands them to the platform that registered a sender. Several replicas
may share one database, so a check-in is claimed in the store before it is sent (exactly one
scheduler gets it) and marked sent after; a claim held by a scheduler that crashed runs out after
its lease and another one sends the check-in."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import CheckinError
from engine.types import UserRef

log = logging.getLogger(__name__)

CHECKIN_MESSAGE = "오늘 하루는 어떠셨어요? 떠오르는 대로 편하게 이야기해 주세요. (알림 끄기: /checkin off)"
# A check-in missed while the bot was down is still sent within this window, never later.
GRACE = timedelta(hours=3)
# How long a claim holds before another scheduler may take it: longer than a send takes (with
# its retries), much shorter than GRACE, so a crashed scheduler's check-in still goes out.
LEASE = timedelta(minutes=2)
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")

Sender = Callable[[UserRef, str], Awaitable[None]]


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, value: str) -> QuietHours:
        """``"23:00-07:00"``; an empty string means no quiet hours."""
        if not value.strip():
            return cls(time(0, 0), time(0, 0))
        first, _, second = value.partition("-")
        return cls(parse_time(first), parse_time(second))

    def contains(self, moment: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end  # wraps past midnight

    def describe(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


def parse_time(value: str) -> time:
    match = _TIME.match(value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise CheckinError("시간은 21:00처럼 24시간 형식으로 알려 주세요.")
    return time(int(match[1]), int(match[2]))


def parse_zone(value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CheckinError("시간대는 Asia/Seoul처럼 알려 주세요.") from exc


@dataclass(frozen=True)
class Checkin:
    user: UserRef
    at: time
    zone: ZoneInfo
    last_sent_on: date | None


def fire_time(checkin: Checkin, now: datetime) -> datetime:
    """When today's check-in is (or was) due, in UTC."""
    today = now.astimezone(checkin.zone).date()
    return datetime.combine(today, checkin.at, checkin.zone).astimezone(UTC)


def is_due(checkin: Checkin, now: datetime, quiet: QuietHours) -> bool:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(checkin.zone)
    if checkin.last_sent_on == local.date() or quiet.contains(local.time()):
        return False
    due_at = fire_time(checkin, now)
    return due_at <= now < due_at + GRACE


def seconds_until_next(checkins: list[Checkin], now: datetime, cap: float = 60.0) -> float:
    waits = []
    for checkin in checkins:
        due_at = fire_time(checkin, now)
        if due_at <= now:
            due_at = fire_time(checkin, now + timedelta(days=1))
        waits.append((due_at - now).total_seconds())
    return max(0.5, min([cap, *waits]))


class CheckinLedger(Protocol):
    """What the scheduler needs from the store (``EmotionStore`` provides it)."""

    async def claim_checkin(self, ref: UserRef, day: date, now: datetime, lease: timedelta) -> bool: ...

    async def checkin_sent(self, ref: UserRef, day: date) -> None: ...

    async def release_checkin(self, ref: UserRef, claimed_until: datetime) -> None: ...


@dataclass(frozen=True)
class Claim:
    """A check-in this scheduler may send: for the person's local ``day``, held until ``until``."""

    checkin: Checkin
    day: date
    until: datetime


class CheckinScheduler:
    """Sends due check-ins through the sender registered for each platform."""

    def __init__(
        self,
        load: Callable[[], Awaitable[list[Checkin]]],
        ledger: CheckinLedger,
        quiet: QuietHours,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        lease: timedelta = LEASE,
    ) -> None:
        self._load = load
        self._ledger = ledger
        self.quiet = quiet
        self.clock = clock
        self.lease = lease
        self.senders: dict[str, Sender] = {}
        self.sent = asyncio.Event()  # set after each round that sent something (tests, health)

    def register(self, platform: str, sender: Sender) -> None:
        self.senders[platform] = sender

    async def claim(self, checkin: Checkin, lease: timedelta | None = None) -> Claim | None:
        """Claim this check-in when it is due now and no other scheduler holds it or sent it."""
        now = self.clock()  # read per claim: a lease must start when it is taken, not at the round's start
        if not is_due(checkin, now, self.quiet):
            return None
        day = now.astimezone(checkin.zone).date()
        lease = self.lease if lease is None else lease
        if not await self._ledger.claim_checkin(checkin.user, day, now, lease):
            return None
        return Claim(checkin, day, now + lease)

    async def claim_due(self, platforms: Collection[str], lease: timedelta | None = None) -> list[Claim]:
        """Claim every due check-in on these platforms (for a front-end that sends them itself)."""
        claims = []
        for checkin in await self._load():
            if checkin.user.platform in platforms:
                claim = await self.claim(checkin, lease)
                if claim is not None:
                    claims.append(claim)
        return claims

    async def sent_on(self, claim: Claim) -> None:
        await self._ledger.checkin_sent(claim.checkin.user, claim.day)

    async def run_once(self) -> list[Checkin]:
        """Send every check-in that is due now and this scheduler could claim; returns the ones sent."""
        sent = []
        for checkin in await self._load():
            sender = self.senders.get(checkin.user.platform)
            if sender is None:
                continue
            # Claimed one at a time, just before its send, so a long round never outlives a lease.
            claim = await self.claim(checkin)
            if claim is None:
                continue
            try:
                await sender(checkin.user, CHECKIN_MESSAGE)
            except Exception as exc:
                log.error("check-in could not be sent on %s: %s", checkin.user.platform, type(exc).__name__)
                await self._release(claim)
                continue
            sent.append(checkin)
            try:
                await self.sent_on(claim)
            except Exception as exc:
                # The claim runs out and the check-in goes again: a crash right here does the same.
                # The price of sending only once claimed (two replicas never both send).
                log.error("could not mark a check-in sent: %s", type(exc).__name__)
        if sent:
            self.sent.set()
        return sent

    async def _release(self, claim: Claim) -> None:
        try:
            await self._ledger.release_checkin(claim.checkin.user, claim.until)
        except Exception as exc:  # the lease runs out instead: retried a little later
            log.error("could not release a check-in claim: %s", type(exc).__name__)

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
                wait = seconds_until_next(await self._load(), self.clock())
            except Exception as exc:
                log.error("check-in round failed: %s", type(exc).__name__)
                wait = 60.0
            await asyncio.sleep(wait)

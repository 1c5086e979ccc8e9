"""Aggregate recorded emotions into a weekly (or n-weekly) mood report.

Pure functions over events the store passes in. Every date is the user's local date: an event at
23:30 KST belongs to that KST day even though it is 14:30 UTC.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import TypeVar
from zoneinfo import ZoneInfo

from engine.mood.emotions import display_order, is_negative, valence_of

HOURS_PER_DAY = 24
DAYS_PER_WEEK = 7

_V = TypeVar("_V")


@dataclass(frozen=True)
class MoodEvent:
    at: datetime  # timezone-aware
    label: str
    confidence: float  # 0..1

    def __post_init__(self) -> None:
        # A naive datetime would silently land on the wrong local day for half the world.
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError(f"MoodEvent.at must be timezone-aware, got naive {self.at.isoformat()}")
        # Written as a negated range check so that NaN is rejected too.
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"MoodEvent.confidence must be within 0..1, got {self.confidence!r}")
        if not self.label.strip():
            raise ValueError("MoodEvent.label must not be empty")


@dataclass(frozen=True)
class DayMood:
    day: date  # the user's local date
    total: int
    counts: Mapping[str, int]  # only labels seen that day
    dominant: str | None  # None on a day without messages
    score: float | None  # in [-1, 1]; None on a day without messages (a gap, not a zero)


@dataclass(frozen=True)
class PeriodStats:
    start: date  # inclusive, local
    end: date  # inclusive, local
    total: int
    counts: Mapping[str, int]
    shares: Mapping[str, float]  # count / total; empty when total == 0, else sums to 1

    @property
    def negative_share(self) -> float:
        return sum(share for label, share in self.shares.items() if is_negative(label))


@dataclass(frozen=True)
class MoodReport:
    today: date
    weeks: int
    tz: ZoneInfo
    days: tuple[DayMood, ...]  # one per day of the current period, oldest first
    current: PeriodStats
    previous: PeriodStats  # the period of equal length just before `current`
    # current share - previous share for every label seen in either period; empty when either
    # period has no events (a share of nothing is undefined, so there is nothing to compare).
    share_change: Mapping[str, float]
    negative_by_hour: tuple[int, ...]  # 24 counts of negative events by local hour, current period
    negative_by_weekday: tuple[int, ...]  # 7 counts, Monday first, current period

    @property
    def total(self) -> int:
        return self.current.total

    @property
    def shares(self) -> Mapping[str, float]:
        return self.current.shares

    @property
    def labels(self) -> tuple[str, ...]:
        """Labels seen in the current period, in display order."""
        return tuple(sorted(self.current.counts, key=display_order))


def _frozen(items: Mapping[str, _V]) -> Mapping[str, _V]:
    # Ordered by display order so iteration (legend, summary ties) is deterministic.
    return MappingProxyType({k: items[k] for k in sorted(items, key=display_order)})


def _period(start: date, end: date, counts: Counter[str]) -> PeriodStats:
    total = sum(counts.values())
    shares = {label: n / total for label, n in counts.items()} if total else {}
    return PeriodStats(start, end, total, _frozen(dict(counts)), _frozen(shares))


def _day(day: date, events: list[MoodEvent]) -> DayMood:
    if not events:
        return DayMood(day, 0, MappingProxyType({}), None, None)
    counts = Counter(e.label for e in events)
    # fsum, not +=: exact sums keep the tie-break below independent of event order.
    confidence = {lb: math.fsum(e.confidence for e in events if e.label == lb) for lb in counts}
    # Ties: the label the model was surer about wins, then display order, so output never
    # depends on the order the store returned rows in.
    dominant = min(counts, key=lambda lb: (-counts[lb], -confidence[lb], display_order(lb)))
    # Neutral events count in the denominator (valence 0): a calm day pulls the score toward 0.
    score = math.fsum(e.confidence * valence_of(e.label) for e in events) / len(events)
    return DayMood(day, len(events), _frozen(dict(counts)), dominant, score)


def build_report(events: Iterable[MoodEvent], tz: ZoneInfo, today: date, weeks: int = 1) -> MoodReport:
    """Report on the 7*weeks local days ending `today` (inclusive), compared with the period before."""
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    length = DAYS_PER_WEEK * weeks
    start = today - timedelta(days=length - 1)
    prev_start = start - timedelta(days=length)
    prev_end = start - timedelta(days=1)

    by_day: dict[date, list[MoodEvent]] = {start + timedelta(days=i): [] for i in range(length)}
    previous: Counter[str] = Counter()
    neg_hours = [0] * HOURS_PER_DAY
    neg_weekdays = [0] * DAYS_PER_WEEK

    for event in events:  # one pass: the store may hand us a generator
        local = event.at.astimezone(tz)
        day = local.date()
        if start <= day <= today:
            by_day[day].append(event)
            if is_negative(event.label):
                neg_hours[local.hour] += 1
                neg_weekdays[day.weekday()] += 1
        elif prev_start <= day <= prev_end:
            previous[event.label] += 1

    current_counts: Counter[str] = Counter(e.label for evs in by_day.values() for e in evs)
    cur = _period(start, today, current_counts)
    prev = _period(prev_start, prev_end, previous)

    change: dict[str, float] = {}
    if cur.total and prev.total:
        for label in cur.counts.keys() | prev.counts.keys():
            change[label] = cur.shares.get(label, 0.0) - prev.shares.get(label, 0.0)

    return MoodReport(
        today=today,
        weeks=weeks,
        tz=tz,
        days=tuple(_day(d, evs) for d, evs in by_day.items()),
        current=cur,
        previous=prev,
        share_change=_frozen(change),
        negative_by_hour=tuple(neg_hours),
        negative_by_weekday=tuple(neg_weekdays),
    )

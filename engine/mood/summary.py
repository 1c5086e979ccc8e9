"""A short, warm Korean summary of a mood report, built only from its numbers.

Deterministic on purpose: the same report always reads the same, so it can be tested and so a
person never sees it "change its mind" on a refresh. Not a crisis response: when negative
emotions dominate it points gently to support; crisis handling lives elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from engine.mood.emotions import NEUTRAL_LABEL, UNCERTAIN_LABEL, Valence, display_order, valence_of
from engine.mood.korean import WEEKDAYS, josa, times
from engine.mood.report import MoodReport

# Below this many events there is no trend to speak of, only what happened.
SPARSE_MAX: Final = 2
# A week-over-week comparison needs enough events on both sides to mean anything ...
TREND_MIN_EVENTS: Final = 5
# ... and a shift of at least this much share (10 percentage points) to be worth mentioning.
TREND_MIN_CHANGE: Final = 0.10
# "Hard times" need a few negative events concentrated in one place, not one bad moment.
HARD_MIN_EVENTS: Final = 3
HARD_BAND_MIN_SHARE: Final = 0.4
HARD_WEEKDAY_MIN_SHARE: Final = 0.35

SUPPORT_LINE: Final = (
    "혼자 버거우실 때는 믿을 수 있는 분과 이야기를 나누거나, "
    "정신건강 상담전화 1577-0199에 기대 보셔도 괜찮아요."
)

# Parts of the day as people speak of them; 밤 runs past midnight because that is how it is lived.
_BANDS: Final = (
    ("새벽", range(2, 6)),
    ("아침", range(6, 11)),
    ("낮", range(11, 17)),
    ("저녁", range(17, 21)),
    ("밤", (21, 22, 23, 0, 1)),
)


def _topic(weeks: int) -> str:
    return "이번 주에는" if weeks == 1 else f"지난 {weeks}주 동안"


def _previous(weeks: int) -> str:
    return "지난주" if weeks == 1 else f"이전 {weeks}주"


def _pct(share: float) -> int:
    # Half-up like people round (62.5% -> 63%), not Python's round-half-to-even.
    return math.floor(share * 100 + 0.5)


def _and(a: str, b: str) -> str:
    return f"{josa(a, '과', '와')} {b}"


def _empty(weeks: int) -> str:
    if weeks == 1:
        opening = "이번 주에는 아직 나눈 이야기가 없어요."
    else:
        opening = f"지난 {weeks}주 동안은 나눈 이야기가 없었어요."
    return f"{opening} 오늘 하루는 어떠셨는지, 편하실 때 언제든 들려주세요."


def _sparse(report: MoodReport) -> str:
    counts = report.current.counts
    labels = list(counts)  # already in display order
    if len(labels) == 1:
        label = labels[0]
        seen = (
            f"{josa(label, '이', '가')} 보였어요"
            if counts[label] == 1
            else f"{josa(label, '이', '가')} {times(counts[label])} 보였어요"
        )
    else:
        seen = f"{josa(_and(labels[0], labels[1]), '이', '가')} 한 번씩 보였어요"
    when = "이번 주에는 아직" if report.weeks == 1 else f"지난 {report.weeks}주 동안"
    return (
        f"{when} {times(report.total)} 이야기를 나눴고, {seen}. "
        "흐름을 말씀드리기에는 아직 이른 것 같아요. 편하실 때 또 이야기 들려주세요."
    )


def _most_frequent(report: MoodReport) -> tuple[str, list[str]]:
    # "잘 모르겠음" is not a feeling: it never leads the summary while any feeling was read.
    counts = {lb: n for lb, n in report.current.counts.items() if lb != UNCERTAIN_LABEL} or dict(
        report.current.counts
    )
    if set(counts) == {UNCERTAIN_LABEL}:
        return f"{_topic(report.weeks)} 어떤 마음이었는지 제가 잘 알아듣지 못한 이야기가 많았어요.", []
    top = max(counts.values())
    leaders = [lb for lb in counts if counts[lb] == top]  # display order
    pct = _pct(report.current.shares[leaders[0]])
    topic = _topic(report.weeks)
    if len(leaders) == 1:
        label = leaders[0]
        if label == NEUTRAL_LABEL:
            return f"{topic} 일상적인 이야기가 {pct}%로 가장 많았어요.", leaders
        return f"{topic} {josa(label, '이', '가')} {pct}%로 가장 많았어요.", leaders
    if len(leaders) == 2:
        return f"{topic} {josa(_and(*leaders), '이', '가')} 각각 {pct}%로 가장 많았어요.", leaders
    if len(leaders) == 3:
        return f"{topic} {', '.join(leaders[:2])}, {josa(leaders[2], '이', '가')} 고르게 보였어요.", leaders
    return f"{topic} {', '.join(leaders[:3])} 등 여러 감정이 고르게 보였어요.", leaders


def _trend(report: MoodReport) -> str | None:
    if report.previous.total < TREND_MIN_EVENTS or report.current.total < TREND_MIN_EVENTS:
        return None
    change = report.share_change
    # Largest mover each way; display order breaks ties so the text is stable.
    rises = sorted(
        (lb for lb in change if change[lb] >= TREND_MIN_CHANGE),
        key=lambda lb: (-change[lb], display_order(lb)),
    )
    falls = sorted(
        (lb for lb in change if change[lb] <= -TREND_MIN_CHANGE),
        key=lambda lb: (change[lb], display_order(lb)),
    )
    prev = _previous(report.weeks)
    if rises and falls:
        up, down = rises[0], falls[0]
        return (
            f"{prev}보다 {josa(up, '은', '는')} {_pct(change[up])}%p 늘었고, "
            f"{josa(down, '은', '는')} {_pct(-change[down])}%p 줄었어요."
        )
    if rises:
        return f"{prev}보다 {josa(rises[0], '이', '가')} {_pct(change[rises[0]])}%p 늘었어요."
    if falls:
        return f"{prev}보다 {josa(falls[0], '이', '가')} {_pct(-change[falls[0]])}%p 줄었어요."
    return f"{josa(prev, '과', '와')} 비슷한 흐름이에요."


def _concentrated(counts: Sequence[int], min_share: float) -> int | None:
    """Index of the single clear peak of negative events, if there is one."""
    total = sum(counts)
    if total < HARD_MIN_EVENTS:
        return None
    peak = max(counts)
    if counts.count(peak) > 1 or peak < 2 or peak / total < min_share:
        return None
    return counts.index(peak)


def _hard_times(report: MoodReport) -> str | None:
    band_counts = [sum(report.negative_by_hour[h] for h in hours) for _, hours in _BANDS]
    band = _concentrated(band_counts, HARD_BAND_MIN_SHARE)
    weekday = _concentrated(report.negative_by_weekday, HARD_WEEKDAY_MIN_SHARE)
    lead = "특히" if report.weeks == 1 else "주로"
    if band is not None and weekday is not None:
        when = f"{WEEKDAYS[weekday]}요일과 {_BANDS[band][0]} 시간대에"
    elif weekday is not None:
        when = f"{WEEKDAYS[weekday]}요일에"
    elif band is not None:
        # The one-place case reads better without "특히": "밤 시간대에 마음이 무거우셨던 것 같아요."
        return f"{_BANDS[band][0]} 시간대에 마음이 무거우셨던 것 같아요."
    else:
        return None
    return f"{lead} {when} 마음이 무거우셨던 것 같아요."


def summarize(report: MoodReport) -> str:
    """At most five sentences: what was most frequent, what changed, when it was hard, and a close."""
    if report.total == 0:
        return _empty(report.weeks)
    if report.total <= SPARSE_MAX:
        return _sparse(report)

    first, leaders = _most_frequent(report)
    sentences = [first]
    for optional in (_trend(report), _hard_times(report)):
        if optional is not None:
            sentences.append(optional)
    # Strictly more than half: a soft pointer when negative feelings were most of the period.
    if report.current.negative_share > 0.5:
        sentences.append(SUPPORT_LINE)
    elif len(leaders) == 1 and valence_of(leaders[0]) is Valence.POSITIVE:
        sentences.append("좋은 순간들이 앞으로도 이어지길 바랄게요.")
    else:
        sentences.append("언제든 편하게 이야기 나눠 주세요.")
    return " ".join(sentences)

"""Aggregation of mood events into a report: local days, periods, shares, scores."""

from __future__ import annotations

import dataclasses
import math
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.mood import MoodEvent, MoodReport, build_report
from engine.mood.emotions import EMOTIONS, FALLBACK_COLOURS, Valence, colours_for, style_of

KST = ZoneInfo("Asia/Seoul")
NYC = ZoneInfo("America/New_York")
TODAY = date(2026, 11, 25)  # a Wednesday


def ev(at: datetime, label: str = "일상", confidence: float = 1.0) -> MoodEvent:
    return MoodEvent(at, label, confidence)


def kst(y: int, m: int, d: int, h: int = 12, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=KST)


def day_of(report: MoodReport, d: date) -> int:
    return next(day.total for day in report.days if day.day == d)


# --- MoodEvent validation ------------------------------------------------------------------------


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        MoodEvent(datetime(2026, 11, 24, 23, 30), "기쁨", 0.9)


@pytest.mark.parametrize("confidence", [-0.01, 1.01, math.nan, math.inf])
def test_confidence_out_of_range_is_rejected(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        MoodEvent(kst(2026, 11, 24), "기쁨", confidence)


def test_empty_label_is_rejected() -> None:
    with pytest.raises(ValueError, match="label"):
        MoodEvent(kst(2026, 11, 24), "  ", 0.5)


def test_weeks_must_be_positive() -> None:
    with pytest.raises(ValueError, match="weeks"):
        build_report([], KST, TODAY, weeks=0)


# --- local days and time zones -------------------------------------------------------------------


def test_late_evening_kst_belongs_to_that_kst_day() -> None:
    # 2026-11-24 23:30 KST is 14:30 UTC the same day; 00:30 KST on the 25th is still the 24th in UTC.
    late = ev(datetime(2026, 11, 24, 14, 30, tzinfo=UTC))
    after_midnight = ev(datetime(2026, 11, 24, 15, 30, tzinfo=UTC))
    report = build_report([late, after_midnight], KST, TODAY)
    assert day_of(report, date(2026, 11, 24)) == 1
    assert day_of(report, date(2026, 11, 25)) == 1

    utc_report = build_report([late, after_midnight], ZoneInfo("UTC"), TODAY)
    assert day_of(utc_report, date(2026, 11, 24)) == 2


def test_new_york_user_gets_their_own_days() -> None:
    # 03:00 UTC on the 25th is 22:00 EST on the 24th for a New Yorker.
    e = ev(datetime(2026, 11, 25, 3, 0, tzinfo=UTC), "불안")
    report = build_report([e], NYC, TODAY)
    assert day_of(report, date(2026, 11, 24)) == 1
    assert day_of(report, date(2026, 11, 25)) == 0
    assert report.negative_by_hour[22] == 1
    assert report.negative_by_weekday[date(2026, 11, 24).weekday()] == 1


def test_event_in_another_offset_is_converted() -> None:
    # Recorded with a +09:00 fixed offset, reported to a New Yorker: 08:00+09 on the 25th = 18:00 EST 24th.
    e = ev(datetime(2026, 11, 25, 8, 0, tzinfo=timezone(timedelta(hours=9))), "슬픔")
    report = build_report([e], NYC, TODAY)
    assert day_of(report, date(2026, 11, 24)) == 1
    assert report.negative_by_hour[18] == 1


def test_dst_fall_back_hour_is_counted_on_the_local_day() -> None:
    # US clocks fall back on 2026-11-01: 01:30 happens twice (EDT, then EST); both are on Nov 1 at 1h.
    first = ev(datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "우울")
    second = ev(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "우울")
    report = build_report([first, second], NYC, date(2026, 11, 4))
    assert day_of(report, date(2026, 11, 1)) == 2
    assert report.negative_by_hour[1] == 2


# --- periods -------------------------------------------------------------------------------------


def test_period_is_seven_days_ending_today_inclusive() -> None:
    report = build_report([], KST, TODAY)
    assert [d.day for d in report.days] == [date(2026, 11, 19) + timedelta(days=i) for i in range(7)]
    assert (report.current.start, report.current.end) == (date(2026, 11, 19), TODAY)
    assert (report.previous.start, report.previous.end) == (date(2026, 11, 12), date(2026, 11, 18))


def test_boundaries() -> None:
    events = [
        ev(kst(2026, 11, 19, 0, 0), "기쁨"),  # first minute of the period
        ev(kst(2026, 11, 25, 23, 59), "기쁨"),  # last minute of today
        ev(kst(2026, 11, 18, 23, 59), "슬픔"),  # last minute of the previous period
        ev(kst(2026, 11, 12, 0, 0), "슬픔"),  # first minute of the previous period
        ev(kst(2026, 11, 11, 23, 59), "분노"),  # too old for either
        ev(kst(2026, 11, 26, 0, 0), "분노"),  # tomorrow (clock skew): not counted
    ]
    report = build_report(events, KST, TODAY)
    assert dict(report.current.counts) == {"기쁨": 2}
    assert dict(report.previous.counts) == {"슬픔": 2}


def test_four_weeks() -> None:
    events = [ev(kst(2026, 10, 29)), ev(kst(2026, 10, 28)), ev(kst(2026, 10, 1)), ev(kst(2026, 9, 30))]
    report = build_report(events, KST, TODAY, weeks=4)
    assert len(report.days) == 28
    assert report.days[0].day == date(2026, 10, 29)
    assert report.current.total == 1
    assert report.previous.total == 2  # 10/1 .. 10/28
    assert report.previous.start == date(2026, 10, 1)


def test_events_can_be_a_generator() -> None:
    def gen() -> Iterator[MoodEvent]:
        yield ev(kst(2026, 11, 25), "기쁨")
        yield ev(kst(2026, 11, 15), "슬픔")

    report = build_report(gen(), KST, TODAY)
    assert report.current.total == 1
    assert report.previous.total == 1


# --- per-day numbers -----------------------------------------------------------------------------


def test_daily_score_counts_and_dominant() -> None:
    events = [
        ev(kst(2026, 11, 24, 9), "기쁨", 0.8),
        ev(kst(2026, 11, 24, 10), "불안", 0.6),
        ev(kst(2026, 11, 24, 11), "일상", 0.9),
        ev(kst(2026, 11, 24, 12), "불안", 0.5),
    ]
    day = next(d for d in build_report(events, KST, TODAY).days if d.day == date(2026, 11, 24))
    assert day.total == 4
    assert dict(day.counts) == {"일상": 1, "기쁨": 1, "불안": 2}
    assert day.dominant == "불안"
    assert day.score == pytest.approx((0.8 - 0.6 - 0.5) / 4)


def test_days_without_messages_are_gaps_not_zeros() -> None:
    report = build_report([ev(kst(2026, 11, 25), "일상", 0.7)], KST, TODAY)
    assert report.days[-1].score == 0.0  # a neutral day is a real zero ...
    for day in report.days[:-1]:  # ... a silent one is no number at all
        assert day.score is None and day.dominant is None and day.total == 0 and not day.counts


def test_scores_reach_the_extremes() -> None:
    events = [ev(kst(2026, 11, 24), "기쁨", 1.0), ev(kst(2026, 11, 25), "우울", 1.0)]
    report = build_report(events, KST, TODAY)
    assert [d.score for d in report.days[-2:]] == [1.0, -1.0]


def test_dominant_tie_breaks_on_confidence_then_order() -> None:
    by_confidence = [ev(kst(2026, 11, 25, 9), "슬픔", 0.9), ev(kst(2026, 11, 25, 10), "기쁨", 0.4)]
    assert build_report(by_confidence, KST, TODAY).days[-1].dominant == "슬픔"
    by_order = [ev(kst(2026, 11, 25, 9), "슬픔", 0.5), ev(kst(2026, 11, 25, 10), "기쁨", 0.5)]
    assert build_report(by_order, KST, TODAY).days[-1].dominant == "기쁨"  # table order
    assert build_report(list(reversed(by_order)), KST, TODAY).days[-1].dominant == "기쁨"


# --- shares and week over week -------------------------------------------------------------------


def test_week_over_week_share_change() -> None:
    current = [ev(kst(2026, 11, 20 + i), "기쁨") for i in range(3)] + [ev(kst(2026, 11, 24), "불안")]
    previous = (
        [ev(kst(2026, 11, 13), "기쁨")]
        + [ev(kst(2026, 11, 14 + i), "불안") for i in range(2)]
        + [ev(kst(2026, 11, 17), "슬픔")]
    )
    report = build_report(current + previous, KST, TODAY)
    assert dict(report.shares) == {"기쁨": 0.75, "불안": 0.25}
    assert dict(report.previous.shares) == {"기쁨": 0.25, "불안": 0.5, "슬픔": 0.25}
    assert report.share_change["기쁨"] == pytest.approx(0.5)
    assert report.share_change["불안"] == pytest.approx(-0.25)
    assert report.share_change["슬픔"] == pytest.approx(-0.25)  # gone this week: still a change
    assert report.current.negative_share == pytest.approx(0.25)
    assert report.previous.negative_share == pytest.approx(0.75)


def test_no_comparison_without_a_previous_period() -> None:
    report = build_report([ev(kst(2026, 11, 25), "기쁨")], KST, TODAY)
    assert report.previous.total == 0
    assert dict(report.previous.shares) == {}
    assert dict(report.share_change) == {}


def test_empty_history() -> None:
    report = build_report([], KST, TODAY, weeks=4)
    assert report.total == 0
    assert dict(report.shares) == {}
    assert report.labels == ()
    assert report.negative_by_hour == (0,) * 24
    assert all(d.score is None for d in report.days)


def test_unknown_labels_are_counted_and_shown() -> None:
    events = [
        ev(kst(2026, 11, 25, 9), "놀람", 0.9),
        ev(kst(2026, 11, 25, 10), "기쁨", 0.9),
        ev(kst(2026, 11, 24, 10), "surprise", 0.9),
    ]
    report = build_report(events, KST, TODAY)
    assert report.total == 3
    assert report.labels == ("기쁨", "surprise", "놀람")  # product labels first, then the rest sorted
    assert report.days[-1].score == pytest.approx(0.9 / 2)  # unknown = neutral valence
    assert report.negative_by_hour == (0,) * 24
    style = style_of("놀람")
    assert style.valence is Valence.NEUTRAL and style.emoji is None
    assert style.colour in FALLBACK_COLOURS
    assert style_of("놀람") == style  # stable


def test_unknown_labels_drawn_together_get_distinct_colours() -> None:
    unknown = ["놀람", "surprise", "혐오", "중립", "fear"]
    colours = colours_for([*unknown, "기쁨"])
    assert len({colours[lb] for lb in unknown}) == len(unknown)
    assert colours["기쁨"] == EMOTIONS["기쁨"].colour
    assert colours_for(["놀람"])["놀람"] == style_of("놀람").colour  # alone, it keeps its own colour


def test_emotion_table_covers_the_product_labels() -> None:
    assert list(EMOTIONS) == ["일상", "기쁨", "불안", "슬픔", "분노", "우울", "잘 모르겠음"]
    assert len({s.colour for s in EMOTIONS.values()}) == len(EMOTIONS)
    assert not {s.colour for s in EMOTIONS.values()} & set(FALLBACK_COLOURS)


def test_report_is_immutable() -> None:
    report = build_report([ev(kst(2026, 11, 25), "기쁨")], KST, TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.weeks = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        report.current.counts["기쁨"] = 5  # type: ignore[index]


# --- invariants ----------------------------------------------------------------------------------

LABELS = [*EMOTIONS, "놀람", "중립"]
ZONES = [KST, NYC, ZoneInfo("UTC"), ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago")]
# Around the periods, and a little past them on both sides, so boundaries get exercised.
events_st = st.builds(
    MoodEvent,
    at=st.datetimes(
        min_value=datetime(2026, 9, 20),
        max_value=datetime(2026, 12, 5),
        timezones=st.sampled_from([ZoneInfo("UTC"), KST, NYC]),
    ),
    label=st.sampled_from(LABELS),
    confidence=st.floats(min_value=0.0, max_value=1.0),
)


@settings(max_examples=150, deadline=None)
@given(events=st.lists(events_st, max_size=60), tz=st.sampled_from(ZONES), weeks=st.integers(1, 4))
def test_aggregation_invariants(events: list[MoodEvent], tz: ZoneInfo, weeks: int) -> None:
    report = build_report(events, tz, TODAY, weeks)
    start = TODAY - timedelta(days=7 * weeks - 1)
    prev_start = start - timedelta(days=7 * weeks)
    local_days = [e.at.astimezone(tz).date() for e in events]
    inside = [e for e, d in zip(events, local_days, strict=True) if start <= d <= TODAY]
    before = [e for e, d in zip(events, local_days, strict=True) if prev_start <= d < start]

    # Every event inside the period counted exactly once, none outside.
    assert report.current.total == len(inside)
    assert Counter(report.current.counts) == Counter(e.label for e in inside)
    assert report.previous.total == len(before)
    assert Counter(report.previous.counts) == Counter(e.label for e in before)
    # Per-day counts add up to the total, day by day and label by label.
    assert len(report.days) == 7 * weeks
    assert sum(d.total for d in report.days) == report.total
    for d in report.days:
        assert sum(d.counts.values()) == d.total
        assert (d.score is None) == (d.total == 0) == (d.dominant is None)
        if d.score is not None:
            assert -1.0 <= d.score <= 1.0
            assert d.dominant in d.counts
    # Shares sum to 1 when there is anything to share.
    for period in (report.current, report.previous):
        if period.total:
            assert math.fsum(period.shares.values()) == pytest.approx(1.0, abs=1e-9)
        else:
            assert not period.shares
    if report.current.total and report.previous.total:
        assert math.fsum(report.share_change.values()) == pytest.approx(0.0, abs=1e-9)
    negatives = sum(1 for e in inside if style_of(e.label).valence is Valence.NEGATIVE)
    assert sum(report.negative_by_hour) == sum(report.negative_by_weekday) == negatives


@settings(max_examples=40, deadline=None)
@given(events=st.lists(events_st, max_size=30), seed=st.randoms())
def test_order_of_events_does_not_matter(events: list[MoodEvent], seed: random.Random) -> None:
    shuffled = list(events)
    seed.shuffle(shuffled)
    assert build_report(events, KST, TODAY) == build_report(shuffled, KST, TODAY)


async def test_uncertain_readings_show_as_such_in_the_report(tmp_path: Path) -> None:
    """An emotion the model was unsure of is stored with that flag and shown as 잘 모르겠음."""
    from engine.client import InProcessEngine
    from engine.inference import ModelConfig, ModelSet
    from engine.mood.emotions import UNCERTAIN_LABEL
    from engine.store import EmotionStore
    from engine.types import EmotionPrediction, UserRef

    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    engine = InProcessEngine(ModelSet(ModelConfig(emotion="unused", reply=None)), EmotionStore(url))
    await engine.start(load_models=False)
    try:
        who = UserRef("console", "me")
        await engine.set_consent(who, True)
        now = datetime.now(UTC)
        unsure = EmotionPrediction("분노", 0.4, {"분노": 0.4}, uncertain=True)
        await engine.store.record_emotion(who, unsure, now)
        await engine.store.record_emotion(who, EmotionPrediction("기쁨", 0.9, {"기쁨": 0.9}), now)
        result = await engine.mood(who)
        assert dict(result.report.current.counts) == {UNCERTAIN_LABEL: 1, "기쁨": 1}
        assert [e["uncertain"] for e in (await engine.export(who))["emotion_events"]] == [True, False]
    finally:
        await engine.close()

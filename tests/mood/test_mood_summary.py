"""The Korean summary: key phrases for fixed histories, sparse data, and its general shape."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.mood import MoodEvent, MoodReport, build_report, summarize
from engine.mood.korean import day_label, josa, times

KST = ZoneInfo("Asia/Seoul")
TODAY = date(2026, 11, 25)  # a Wednesday
SUPPORT = "1577-0199"


def events(
    counts: dict[str, int], *, days_ago: int = 0, spread: int = 7, hour: int = 14, confidence: float = 0.8
) -> list[MoodEvent]:
    """`counts` events per label, spread round-robin over `spread` days ending `days_ago` days ago."""
    out: list[MoodEvent] = []
    i = 0
    for label, n in counts.items():
        for _ in range(n):
            d = TODAY - timedelta(days=days_ago + i % spread)
            at = datetime(d.year, d.month, d.day, hour, i % 60, tzinfo=KST)
            out.append(MoodEvent(at, label, confidence))
            i += 1
    return out


def report(
    current: dict[str, int], previous: dict[str, int] | None = None, weeks: int = 1, **kw: int
) -> MoodReport:
    evs = events(current, **kw) + events(previous or {}, days_ago=7 * weeks, spread=7 * weeks)
    return build_report(evs, KST, TODAY, weeks)


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s]


# --- fixed histories -----------------------------------------------------------------------------


def test_no_messages_invites_them_to_talk() -> None:
    text = summarize(build_report([], KST, TODAY))
    assert text.startswith("이번 주에는 아직 나눈 이야기가 없어요.")
    assert "들려주세요" in text
    assert "%" not in text and SUPPORT not in text


def test_no_messages_over_four_weeks() -> None:
    text = summarize(build_report([], KST, TODAY, weeks=4))
    assert "지난 4주" in text and "이번 주" not in text


def test_one_message_is_too_early_for_trends_but_shows_it() -> None:
    text = summarize(report({"불안": 1}))
    assert "한 번 이야기를 나눴고" in text
    assert "불안이 보였어요" in text
    assert "이른 것 같아요" in text
    assert "%" not in text and SUPPORT not in text


def test_two_messages() -> None:
    assert "기쁨과 불안이 한 번씩 보였어요" in summarize(report({"기쁨": 1, "불안": 1}))
    assert "분노가 두 번 보였어요" in summarize(report({"분노": 2}))


def test_negative_week_points_softly_to_support() -> None:
    text = summarize(report({"불안": 5, "슬픔": 2, "기쁨": 3}))
    assert text.startswith("이번 주에는 불안이 50%로 가장 많았어요.")
    assert "믿을 수 있는 분" in text and SUPPORT in text
    # A pointer, not a crisis card: no emergency numbers or urgent wording.
    assert "112" not in text and "119" not in text and "즉시" not in text


def test_half_negative_is_not_dominant() -> None:
    assert SUPPORT not in summarize(report({"불안": 2, "일상": 2}))


def test_positive_week() -> None:
    text = summarize(report({"기쁨": 6, "일상": 3, "불안": 1}))
    assert text.startswith("이번 주에는 기쁨이 60%로 가장 많았어요.")
    assert "이어지길 바랄게요" in text
    assert SUPPORT not in text


def test_neutral_week_reads_as_everyday_talk() -> None:
    text = summarize(report({"일상": 5, "기쁨": 2, "슬픔": 1}))
    assert text.startswith("이번 주에는 일상적인 이야기가 63%로 가장 많았어요.")


def test_tied_leaders() -> None:
    text = summarize(report({"슬픔": 3, "분노": 3, "일상": 2}))
    assert "슬픔과 분노가 각각 38%로 가장 많았어요." in text


def test_many_tied_leaders() -> None:
    assert "기쁨, 불안, 슬픔이 고르게 보였어요." in summarize(report({"기쁨": 2, "불안": 2, "슬픔": 2}))
    text = summarize(report({"일상": 1, "기쁨": 1, "불안": 1, "슬픔": 1}))
    assert "일상, 기쁨, 불안 등 여러 감정이 고르게 보였어요." in text


def test_rise_and_fall_versus_last_week() -> None:
    # Joy 20% -> 60% (+40%p), anxiety 60% -> 20% (-40%p).
    text = summarize(report({"기쁨": 6, "불안": 2, "일상": 2}, {"기쁨": 2, "불안": 6, "일상": 2}))
    assert "지난주보다 기쁨은 40%p 늘었고, 불안은 40%p 줄었어요." in text


def test_only_a_rise() -> None:
    # 슬픔 0% -> 20%; everything else moves by less than 10%p.
    text = summarize(report({"슬픔": 2, "일상": 4, "기쁨": 4}, {"일상": 9, "기쁨": 9, "분노": 1}))
    assert "지난주보다 슬픔이 20%p 늘었어요." in text
    assert "줄었어요" not in text


def test_small_changes_are_not_mentioned() -> None:
    # 50% -> 55%: within noise, so only "similar".
    text = summarize(report({"일상": 11, "기쁨": 9}, {"일상": 10, "기쁨": 10}))
    assert "지난주와 비슷한 흐름이에요." in text
    assert "%p" not in text


def test_too_little_history_for_a_trend() -> None:
    text = summarize(report({"기쁨": 6, "불안": 2}, {"불안": 2}))
    assert "지난주" not in text


def test_hard_time_of_day() -> None:
    text = summarize(report({"우울": 4, "일상": 4}, hour=23))
    assert "밤 시간대에 마음이 무거우셨던 것 같아요." in text


def test_after_midnight_is_still_night() -> None:
    assert "밤 시간대에" in summarize(report({"슬픔": 4, "일상": 3}, hour=1))


def test_hard_weekday() -> None:
    # All negative events on Wednesday 11/25 (spread=1), afternoons.
    evs = events({"불안": 3}, spread=1) + events({"일상": 4}, days_ago=1, spread=6, hour=9)
    text = summarize(build_report(evs, KST, TODAY))
    assert "특히 수요일과 낮 시간대에 마음이 무거우셨던 것 같아요." in text


def test_no_hard_time_when_spread_out() -> None:
    evs = [
        MoodEvent(datetime(2026, 11, 19 + i, h, tzinfo=KST), "슬픔", 0.7)
        for i, h in enumerate([3, 8, 13, 18, 22])
    ]
    assert "무거우셨던" not in summarize(build_report(evs, KST, TODAY))


def test_four_weeks_wording() -> None:
    r = report({"우울": 12, "일상": 4}, {"우울": 4, "일상": 12}, weeks=4, spread=28, hour=22)
    text = summarize(r)
    assert text.startswith("지난 4주 동안 우울이 75%로 가장 많았어요.")
    assert "이전 4주보다 우울은 50%p 늘었고, 일상은 50%p 줄었어요." in text
    assert "이번 주" not in text and "지난주" not in text
    assert SUPPORT in text


def test_unknown_label_is_named() -> None:
    assert summarize(report({"놀람": 5, "기쁨": 1})).startswith("이번 주에는 놀람이 83%로 가장 많았어요.")
    assert "joy이(가)" in summarize(report({"joy": 5, "기쁨": 1}))


def test_deterministic_regardless_of_event_order() -> None:
    evs = events({"불안": 5, "슬픔": 2, "기쁨": 3}) + events({"기쁨": 6}, days_ago=7)
    shuffled = list(evs)
    random.Random(3).shuffle(shuffled)
    assert summarize(build_report(evs, KST, TODAY)) == summarize(build_report(shuffled, KST, TODAY))


# --- Korean helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("불안", "불안이"),
        ("분노", "분노가"),
        ("우울", "우울이"),
        ("기쁨", "기쁨이"),
        ("3", "3이"),
        ("2", "2가"),
        ("joy", "joy이(가)"),
    ],
)
def test_josa(word: str, expected: str) -> None:
    assert josa(word, "이", "가") == expected


def test_counts_and_day_labels() -> None:
    assert [times(n) for n in (1, 2, 3, 11)] == ["한 번", "두 번", "세 번", "11번"]
    assert day_label(date(2026, 11, 25)) == "11/25 (수)"
    assert day_label(date(2026, 11, 29)) == "11/29 (일)"


# --- shape ---------------------------------------------------------------------------------------

LABELS = ["일상", "기쁨", "불안", "슬픔", "분노", "우울", "놀람"]


@settings(max_examples=60, deadline=None)
@given(
    current=st.dictionaries(st.sampled_from(LABELS), st.integers(1, 8), max_size=7),
    previous=st.dictionaries(st.sampled_from(LABELS), st.integers(1, 8), max_size=7),
    weeks=st.integers(1, 4),
    hour=st.integers(0, 23),
)
def test_always_short_polite_and_complete(
    current: dict[str, int], previous: dict[str, int], weeks: int, hour: int
) -> None:
    text = summarize(report(current, previous, weeks=weeks, spread=3, hour=hour))
    parts = sentences(text)
    assert 1 <= len(parts) <= 5
    assert all(p.endswith("요.") for p in parts)  # 존댓말 throughout
    assert ("이번 주" in text) == (weeks == 1)
    assert "None" not in text and "{" not in text

"""The crisis screen in front of everything: size cap, quotes and forwards, split messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.safety import CrisisScreen, bounded

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_a_megabyte_is_read_head_and_tail_only_and_a_crisis_at_the_end_is_caught() -> None:
    text = "오늘 있었던 일을 길게 적어 볼게요. " * 40_000 + "그런데 사실 죽고 싶어"
    assert len(bounded(text)) <= 8001
    assert CrisisScreen().check("a", text, now=NOW).is_crisis


def test_quoted_and_forwarded_words_give_the_third_party_card() -> None:
    screen = CrisisScreen()
    quoted = screen.check("a", "친구가 이렇게 보냈어 어떡해", ("나 진짜 죽고 싶어",), now=NOW)
    assert quoted.is_crisis and quoted.about_someone_else
    forwarded = screen.check("b", "나 진짜 죽고 싶어", now=NOW, forwarded=True)
    assert forwarded.is_crisis and forwarded.about_someone_else
    reported = screen.check("c", "동생이 죽고 싶대", now=NOW)
    assert reported.is_crisis and reported.about_someone_else
    own = screen.check("d", "나 진짜 죽고 싶어", now=NOW)
    assert own.is_crisis and not own.about_someone_else


def test_split_messages_are_read_together_within_the_window_only() -> None:
    screen = CrisisScreen()
    assert not screen.check("a", "더는", now=NOW).is_crisis
    verdict = screen.check("a", "못 살겠어", now=NOW + timedelta(seconds=20))
    assert verdict.is_crisis and verdict.by == "split"
    # Too far apart, another person, or a long message in between: not joined.
    assert not screen.check("b", "더는", now=NOW).is_crisis
    assert not screen.check("b", "못 살겠어", now=NOW + timedelta(minutes=4)).is_crisis
    assert not screen.check("c", "더는", now=NOW).is_crisis
    assert not screen.check("d", "못 살겠어", now=NOW).is_crisis


def test_recent_messages_are_kept_briefly_bounded_and_forgotten() -> None:
    screen = CrisisScreen(max_users=3)
    for i in range(10):
        screen.check(f"user-{i}", "안녕", now=NOW)
    assert len(screen) == 3  # oldest people out first
    screen.forget("user-9")
    assert len(screen) == 2
    screen.check("x", "더는", now=NOW)
    assert screen.check("x", "못 살겠어", now=NOW).is_crisis
    assert screen._recent_texts("x", NOW) == []  # dropped once the card is shown

"""Heightened state after a crisis message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.safety import CrisisTracker, assess

T0 = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)
KST = timezone(timedelta(hours=9))


def _on_message(tracker: CrisisTracker, user: str, text: str, now: datetime) -> bool:
    """What the bot does per message: mark on crisis, never clear on a retraction."""
    if assess(text).is_crisis:
        tracker.mark(user, now)
    return tracker.is_heightened(user, now)


def test_stays_heightened_after_joke_retraction() -> None:
    tracker = CrisisTracker()
    assert _on_message(tracker, "u1", "죽고 싶어", T0)
    assert not assess("농담이야").is_crisis
    assert _on_message(tracker, "u1", "농담이야", T0 + timedelta(minutes=1))
    assert _on_message(tracker, "u1", "장난이야 ㅋㅋ", T0 + timedelta(minutes=2))
    assert tracker.is_heightened("u1", T0 + timedelta(hours=5, minutes=59))


def test_expires_after_default_window() -> None:
    tracker = CrisisTracker()
    tracker.mark("u1", T0)
    assert tracker.is_heightened("u1", T0 + timedelta(hours=6) - timedelta(seconds=1))
    assert not tracker.is_heightened("u1", T0 + timedelta(hours=6))
    assert len(tracker) == 0  # expired entries are evicted, not kept


def test_configurable_window_and_extension() -> None:
    tracker = CrisisTracker(window=timedelta(minutes=30))
    tracker.mark("u1", T0)
    tracker.mark("u1", T0 + timedelta(minutes=20))  # a second crisis extends it
    assert tracker.is_heightened("u1", T0 + timedelta(minutes=45))
    assert not tracker.is_heightened("u1", T0 + timedelta(minutes=51))


def test_users_are_independent() -> None:
    tracker = CrisisTracker()
    tracker.mark("u1", T0)
    assert not tracker.is_heightened("u2", T0)


def test_clear_forgets_user() -> None:
    tracker = CrisisTracker()
    tracker.mark("u1", T0)
    tracker.mark("u2", T0)
    tracker.clear("u1")
    assert not tracker.is_heightened("u1", T0)
    assert tracker.is_heightened("u2", T0)
    tracker.clear("never-seen")  # no error


def test_any_timezone_is_fine() -> None:
    tracker = CrisisTracker()
    tracker.mark("u1", T0.astimezone(KST))
    assert tracker.is_heightened("u1", T0 + timedelta(hours=1))


@pytest.mark.parametrize("method", ["mark", "is_heightened"])
def test_naive_datetime_rejected(method: str) -> None:
    tracker = CrisisTracker()
    with pytest.raises(ValueError, match="timezone-aware"):
        getattr(tracker, method)("u1", datetime(2025, 3, 1, 22, 0))


def test_memory_is_bounded() -> None:
    tracker = CrisisTracker(max_users=3)
    for i in range(10):
        tracker.mark(f"u{i}", T0 + timedelta(seconds=i))
    assert len(tracker) == 3
    now = T0 + timedelta(seconds=10)
    assert [tracker.is_heightened(f"u{i}", now) for i in range(10)] == [False] * 7 + [True] * 3


def test_expired_entries_evicted_on_mark() -> None:
    tracker = CrisisTracker(window=timedelta(minutes=1))
    for i in range(100):
        tracker.mark(f"u{i}", T0)
    tracker.mark("late", T0 + timedelta(minutes=2))
    assert len(tracker) == 1


@pytest.mark.parametrize(
    ("window", "max_users"), [(timedelta(0), 10), (timedelta(hours=-1), 10), (timedelta(1), 0)]
)
def test_invalid_configuration(window: timedelta, max_users: int) -> None:
    with pytest.raises(ValueError):
        CrisisTracker(window=window, max_users=max_users)

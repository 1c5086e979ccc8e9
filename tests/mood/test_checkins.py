"""Daily check-ins: the person's own time zone, at most one a day, never in quiet hours, kept
across restarts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.client import InProcessEngine
from engine.inference.models import ModelConfig, ModelSet
from engine.mood.checkins import Checkin, CheckinError, QuietHours, is_due, seconds_until_next
from engine.store import EmotionStore
from engine.types import UserRef

SEOUL, NEW_YORK = ZoneInfo("Asia/Seoul"), ZoneInfo("America/New_York")
QUIET = QuietHours.parse("23:00-07:00")
ALICE = UserRef("telegram", "alice")


def kst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SEOUL)


def test_due_at_the_local_time_once_a_day() -> None:
    checkin = Checkin(ALICE, time(21, 0), SEOUL, None)
    assert not is_due(checkin, kst(25, 20, 59), QUIET)
    assert is_due(checkin, kst(25, 21, 0), QUIET)
    assert is_due(checkin, kst(25, 22, 30), QUIET)  # missed while down: still within the grace
    sent_today = Checkin(ALICE, time(21, 0), SEOUL, date(2026, 11, 25))
    assert not is_due(sent_today, kst(25, 21, 5), QUIET)
    assert is_due(sent_today, kst(26, 21, 0), QUIET)


def test_each_person_has_their_own_day() -> None:
    checkin = Checkin(ALICE, time(21, 0), NEW_YORK, None)
    at_21_new_york = datetime(2026, 11, 25, 21, 0, tzinfo=NEW_YORK)
    assert is_due(checkin, at_21_new_york, QUIET)
    assert not is_due(checkin, kst(25, 21, 0), QUIET)  # 07:00 in New York


def test_never_in_quiet_hours_and_not_long_after() -> None:
    late = Checkin(ALICE, time(22, 30), SEOUL, None)
    assert is_due(late, kst(25, 22, 45), QUIET)
    assert not is_due(late, kst(25, 23, 10), QUIET)  # quiet hours began
    assert not is_due(Checkin(ALICE, time(8, 0), SEOUL, None), kst(25, 11, 30), QUIET)  # > 3 h late
    assert QUIET.contains(time(23, 0)) and QUIET.contains(time(6, 59)) and not QUIET.contains(time(7, 0))
    assert not QuietHours.parse("").contains(time(3, 0))


def test_sleep_until_the_next_check_in() -> None:
    checkin = Checkin(ALICE, time(21, 0), SEOUL, None)
    assert seconds_until_next([checkin], kst(25, 20, 59), cap=3600) == pytest.approx(60)
    assert seconds_until_next([], kst(25, 20, 0)) == 60


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)


def engine_at(clock: Clock, emotion: Path, url: str) -> InProcessEngine:
    return InProcessEngine(
        ModelSet(ModelConfig(str(emotion), None, device="cpu", warmup=False)),
        EmotionStore(url),
        clock=clock,
        quiet_hours=QUIET,
    )


async def test_schedule_survives_restarts_and_sends_once_a_day(
    tiny_emotion_model: Path, sqlite_url: str
) -> None:
    clock = Clock(kst(25, 12, 0))
    first = engine_at(clock, tiny_emotion_model, sqlite_url)
    await first.start(load_models=False)
    await first.set_consent(ALICE, True)
    reply = await first.set_checkin(ALICE, "21:00")
    assert "21:00" in reply and "Asia/Seoul" in reply
    await first.close()

    sent: list[tuple[UserRef, str]] = []

    async def send(user: UserRef, text: str) -> None:
        sent.append((user, text))

    async def restart_and_run() -> int:
        engine = engine_at(clock, tiny_emotion_model, sqlite_url)
        engine.register_checkin_sender("telegram", send)
        await engine.start(load_models=False)
        try:
            return len(await engine.checkins.run_once())
        finally:
            await engine.close()

    assert await restart_and_run() == 0  # noon: not yet
    clock.now = kst(25, 21, 1)
    assert await restart_and_run() == 1
    assert await restart_and_run() == 0  # restarted again the same evening: not twice
    clock.now = kst(26, 21, 0)
    assert await restart_and_run() == 1
    assert [user for user, _ in sent] == [ALICE, ALICE] and "오늘 하루" in sent[0][1]


async def test_set_checkin_rejects_quiet_hours_and_nonsense(
    tiny_emotion_model: Path, sqlite_url: str
) -> None:
    engine = engine_at(Clock(kst(25, 12)), tiny_emotion_model, sqlite_url)
    await engine.start(load_models=False)
    try:
        await engine.set_consent(ALICE, True)
        with pytest.raises(CheckinError, match="쉬는 시간"):
            await engine.set_checkin(ALICE, "23:30")
        with pytest.raises(CheckinError, match="21:00"):
            await engine.set_checkin(ALICE, "저녁에")
        with pytest.raises(CheckinError, match="Asia/Seoul"):
            await engine.set_timezone(ALICE, "Mars/Olympus")
        await engine.set_timezone(ALICE, "America/New_York")
        assert "America/New_York" in await engine.set_checkin(ALICE, "9:30")
        assert (await engine.export(ALICE))["checkin"] == {"local_time": "09:30"}
        assert "껐어요" in await engine.set_checkin(ALICE, "off")
        assert (await engine.export(ALICE))["checkin"] is None
    finally:
        await engine.close()


async def test_forget_removes_the_check_in(tiny_emotion_model: Path, sqlite_url: str) -> None:
    engine = engine_at(Clock(kst(25, 12)), tiny_emotion_model, sqlite_url)
    await engine.start(load_models=False)
    try:
        await engine.set_consent(ALICE, True)
        await engine.set_checkin(ALICE, "21:00")
        assert await engine.forget(ALICE)
        assert await engine.store.checkins() == []
    finally:
        await engine.close()


def test_quiet_hours_setting_is_validated() -> None:
    from pydantic import ValidationError

    from engine.settings import Settings

    with pytest.raises(ValidationError):
        Settings(checkin_quiet_hours="late")
    assert Settings(checkin_quiet_hours="").checkin_quiet_hours == ""


def test_quiet_hours_can_be_turned_off_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.settings import Settings

    # An empty variable keeps the default (a copied `KEY=` line); "none" turns them off.
    monkeypatch.setenv("MAEUM_CHECKIN_QUIET_HOURS", "")
    assert Settings(_env_file=None).checkin_quiet_hours == "23:00-07:00"  # type: ignore[call-arg]
    monkeypatch.setenv("MAEUM_CHECKIN_QUIET_HOURS", "none")
    assert Settings(_env_file=None).checkin_quiet_hours == ""  # type: ignore[call-arg]


async def test_check_ins_and_time_zones_wait_for_consent(tiny_emotion_model: Path, sqlite_url: str) -> None:
    """Both are stored about the person, so not before they said yes: no row appears."""
    engine = engine_at(Clock(kst(25, 12)), tiny_emotion_model, sqlite_url)
    await engine.start(load_models=False)
    try:
        with pytest.raises(CheckinError, match="동의"):
            await engine.set_checkin(ALICE, "21:00")
        with pytest.raises(CheckinError, match="동의"):
            await engine.set_timezone(ALICE, "Asia/Seoul")
        assert "껐어요" in await engine.set_checkin(ALICE, "off")  # turning off needs nothing stored
        assert (await engine.user_status(ALICE)).known is False
    finally:
        await engine.close()

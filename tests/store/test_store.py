"""The store and its migrations, on SQLite and on the machine's real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect

from engine.store import EmotionStore, create_engine_for, normalize_url
from engine.store.migrate import current_revision, downgrade, upgrade, upgrade_async
from engine.types import EmotionPrediction, UserRef

SAD = EmotionPrediction("슬픔", 0.8, {"슬픔": 0.8, "우울": 0.2})
KST = timezone(timedelta(hours=9))


async def _tables(url: str) -> set[str]:
    engine = create_engine_for(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_migrations_upgrade_and_downgrade(db_url: str) -> None:
    await asyncio.to_thread(upgrade, db_url)
    assert await current_revision(db_url) is not None
    assert {"users", "emotion_events"} <= await _tables(db_url)
    await asyncio.to_thread(downgrade, db_url, "base")
    assert await current_revision(db_url) is None
    assert not ({"users", "emotion_events"} & await _tables(db_url))
    await asyncio.to_thread(upgrade, db_url)  # and back up again, idempotently
    await asyncio.to_thread(upgrade, db_url)
    assert {"users", "emotion_events"} <= await _tables(db_url)


async def _columns(url: str, table: str) -> set[str]:
    engine = create_engine_for(url)
    try:
        async with engine.connect() as conn:
            return {c["name"] for c in await conn.run_sync(lambda c: inspect(c).get_columns(table))}
    finally:
        await engine.dispose()


async def test_migration_0006_adds_the_heightened_state_and_check_in_claims_and_goes_back(
    db_url: str,
) -> None:
    await asyncio.to_thread(upgrade, db_url)
    store = EmotionStore(db_url)
    person = UserRef("telegram", "6")
    try:
        await store.set_consent(person, True)
        await store.set_checkin(person, "21:00")
        await store.mark_heightened(person.key, datetime.now(UTC) + timedelta(hours=6))
    finally:
        await store.close()
    assert "heightened" in await _tables(db_url) and "claimed_until" in await _columns(db_url, "checkins")
    await asyncio.to_thread(downgrade, db_url, "0005")  # with rows in both
    assert "heightened" not in await _tables(db_url)
    assert "claimed_until" not in await _columns(db_url, "checkins")
    await asyncio.to_thread(upgrade, db_url)
    store = EmotionStore(db_url)
    try:
        assert await store.get_checkin(person) == "21:00"  # the check-in itself survived the trip
        assert await store.heightened_until(person.key, datetime.now(UTC)) is None
    finally:
        await store.close()


async def test_nothing_is_recorded_without_consent(db_url: str) -> None:
    await upgrade_async(db_url)
    store = EmotionStore(db_url)
    user = UserRef("telegram", "42")
    try:
        assert await store.record_emotion(user, SAD, datetime.now(UTC)) is False
        await store.set_consent(user, False)
        assert await store.record_emotion(user, SAD, datetime.now(UTC)) is False
        await store.set_consent(user, True)
        assert await store.record_emotion(user, SAD, datetime.now(UTC)) is True
        assert await store.count_events(user) == 1
    finally:
        await store.close()


async def test_times_are_timezone_aware_and_round_trip(db_url: str) -> None:
    await upgrade_async(db_url)
    store = EmotionStore(db_url)
    user = UserRef("console", "me")
    local = datetime(2026, 11, 24, 23, 30, tzinfo=KST)
    try:
        await store.set_consent(user, True)
        await store.record_emotion(user, SAD, local)
        [event] = await store.events(user)
        assert event.occurred_at.tzinfo is not None
        assert event.occurred_at == local and event.occurred_at.utcoffset() == timedelta(0)
        assert event.distribution == {"슬픔": 0.8, "우울": 0.2}
        with pytest.raises(ValueError):
            await store.record_emotion(user, SAD, datetime(2026, 11, 24, 23, 30))
        window = await store.events(user, since=local - timedelta(minutes=1), until=local)
        assert window == []
    finally:
        await store.close()


async def test_users_are_kept_apart_by_platform(db_url: str) -> None:
    await upgrade_async(db_url)
    store = EmotionStore(db_url)
    telegram, discord = UserRef("telegram", "7"), UserRef("discord", "7")
    try:
        for user in (telegram, discord):
            await store.set_consent(user, True)
        await store.record_emotion(telegram, SAD, datetime.now(UTC))
        assert await store.count_events(telegram) == 1
        assert await store.count_events(discord) == 0
    finally:
        await store.close()


async def test_concurrent_writers_never_see_database_is_locked(db_url: str) -> None:
    """8 writers, each with its own engine (its own connections), all writing at once."""
    await upgrade_async(db_url)
    writers, per_writer = 8, 40
    setup = EmotionStore(db_url)
    users = [UserRef("console", f"w{i}") for i in range(writers)]
    for user in users:
        await setup.set_consent(user, True)

    async def write(user: UserRef) -> None:
        store = EmotionStore(db_url)
        try:
            for _ in range(per_writer):
                await store.record_emotion(user, SAD, datetime.now(UTC))
        finally:
            await store.close()

    try:
        await asyncio.gather(*(write(u) for u in users))
        assert await setup.count_events() == writers * per_writer
        for user in users:
            assert await setup.count_events(user) == per_writer
    finally:
        await setup.close()


async def test_concurrent_first_contact_creates_one_user(db_url: str) -> None:
    await upgrade_async(db_url)
    stores = [EmotionStore(db_url) for _ in range(4)]
    user = UserRef("discord", "same-person")
    try:
        records = await asyncio.gather(*(s.ensure_user(user) for s in stores))
        assert len({r.id for r in records}) == 1
    finally:
        for store in stores:
            await store.close()


async def test_export_and_forget(db_url: str) -> None:
    await upgrade_async(db_url)
    store = EmotionStore(db_url)
    user, other = UserRef("telegram", "1"), UserRef("telegram", "2")
    try:
        for u in (user, other):
            await store.set_consent(u, True)
            await store.record_emotion(u, SAD, datetime.now(UTC))
        exported = await store.export(user)
        assert exported["user"]["platform_user_id"] == "1"
        assert [e["label"] for e in exported["emotion_events"]] == ["슬픔"]
        assert await store.forget(user) is True
        assert await store.get_user(user) is None
        assert await store.count_events(user) == 0
        assert await store.count_events(other) == 1
        assert await store.forget(user) is False
        assert (await store.export(user)) == {"user": None, "emotion_events": [], "checkin": None}
    finally:
        await store.close()


async def test_retention_purges_old_events(db_url: str) -> None:
    await upgrade_async(db_url)
    store = EmotionStore(db_url)
    user = UserRef("console", "me")
    now = datetime(2026, 11, 25, tzinfo=UTC)
    try:
        await store.set_consent(user, True)
        await store.record_emotion(user, SAD, now - timedelta(days=400))
        await store.record_emotion(user, SAD, now - timedelta(days=3))
        assert await store.purge_older_than(365, now=now) == 1
        assert [e.occurred_at for e in await store.events(user)] == [now - timedelta(days=3)]
    finally:
        await store.close()


def test_urls_pick_async_drivers() -> None:
    assert normalize_url("sqlite:///x.db").startswith("sqlite+aiosqlite:///")
    assert normalize_url("postgresql://u:p@h/db").startswith("postgresql+asyncpg://u:p@h/db")
    assert normalize_url("postgresql+asyncpg://h/db") == "postgresql+asyncpg://h/db"

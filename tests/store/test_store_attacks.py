"""Issue 11's attacks on the store: two processes migrating a fresh PostgreSQL at once, and
privacy (nothing about a person before consent; a "no" and /forget leave no trace, inbox
included), on SQLite and on the machine's real PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text

from engine.store import EmotionStore, create_engine_for
from engine.store.migrate import alembic_config, current_revision, upgrade_async
from engine.types import EmotionPrediction, InboxEntry, IncomingMessage, UserRef
from tests.conftest import REPO, reset_postgres_async
from tests.fakes.engine import make_engine, say

SAD = EmotionPrediction("슬픔", 0.8, {"슬픔": 0.8, "우울": 0.2})
TABLES = ("users", "emotion_events", "checkins", "inbox")
SECRET = "INBOX-SECRET-4b1d 아무에게도 못 한 이야기"

# Imports first, then "ready", then the migration only once the parent says "go": both processes
# reach alembic within a millisecond of each other instead of whenever their imports finish.
MIGRATE_ON_GO = (
    "import sys\n"
    "from engine.store.migrate import upgrade\n"
    "print('ready', flush=True)\n"
    "sys.stdin.readline()\n"
    "upgrade(sys.argv[1])\n"
)


async def rows(url: str) -> dict[str, int]:
    engine = create_engine_for(url)
    try:
        async with engine.connect() as conn:
            counts = {}
            for table in TABLES:
                counts[table] = int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
            return counts
    finally:
        await engine.dispose()


def entry(entry_id: str, user: UserRef | None, payload: str = SECRET) -> InboxEntry:
    return InboxEntry(entry_id, user.key if user else None, payload, datetime.now(UTC))


# Two processes starting at once on a fresh PostgreSQL ----------------------------------------


async def test_two_processes_migrating_a_fresh_postgres_at_once_both_succeed(pg_url: str) -> None:
    # Without the advisory lock in migrations/env.py both would run 0001 at once: the second
    # CREATE TABLE waits on the first one's uncommitted pg_type row, then fails on
    # pg_type_typname_nsp_index (or "relation already exists") once the first commits.
    head = ScriptDirectory.from_config(alembic_config(pg_url)).get_current_head()
    try:
        for _ in range(3):
            await reset_postgres_async(pg_url)
            procs = [
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-c",
                    MIGRATE_ON_GO,
                    pg_url,
                    cwd=REPO,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                for _ in range(2)
            ]
            try:
                for proc in procs:
                    assert proc.stdout is not None
                    assert (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() == b"ready"
                for proc in procs:
                    assert proc.stdin is not None
                    proc.stdin.write(b"go\n")
                    await proc.stdin.drain()
                results = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 60)
            finally:
                for proc in procs:
                    if proc.returncode is None:
                        proc.kill()
                        await proc.wait()
            for proc, (_out, err) in zip(procs, results, strict=True):
                assert proc.returncode == 0, err.decode(errors="replace")
            assert await current_revision(pg_url) == head
            assert await rows(pg_url) == dict.fromkeys(TABLES, 0)  # every table there, once
    finally:
        await reset_postgres_async(pg_url)


# Privacy ---------------------------------------------------------------------------------------


async def test_a_first_message_without_consent_leaves_no_user_row(
    db_url: str, tiny_emotion_model: Path, tiny_chat_model: Path
) -> None:
    engine = make_engine(tiny_emotion_model, tiny_chat_model, db_url)
    await engine.start()
    person = UserRef("telegram", "4242")
    try:
        result, stored = await say(engine, IncomingMessage(person, "오늘 너무 우울해", update_id="1:100"))
        assert result.reply and stored is False
        _, again = await say(engine, IncomingMessage(person, "시험 망했어", update_id="1:101"))
        assert again is False
        assert (await engine.user_status(person)).known is False
        assert await rows(db_url) == dict.fromkeys(TABLES, 0)  # no trace that they ever wrote
        assert await engine.store.is_processed("telegram", "1:100")  # only "update 100 was answered"
    finally:
        await engine.close()


async def test_saying_no_after_saying_yes_deletes_everything_about_the_person(db_url: str) -> None:
    await upgrade_async(db_url)
    store = EmotionStore(db_url)
    person, other = UserRef("discord", "31"), UserRef("discord", "32")
    start = datetime.now(UTC) - timedelta(hours=1)
    try:
        for ref in (person, other):
            await store.set_consent(ref, True)
            for minute in range(3):
                assert await store.record_emotion(ref, SAD, start + timedelta(minutes=minute))
            await store.set_timezone(ref, "Asia/Seoul")
            await store.set_checkin(ref, "21:00")
        await store.inbox_add("discord:1", [entry("a", person), entry("b", other)])
        assert await rows(db_url) == {"users": 2, "emotion_events": 6, "checkins": 2, "inbox": 2}

        await store.set_consent(person, False)
        assert await store.get_user(person) is None
        assert await store.count_events(person) == 0 and await store.get_checkin(person) is None
        assert await rows(db_url) == {"users": 1, "emotion_events": 3, "checkins": 1, "inbox": 1}
        assert [e.entry_id for e in await store.inbox_pending("discord:1")] == ["b"]  # only theirs went
        assert (await store.export(person))["user"] is None
        # And a later message is still not recorded: "no" is not "not asked".
        assert await store.record_emotion(person, SAD, datetime.now(UTC)) is False
        assert await store.get_user(person) is None
    finally:
        await store.close()


async def test_forget_deletes_the_persons_inbox_entries(db_url: str) -> None:
    await upgrade_async(db_url)
    store = EmotionStore(db_url)
    known, unknown, other = UserRef("telegram", "1"), UserRef("telegram", "2"), UserRef("telegram", "3")
    try:
        await store.set_consent(known, True)
        await store.inbox_add("telegram:9", [entry("10", known), entry("11", unknown), entry("12", other)])
        await store.inbox_add("telegram:8", [entry("10", known)])  # another bot's channel
        await store.inbox_add("telegram:9", [entry("13", None)])  # an update without a person
        assert await store.forget(known) is True
        # Someone who never consented has no row, but their waiting messages are theirs too.
        assert await store.forget(unknown) is False
        assert sorted(e.entry_id for e in await store.inbox_pending("telegram:9")) == ["12", "13"]
        assert await store.inbox_pending("telegram:8") == []
        assert await store.get_user(known) is None
    finally:
        await store.close()


def sqlite_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


async def test_forget_leaves_no_inbox_text_in_the_sqlite_files(tmp_path: Path) -> None:
    db = tmp_path / "maeum.db"
    url = f"sqlite+aiosqlite:///{db}"
    await upgrade_async(url)
    store = EmotionStore(url)
    stranger = UserRef("telegram", "77")  # no consent, no user row: only their waiting messages
    secret = SECRET.encode()
    try:
        await store.inbox_add("telegram:9", [entry(str(i), stranger) for i in range(20)])
        assert secret in sqlite_bytes(db)  # the check below can fail
        await store.forget(stranger)
        assert await store.inbox_pending("telegram:9") == []
        # Looked at while the store is open, as it is in a running bot: closing the last
        # connection checkpoints the WAL and would hide what a running process leaves behind.
        assert secret not in sqlite_bytes(db)
    finally:
        await store.close()
    assert secret not in sqlite_bytes(db)

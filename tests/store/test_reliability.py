"""Reliability for people in distress: handled once, never lost, never a dead bot."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.client import InProcessEngine
from engine.conversation.ratelimit import RateLimiter
from engine.conversation.service import RATE_LIMITED_REPLY, ConversationPolicy
from engine.inference.generation import DecodingConfig
from engine.inference.models import ModelConfig, ModelSet
from engine.store import EmotionStore
from engine.store.migrate import upgrade, upgrade_async
from engine.types import EmotionPrediction, IncomingMessage, ReplySource, UserRef
from tests.conftest import REPO
from tests.fakes.engine import say

SAD = EmotionPrediction("슬픔", 0.8, {"슬픔": 0.8})


@pytest.fixture
async def engine(
    tiny_emotion_model: Path, tiny_chat_model: Path, sqlite_url: str
) -> AsyncIterator[InProcessEngine]:
    models = ModelSet(
        ModelConfig(
            str(tiny_emotion_model),
            str(tiny_chat_model),
            device="cpu",
            decoding=DecodingConfig(max_new_tokens=4),
        )
    )
    engine = InProcessEngine(models, EmotionStore(sqlite_url), ConversationPolicy(rate_per_minute=0))
    await engine.start()
    yield engine
    await engine.close()


async def test_a_redelivered_update_is_handled_once(engine: InProcessEngine) -> None:
    user = UserRef("telegram", "5")
    await engine.set_consent(user, True)
    first, _ = await say(engine, IncomingMessage(user, "오늘 기분이 좋아요", update_id="1001"))
    again, _ = await say(engine, IncomingMessage(user, "오늘 기분이 좋아요", update_id="1001"))
    assert first.source is not ReplySource.DUPLICATE and first.reply
    assert again.source is ReplySource.DUPLICATE and again.reply == ""
    assert len((await engine.export(user))["emotion_events"]) == 1
    # The same id on another platform is another update.
    other, _ = await say(engine, IncomingMessage(UserRef("discord", "5"), "안녕", update_id="1001"))
    assert other.source is not ReplySource.DUPLICATE


async def test_handled_once_across_a_restart(tiny_emotion_model: Path, sqlite_url: str) -> None:
    user = UserRef("telegram", "9")

    async def deliver() -> ReplySource:
        engine = InProcessEngine(
            ModelSet(ModelConfig(str(tiny_emotion_model), None, device="cpu", warmup=False)),
            EmotionStore(sqlite_url),
        )
        await engine.start()
        try:
            await engine.set_consent(user, True)
            return (await say(engine, IncomingMessage(user, "시험 끝났다", update_id="77")))[0].source
        finally:
            await engine.close()

    assert await deliver() is not ReplySource.DUPLICATE
    assert await deliver() is ReplySource.DUPLICATE


async def test_crisis_card_does_not_wait_for_a_locked_database(
    tiny_emotion_model: Path, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'locked.db'}"
    await upgrade_async(url)
    engine = InProcessEngine(
        ModelSet(ModelConfig(str(tiny_emotion_model), None, device="cpu", warmup=False)), EmotionStore(url)
    )
    await engine.start()
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    try:
        result = await asyncio.wait_for(
            engine.respond(IncomingMessage(UserRef("telegram", "1"), "죽고 싶어", update_id="5")), timeout=2
        )
        assert result.source is ReplySource.CRISIS and "109" in result.reply
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        await engine.close()  # drains the background count once the lock is gone
    store = EmotionStore(url)
    try:
        assert await store.count_crisis_events() == 1
        # The heightened state was written in the background too, once the lock was gone.
        assert await store.heightened_until("telegram:1", datetime.now(UTC)) is not None
    finally:
        await store.close()


async def test_a_briefly_locked_database_loses_no_reply_and_no_event(
    tiny_emotion_model: Path, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}"
    await upgrade_async(url)
    engine = InProcessEngine(
        ModelSet(ModelConfig(str(tiny_emotion_model), None, device="cpu", warmup=False)), EmotionStore(url)
    )
    await engine.start()
    user = UserRef("console", "me")
    await engine.set_consent(user, True)
    holder = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        pending = asyncio.ensure_future(say(engine, IncomingMessage(user, "오늘 좀 지쳤어")))
        await asyncio.sleep(0.3)  # the write is now waiting on the lock
        holder.execute("ROLLBACK")
        result, stored = await asyncio.wait_for(pending, timeout=30)
    finally:
        holder.close()
        await engine.close()
    assert result.reply and stored is True
    assert await EmotionStore(url).count_events(user) == 1


async def test_rate_limit_answers_kindly_and_recovers() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=6, burst=2, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert limiter.allow("b")  # people are limited separately
    now[0] += 10.0  # 6 a minute: one token back every 10 s
    assert limiter.allow("a") and not limiter.allow("a")


async def test_flooding_user_gets_the_rate_message(tiny_emotion_model: Path, sqlite_url: str) -> None:
    engine = InProcessEngine(
        ModelSet(ModelConfig(str(tiny_emotion_model), None, device="cpu", warmup=False)),
        EmotionStore(sqlite_url),
        ConversationPolicy(rate_per_minute=1, rate_burst=2),
    )
    await engine.start()
    try:
        user = UserRef("telegram", "flood")
        results = [await engine.respond(IncomingMessage(user, f"메시지 {i}")) for i in range(5)]
        sources = [r.source for r in results]
        calm = await engine.respond(IncomingMessage(UserRef("telegram", "calm"), "안녕"))
    finally:
        await engine.close()
    # Two allowed, then ONE notice for the whole flood, then nothing to send.
    assert ReplySource.GUARD not in sources[:2] and ReplySource.QUIET not in sources[:2]
    assert sources[2] is ReplySource.GUARD and results[2].reply == RATE_LIMITED_REPLY
    assert sources[3:] == [ReplySource.QUIET] * 2 and all(r.reply == "" for r in results[3:])
    assert calm.source is not ReplySource.GUARD


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(max_size=300)
    | st.sampled_from(["", " ", "🙂" * 50, "\u202e악\u202c", "가" * 20_000, "\x00" * 10])
)
async def test_fuzz_the_whole_message_path(engine: InProcessEngine, text: str) -> None:
    result = await engine.respond(IncomingMessage(UserRef("telegram", "fuzz"), text))
    assert isinstance(result.reply, str) and result.reply.strip()
    assert result.source in set(ReplySource) - {ReplySource.DUPLICATE}


async def test_eight_writers_three_hundred_transactions_each(db_url: str) -> None:
    await upgrade_async(db_url)
    writers, per_writer = 8, 300
    users = [UserRef("console", f"writer-{i}") for i in range(writers)]
    setup = EmotionStore(db_url)
    for user in users:
        await setup.set_consent(user, True)
    errors: list[BaseException] = []

    async def write(user: UserRef) -> None:
        store = EmotionStore(db_url)
        try:
            for i in range(per_writer):
                try:
                    await store.record_emotion(user, SAD, datetime.now(UTC), update_id=f"{user.user_id}-{i}")
                except BaseException as exc:
                    errors.append(exc)
        finally:
            await store.close()

    try:
        await asyncio.gather(*(write(u) for u in users))
        assert errors == []
        assert await setup.count_events() == writers * per_writer
        for user in users:
            assert await setup.count_events(user) == per_writer
    finally:
        await setup.close()


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import UTC, datetime
    from engine.store import EmotionStore
    from engine.types import EmotionPrediction, UserRef

    async def main(url, start):
        store = EmotionStore(url)
        user = UserRef("console", "crash")
        i = start
        while True:
            await store.record_emotion(user, EmotionPrediction("기쁨", 0.9, {"기쁨": 0.9}),
                                       datetime.now(UTC), require_consent=False, update_id=str(i))
            print(i, flush=True)  # acknowledged: committed before this line is printed
            i += 1

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)


def test_kill_dash_nine_loses_no_acknowledged_event(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    url = f"sqlite+aiosqlite:///{db}"
    upgrade(url)
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    acknowledged: set[int] = set()
    next_id = 0
    for round_ in range(20):
        proc = subprocess.Popen(
            [sys.executable, str(script), url, str(next_id)], stdout=subprocess.PIPE, text=True, env=env
        )
        assert proc.stdout is not None
        target = 3 + round_ % 5  # kill at a different point each round
        for _ in range(target):
            line = proc.stdout.readline()
            assert line, "the writer died on its own"
            acknowledged.add(int(line))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        next_id = max(acknowledged) + 1000  # fresh ids: whatever was in flight may or may not be there
    check = sqlite3.connect(db)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = {int(row[0]) for row in check.execute("SELECT update_id FROM processed_updates")}
        assert acknowledged <= stored
        events = check.execute("SELECT count(*) FROM emotion_events").fetchone()[0]
        assert events == len(stored)  # each processed update has exactly its one event
    finally:
        check.close()


async def test_graceful_shutdown_answers_work_in_flight(engine: InProcessEngine) -> None:
    users = [UserRef("telegram", f"s{i}") for i in range(6)]
    pending = [asyncio.ensure_future(engine.respond(IncomingMessage(u, "잘 자요"))) for u in users]
    await asyncio.sleep(0)
    await engine.close()
    results = await asyncio.gather(*pending, return_exceptions=True)
    assert all(not isinstance(r, BaseException) and r.reply for r in results)

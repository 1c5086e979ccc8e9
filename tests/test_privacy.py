"""Privacy by default: consent, no message text stored or logged, deletion that is unrecoverable."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.client import InProcessEngine
from engine.inference.models import ModelConfig, ModelSet
from engine.store import EmotionStore
from engine.store.migrate import upgrade_async
from engine.types import EmotionPrediction, IncomingMessage, UserRef
from tests.fakes.engine import make_engine

MARKER = "MARKER-7f3a9c"


def _database_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


async def test_forget_is_unrecoverable_in_the_sqlite_files(tmp_path: Path) -> None:
    db = tmp_path / "maeum.db"
    url = f"sqlite+aiosqlite:///{db}"
    await upgrade_async(url)
    store = EmotionStore(url)
    user, other = UserRef("telegram", MARKER + "-user"), UserRef("telegram", "someone-else")
    try:
        for ref in (user, other):
            await store.set_consent(ref, True)
        for _ in range(50):
            await store.record_emotion(user, EmotionPrediction(MARKER, 0.9, {MARKER: 0.9}), datetime.now(UTC))
        await store.record_emotion(other, EmotionPrediction("기쁨", 0.9, {"기쁨": 0.9}), datetime.now(UTC))
        assert MARKER.encode() in _database_bytes(db)  # the check below can fail
        assert await store.forget(user)
    finally:
        await store.close()
    assert MARKER.encode() not in _database_bytes(db)
    check = EmotionStore(url)
    try:
        assert await check.count_events(other) == 1  # only that person's data went
    finally:
        await check.close()


async def test_logs_never_contain_message_text(
    tiny_emotion_model: Path, tiny_chat_model: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(tiny_emotion_model, tiny_chat_model, sqlite_url)
    secret = "비밀스러운고민내용"
    user = UserRef("telegram", "1")
    with caplog.at_level(logging.DEBUG):
        await engine.start()
        try:
            await engine.set_consent(user, True)
            await engine.respond(IncomingMessage(user, f"{secret} 너무 힘들어"))
            await engine.respond(IncomingMessage(user, f"{secret} 죽고 싶어"))

            def broken(batch: list[str]) -> list[object]:
                raise RuntimeError(f"model crashed on {batch}")  # an error that carries the text

            engine.worker._handlers = {**engine.worker._handlers, "emotion": broken}
            await engine.respond(IncomingMessage(user, f"{secret} 또 힘들어"))
        finally:
            await engine.close()
    everything = caplog.text + "".join(str(r.args) + str(r.exc_info) for r in caplog.records)
    assert caplog.records  # there was logging at DEBUG to search
    assert secret not in everything


async def test_retention_purges_on_start(tiny_emotion_model: Path, sqlite_url: str) -> None:
    await upgrade_async(sqlite_url)
    store = EmotionStore(sqlite_url)
    user = UserRef("console", "me")
    now = datetime.now(UTC)
    await store.set_consent(user, True)
    await store.record_emotion(user, EmotionPrediction("기쁨", 0.9), now - timedelta(days=40))
    await store.record_emotion(user, EmotionPrediction("기쁨", 0.9), now - timedelta(days=1))
    await store.close()
    engine = InProcessEngine(
        ModelSet(ModelConfig(str(tiny_emotion_model), None, device="cpu", warmup=False)),
        EmotionStore(sqlite_url),
        retention_days=30,
    )
    await engine.start(load_models=False)
    try:
        await asyncio.wait_for(engine.retention_ran.wait(), timeout=10)
        assert len((await engine.export(user))["emotion_events"]) == 1
    finally:
        await engine.close()

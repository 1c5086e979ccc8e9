"""Soak: 200 simulated Telegram users at a sustained rate, through the real Application and the
real engine (tiny models), against the loopback fake Bot API. Bounded in count and time."""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.telegram_bot import TelegramRunner
from engine.client import InProcessEngine
from engine.settings import Settings
from tests.fakes import network
from tests.fakes.engine import make_engine
from tests.fakes.telegram_server import Call, FakeTelegramServer, text_update

TOKEN = "123456789:SOAK-token"
USERS = 200
ROUNDS = 2  # messages per user (the first round is the warm-up)
RATE = 10.0  # messages per second, all users together (below what the loopback harness can serve)
MESSAGES = ["오늘 하루 어땠냐면", "시험 끝나서 좋아", "회사 일이 너무 많아", "그냥 심심해", "내일 비 온대"]


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    guard = network.install(monkeypatch)
    yield
    assert guard.refused == []


@pytest.fixture
async def running(
    tiny_emotion_model: Path, tiny_chat_model: Path, sqlite_url: str, tmp_path: Path
) -> AsyncIterator[tuple[FakeTelegramServer, InProcessEngine]]:
    server = FakeTelegramServer(TOKEN)
    await server.start()
    engine = make_engine(tiny_emotion_model, tiny_chat_model, sqlite_url)
    await engine.start()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, telegram_token=SecretStr(TOKEN), telegram_api_url=server.api_url
    )
    runner = TelegramRunner(engine, settings, poll_timeout=2)
    await runner.start()
    yield server, engine
    await runner.stop()
    await engine.close()
    await server.close()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def is_reply(call: Call) -> bool:
    return call.method == "sendMessage" and not (call.params.get("reply_markup") or {}).get("inline_keyboard")


async def send_round(server: FakeTelegramServer, round_: int, sent: dict[int, list[float]]) -> None:
    for user in range(USERS):
        user_id = 10_000 + user
        sent[user_id].append(time.monotonic())
        await server.queue_update(text_update(user_id, MESSAGES[(user + round_) % len(MESSAGES)]))
        await asyncio.sleep(1 / RATE)  # a sustained rate, not one burst


async def test_two_hundred_users_sustained(
    running: tuple[FakeTelegramServer, InProcessEngine], caplog: pytest.LogCaptureFixture
) -> None:
    server, engine = running
    caplog.set_level(logging.ERROR)
    sent: dict[int, list[float]] = defaultdict(list)
    await send_round(server, 0, sent)  # warm-up round: first contacts, consent prompts, caches
    await server.wait_for("sendMessage", is_reply, count=USERS, within=120)
    before = rss_mb()
    for round_ in range(1, ROUNDS):
        await send_round(server, round_, sent)
    replies = await server.wait_for("sendMessage", is_reply, count=USERS * ROUNDS, within=180)
    after = rss_mb()

    by_user: dict[int, list[Call]] = defaultdict(list)
    for call in replies:
        by_user[int(call.params["chat_id"])].append(call)
    latencies: list[float] = []
    for user_id, times in sent.items():
        answers = by_user[user_id]
        assert len(answers) == ROUNDS, f"user {user_id} got {len(answers)} replies"  # none dropped
        latencies += [answer.at - asked for answer, asked in zip(answers, times, strict=True)]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []  # no unhandled error anywhere on the path
    assert after - before < 150, f"memory grew {after - before:.0f} MB"
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    summary: dict[str, Any] = {
        "messages": USERS * ROUNDS,
        "p50_ms": round(p50 * 1000),
        "p95_ms": round(p95 * 1000),
        "rss_growth_mb": round(after - before, 1),
        "largest_batch": engine.worker.largest_batch,
    }
    print(f"\nsoak: {summary}")  # reported with `pytest -s tests/test_soak.py`

"""Telegram webhook replicas: several ``maeum run telegram`` processes behind one public URL, each
with its own engine over one shared database (SQLite here, PostgreSQL too when one answers).
Telegram may deliver an update again, and the proxy may hand the retry to another replica; people's
messages land on whichever replica the proxy picks. Each is answered exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.telegram_bot import TelegramRunner
from engine.client import InProcessEngine
from tests.bot import test_telegram as tg
from tests.bot.test_telegram import ALICE, TOKEN, buttons, free_port, make_settings, to
from tests.fakes.engine import make_engine
from tests.fakes.telegram_server import BOT_ID, Call, FakeTelegramServer, text_update

loopback_only = tg.loopback_only
server = tg.server

PATH = "maeum/telegram"
SECRET = "replica-Secret_1"


class Replica:
    """One webhook replica: its own engine and TelegramRunner, listening on its own port."""

    def __init__(self, engine: InProcessEngine, runner: TelegramRunner, port: int) -> None:
        self.engine = engine
        self.runner = runner
        self.url = f"http://127.0.0.1:{port}/{PATH}"


@pytest.fixture
async def public_url() -> str:
    """The one URL Telegram is told about (the proxy's); nothing listens there in these tests."""
    return f"http://127.0.0.1:{free_port()}/{PATH}"


@contextlib.asynccontextmanager
async def replicas(
    count: int,
    db_url: str,
    models: tuple[Path, Path],
    server: FakeTelegramServer,
    tmp_path: Path,
    public_url: str,
    **settings: Any,
) -> AsyncIterator[list[Replica]]:
    started: list[Replica] = []
    engines: list[InProcessEngine] = []
    try:
        for _ in range(count):
            engine = make_engine(*models, db_url)
            engines.append(engine)
            await engine.start()
            port = free_port()
            config = make_settings(
                server,
                tmp_path,
                telegram_webhook_url=public_url,
                telegram_webhook_listen="127.0.0.1",
                telegram_webhook_port=port,
                **settings,
            )
            runner = TelegramRunner(engine, config)
            await runner.start()
            started.append(Replica(engine, runner, port))
        yield started
    finally:
        for replica in started:
            await replica.runner.stop()
        for engine in engines:
            await engine.close()


@pytest.fixture
def models(tiny_emotion_model: Path, tiny_chat_model: Path) -> tuple[Path, Path]:
    return tiny_emotion_model, tiny_chat_model


def replies(server: FakeTelegramServer, chat_id: int) -> list[Call]:
    """What a person was answered, the consent question left out."""
    return [c for c in server.calls_to("sendMessage") if to(chat_id)(c) and not buttons(c)]


def prompts(server: FakeTelegramServer, chat_id: int) -> list[Call]:
    return [c for c in server.calls_to("sendMessage") if to(chat_id)(c) and buttons(c)]


async def test_a_redelivery_to_the_other_replica_is_not_answered_again(
    db_url: str, models: tuple[Path, Path], server: FakeTelegramServer, tmp_path: Path, public_url: str
) -> None:
    async with replicas(2, db_url, models, server, tmp_path, public_url, telegram_webhook_secret=SECRET) as (
        a,
        b,
    ):
        assert [c.params["url"] for c in server.calls_to("setWebhook")] == [public_url, public_url]
        update = {**text_update(ALICE, "오늘 너무 우울해"), "update_id": 7001}
        # Replica A answers Telegram only once the update is handled (reply sent, update recorded)...
        assert await server.deliver_webhook(update, url=a.url) == 200
        assert len(replies(server, ALICE)) == 1 and len(prompts(server, ALICE)) == 1
        key = f"{BOT_ID}:7001"
        assert await b.engine.store.is_processed("telegram", key)  # B reads what A wrote
        # ...so when Telegram retries (its answer lost) and the proxy picks B, B stays quiet.
        assert await server.deliver_webhook(update, url=b.url) == 200
        await server.wait_idle("sendMessage")
        assert len(replies(server, ALICE)) == 1 and len(prompts(server, ALICE)) == 1
        # And a third delivery, back on A, too.
        assert await server.deliver_webhook(update, url=a.url) == 200
        await server.wait_idle("sendMessage")
        assert len(replies(server, ALICE)) == 1


async def test_people_spread_over_both_replicas_are_each_answered_once(
    db_url: str, models: tuple[Path, Path], server: FakeTelegramServer, tmp_path: Path, public_url: str
) -> None:
    people = list(range(52000, 52010))
    async with replicas(
        2, db_url, models, server, tmp_path, public_url, telegram_webhook_secret=SECRET
    ) as replica:
        sent = [
            (text_update(person, "오늘 하루 힘들었어"), replica[i % 2]) for i, person in enumerate(people)
        ]
        # One person's two messages, one to each replica, at the same time.
        sent += [
            (text_update(ALICE, "시험 망했어"), replica[0]),
            (text_update(ALICE, "내일 또 시험이야"), replica[1]),
        ]
        updates = [({**update, "update_id": 8000 + n}, r) for n, (update, r) in enumerate(sent)]
        deliveries = [server.deliver_webhook(update, url=r.url) for update, r in updates]
        assert await asyncio.gather(*deliveries) == [200] * len(deliveries)
        await server.wait_idle("sendMessage")
        for person in people:
            assert len(replies(server, person)) == 1, person
            assert len(prompts(server, person)) == 1, person
        assert len(replies(server, ALICE)) == 2
        # Every update is recorded as handled in the one database, whichever replica handled it.
        keys = [f"{BOT_ID}:{update['update_id']}" for update, _ in updates]
        for r in replica:
            assert [await r.engine.store.is_processed("telegram", key) for key in keys] == [True] * len(keys)

        # One replica goes away (a rolling deploy): the webhook stays, the other one answers.
        a, b = replica
        await a.runner.stop()
        assert not server.calls_to("deleteWebhook") and server.webhook_url == public_url
        assert await server.deliver_webhook(text_update(people[0], "아직 여기 있어?"), url=b.url) == 200
        assert len(replies(server, people[0])) == 2


async def test_replicas_without_a_configured_secret_register_the_same_one(
    sqlite_url: str, models: tuple[Path, Path], server: FakeTelegramServer, tmp_path: Path, public_url: str
) -> None:
    async with replicas(2, sqlite_url, models, server, tmp_path, public_url) as (a, b):
        registered = [c.params["secret_token"] for c in server.calls_to("setWebhook")]
        assert len(registered) == 2 and registered[0] == registered[1]
        secret = registered[0]
        assert re.fullmatch(r"[A-Za-z0-9_-]{32,256}", secret) and secret not in TOKEN
        # Telegram sends the secret it was told last; both replicas accept it.
        for person, replica in ((53001, a), (53002, b)):
            assert (
                await server.deliver_webhook(text_update(person, "오늘 너무 우울해"), url=replica.url) == 200
            )
            assert len(replies(server, person)) == 1
        assert await server.deliver_webhook(text_update(53003, "가짜"), url=a.url, secret="wrong") == 403
    # A restart registers it again, unchanged (a per-start secret would lock out the others).
    async with replicas(1, sqlite_url, models, server, tmp_path, public_url):
        assert server.calls_to("setWebhook")[-1].params["secret_token"] == secret

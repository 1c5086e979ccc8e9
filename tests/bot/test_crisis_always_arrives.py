"""The crisis card never depends on the database: attacks from issue 11, reproduced on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
from sqlalchemy.engine import make_url

from bot.compose import build_discord
from bot.telegram_bot import TelegramRunner
from engine.client import InProcessEngine
from engine.safety import HEIGHTENED_REPLY_SUFFIX
from engine.store.migrate import upgrade_async
from engine.types import IncomingMessage, ReplySource, UserRef
from tests.bot import test_discord as discord_tests
from tests.bot import test_telegram as telegram_tests
from tests.fakes.discord_server import FakeDiscordServer, dm_message
from tests.fakes.engine import make_engine
from tests.fakes.tcp_proxy import TcpProxy
from tests.fakes.telegram_server import FakeTelegramServer, text_update

CRISIS = "죽고 싶어 오늘 다 끝낼 거야"
loopback_only = telegram_tests.loopback_only


@pytest.fixture
async def proxied_pg(pg_url: str) -> AsyncIterator[tuple[str, TcpProxy]]:
    """A fresh PostgreSQL schema reached through a proxy the test can kill."""
    from tests.conftest import reset_postgres_async

    await reset_postgres_async(pg_url)
    target = make_url(pg_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    url = target.set(port=proxy.port).render_as_string(hide_password=False)
    await upgrade_async(url)
    yield url, proxy
    await proxy.close()
    await reset_postgres_async(pg_url)


@pytest.fixture
async def engine_without_db(
    tiny_emotion_model: Path, tiny_chat_model: Path, proxied_pg: tuple[str, TcpProxy]
) -> AsyncIterator[InProcessEngine]:
    url, proxy = proxied_pg
    engine = make_engine(tiny_emotion_model, tiny_chat_model, url)
    await engine.start()
    # One successful round trip first, so the pool holds connections that then break.
    await engine.set_consent(UserRef("telegram", str(telegram_tests.ALICE)), True)
    await proxy.kill()
    yield engine
    await asyncio.wait_for(engine.close(), timeout=60)


async def test_engine_gives_the_card_at_once_with_postgres_gone(engine_without_db: InProcessEngine) -> None:
    person = UserRef("telegram", "1")
    message = IncomingMessage(person, CRISIS, update_id="9")
    # No retrying a dead database before the card: well under the store's ~1.5 s of backoff. The
    # heightened state is written in the background (and fails there), never before the card.
    result = await asyncio.wait_for(engine_without_db.respond(message), timeout=0.5)
    assert result.source is ReplySource.CRISIS and "109" in result.reply
    # The next reply still comes, and still carefully: this process remembers, the store is gone.
    later = await asyncio.wait_for(
        engine_without_db.respond(IncomingMessage(person, "고마워 좀 나아졌어", update_id="10")), timeout=30
    )
    assert later.source is not ReplySource.CRISIS and later.reply.endswith(HEIGHTENED_REPLY_SUFFIX)
    # Someone this process does not remember: the shared state cannot be read, the reply comes.
    other = IncomingMessage(UserRef("telegram", "2"), "오늘 회사에서 좀 지쳤어", update_id="11")
    unknown = await asyncio.wait_for(engine_without_db.respond(other), timeout=30)
    assert unknown.reply and not unknown.reply.endswith(HEIGHTENED_REPLY_SUFFIX)


async def test_telegram_sends_the_card_with_postgres_gone(
    engine_without_db: InProcessEngine, tmp_path: Path
) -> None:
    server = FakeTelegramServer(telegram_tests.TOKEN)
    await server.start()
    runner = TelegramRunner(engine_without_db, telegram_tests.make_settings(server, tmp_path), poll_timeout=5)
    await runner.start()
    try:
        await server.queue_update(text_update(telegram_tests.ALICE, CRISIS))
        [card] = await server.wait_for("sendMessage", telegram_tests.to(telegram_tests.ALICE), within=5)
        assert "109" in card.params["text"]
        await server.wait_idle("sendMessage")
        # Only the card: no "something went wrong" after it, no consent question without a store.
        assert len(server.calls_to("sendMessage")) == 1
    finally:
        await runner.stop()
        await server.close()


async def test_discord_dm_gets_the_card_with_postgres_gone(
    engine_without_db: InProcessEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = FakeDiscordServer(discord_tests.TOKEN)
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
    bot = build_discord(discord_tests.make_settings(server, tmp_path), engine_without_db)
    try:
        async with bot:
            await discord_tests.logged_in(bot)
            dm = dm_message(discord_tests.ALICE, CRISIS)
            bot._connection.parse_message_create(dm)  # type: ignore[arg-type]
            in_dm = lambda call: call.match["channel"] == dm["channel_id"]  # noqa: E731
            [card] = await server.wait_for(discord_tests.CHANNEL_MESSAGE, in_dm, within=5)
            assert "109" in card.json["content"]
            await server.wait_idle()
            assert len(server.calls_to(discord_tests.CHANNEL_MESSAGE)) == 1
    finally:
        await server.close()

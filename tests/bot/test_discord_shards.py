"""Discord sharding end to end on loopback: bot processes (here: bot instances, each with its own
engine over one database) connect to the fake gateway, IDENTIFY as their shard, and only the one
that runs shard 0 syncs the slash commands. Events then arrive over the shard's own connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl
from discord.ext import commands

from bot.common import ShardPlan, shard_plan
from bot.compose import build_discord
from bot.discord_bot import MaeumDiscordBot, ShardedMaeumDiscordBot
from bot.run import serve
from engine.client import InProcessEngine
from engine.types import ConversationResult, IncomingMessage
from tests.bot import test_discord as discord_tests
from tests.bot.test_discord import ALICE, BOB, CHANNEL_MESSAGE, TOKEN, make_settings
from tests.fakes.discord_server import (
    BOT_USER_ID,
    GUILD_CHANNEL_ID,
    GUILD_ID,
    IDENTIFY,
    Call,
    FakeDiscordServer,
    dm_message,
    guild_message,
)
from tests.fakes.engine import make_engine

loopback_only = discord_tests.loopback_only
server = discord_tests.server

GLOBAL_SYNC = "PUT /applications/{app}/commands"
GUILD_SYNC = "PUT /applications/{app}/guilds/{guild}/commands"


@pytest.fixture(autouse=True)
def fake_gateway(server: FakeDiscordServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # discord.py connects to this class attribute's URL whenever the shard count is known.
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))


@pytest.fixture
async def engines(
    tiny_emotion_model: Path, tiny_chat_model: Path, sqlite_url: str
) -> AsyncIterator[list[InProcessEngine]]:
    """One engine per bot process, all over the same database (as shard processes are)."""
    started: list[InProcessEngine] = []
    try:
        for _ in range(2):
            engine = make_engine(tiny_emotion_model, tiny_chat_model, sqlite_url)
            await engine.start()
            started.append(engine)
        yield started
    finally:
        for engine in started:
            await engine.close()


@contextlib.asynccontextmanager
async def running(bot: MaeumDiscordBot) -> AsyncIterator[asyncio.Task[None]]:
    """``bot.start(token)`` (login, setup_hook, gateway) on a task; closed and awaited after."""
    task = asyncio.create_task(bot.start(TOKEN))
    try:
        yield task
    finally:
        await bot.close()
        await asyncio.wait_for(task, 10)


def answered_by(engine: InProcessEngine, seen: list[str]) -> None:
    """Record, in ``seen``, the update ids ``engine`` was asked to respond to (never the text)."""
    respond: Callable[[IncomingMessage], Awaitable[ConversationResult]] = engine.respond

    async def recording(message: IncomingMessage) -> ConversationResult:
        seen.append(message.update_id or "")
        return await respond(message)

    engine.respond = recording  # type: ignore[method-assign]


def identified(server: FakeDiscordServer) -> list[Any]:
    return [call.json.get("shard") for call in server.calls_to(IDENTIFY)]


def replies_to(message: dict[str, Any]) -> Callable[[Call], bool]:
    return lambda call: str((call.json.get("message_reference") or {}).get("message_id")) == message["id"]


async def test_two_shard_processes_identify_as_their_shard_and_only_shard_0_syncs_commands(
    engines: list[InProcessEngine], server: FakeDiscordServer, tmp_path: Path
) -> None:
    first, second = engines
    zero = build_discord(make_settings(server, tmp_path, discord_shard_count=2, discord_shard_ids="0"), first)
    one = build_discord(make_settings(server, tmp_path, discord_shard_count=2, discord_shard_ids="1"), second)
    for bot in (zero, one):
        assert isinstance(bot, ShardedMaeumDiscordBot) and isinstance(bot, commands.AutoShardedBot)
    assert zero.shards_plan == ShardPlan(2, (0,)) and one.shards_plan == ShardPlan(2, (1,))
    seen: dict[str, list[str]] = {"0": [], "1": []}
    answered_by(first, seen["0"])
    answered_by(second, seen["1"])

    async with zero, one:
        # Shard 1's process first: it connects as shard 1 of 2 and leaves the commands alone.
        async with running(one):
            [call] = await server.wait_for(IDENTIFY)
            assert call.json["shard"] == [1, 2]
            assert call.json["intents"] == one.intents.value
            assert call.query.get("v") == "10"
            assert server.calls_to("GET /users/@me")  # it did log in (setup_hook ran before this)
            assert not server.calls_to(GLOBAL_SYNC) and not server.calls_to(GUILD_SYNC)

            # Then shard 0's: it connects as shard 0 of 2 and syncs, once.
            async with running(zero):
                await server.wait_for(IDENTIFY, count=2)
                assert sorted(identified(server)) == [[0, 2], [1, 2]]
                assert len(server.calls_to(GLOBAL_SYNC)) == 1 and not server.calls_to(GUILD_SYNC)
                assert set(server.shard_sockets) == {0, 1}

                # A DM arrives on shard 0, a server's messages on that server's shard: each is
                # answered once, by the process holding that shard.
                assert server.shard_of_guild(GUILD_ID, 2) == 1
                dm = dm_message(ALICE, "오늘 너무 우울해")
                await server.dispatch(0, "MESSAGE_CREATE", dm)
                mention = guild_message(BOB, "회사에서 발표를 망쳐서 속상해", mention_bot=True)
                await server.dispatch(1, "MESSAGE_CREATE", mention)
                await server.wait_for(CHANNEL_MESSAGE, lambda c: c.match["channel"] == dm["channel_id"])
                await server.wait_for(CHANNEL_MESSAGE, replies_to(mention))
                await server.wait_idle()
                assert [key.rsplit(":", 1)[1] for key in seen["0"]] == [dm["id"]]
                assert [key.rsplit(":", 1)[1] for key in seen["1"]] == [mention["id"]]
                in_channel = server.calls_to(CHANNEL_MESSAGE)
                assert len([c for c in in_channel if c.match["channel"] == str(GUILD_CHANNEL_ID)]) == 1

    assert len(server.calls_to(GLOBAL_SYNC)) == 1
    assert server.shard_sockets == {}  # both closed their connection


async def test_guild_sync_also_happens_only_on_shard_0(
    engines: list[InProcessEngine], server: FakeDiscordServer, tmp_path: Path
) -> None:
    for ids, engine in zip(("1", "0"), engines, strict=True):
        settings = make_settings(
            server, tmp_path, discord_shard_count=2, discord_shard_ids=ids, discord_guild_id=GUILD_ID
        )
        bot = build_discord(settings, engine)
        async with bot:
            await bot.login(TOKEN)  # setup_hook: where the sync happens
        expected = 0 if ids == "1" else 1
        assert len(server.calls_to(GUILD_SYNC)) == expected and not server.calls_to(GLOBAL_SYNC)


async def test_unsharded_is_a_plain_bot_with_one_unsharded_connection(
    engines: list[InProcessEngine], server: FakeDiscordServer, tmp_path: Path
) -> None:
    bot = build_discord(make_settings(server, tmp_path), engines[0])
    assert type(bot) is MaeumDiscordBot and not isinstance(bot, commands.AutoShardedBot)
    assert bot.shards_plan is None and bot.shard_count is None
    async with bot, running(bot):
        [call] = await server.wait_for(IDENTIFY)
        assert "shard" not in call.json
        assert len(server.calls_to(GLOBAL_SYNC)) == 1
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        assert bot.user is not None and bot.user.id == BOT_USER_ID


def test_the_shard_plan_from_settings() -> None:
    assert shard_plan(None, None) is None
    assert shard_plan(2, None) == ShardPlan(2) and ShardPlan(2).owns_shard_zero
    assert shard_plan(4, [3, 1]) == ShardPlan(4, (1, 3)) and not ShardPlan(4, (1, 3)).owns_shard_zero
    assert shard_plan(4, [2, 0]) is not None and ShardPlan(4, (0, 2)).owns_shard_zero
    for count, ids in ((None, [0]), (2, [2]), (2, [-1]), (2, [0, 0]), (2, [])):
        with pytest.raises(ValueError, match="MAEUM_DISCORD_SHARD"):
            shard_plan(count, ids)


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: Any) -> Any:
        raise AssertionError("the engine was built despite the bad shard settings")

    monkeypatch.setattr("bot.run.build_engine", refuse)
    yield


async def test_run_refuses_shard_ids_it_cannot_honour_with_one_line(
    server: FakeDiscordServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_engine: None
) -> None:
    settings = make_settings(server, tmp_path, discord_shard_count=2, discord_shard_ids="0,2")
    assert await serve(settings, ("discord",), stop=asyncio.Event()) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["maeum: MAEUM_DISCORD_SHARD_IDS must be distinct numbers from 0 to 1"]
    assert server.calls == []

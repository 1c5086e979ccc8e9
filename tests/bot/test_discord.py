"""The Discord adapter end to end on loopback: the real commands.Bot (cogs, command tree, views)
against a fake REST API, events delivered through discord.py's own gateway parsing, over the REAL
in-process engine with the tiny models."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
from pydantic import SecretStr

from bot import texts
from bot.compose import build_discord, configure_logging
from bot.discord_bot import MaeumDiscordBot
from engine.client import InProcessEngine
from engine.settings import Settings
from engine.types import UserRef
from tests.fakes import network
from tests.fakes.discord_server import (
    APP_ID,
    GUILD_CHANNEL_ID,
    GUILD_ID,
    Call,
    FakeDiscordServer,
    button_press,
    custom_ids,
    dm_message,
    guild_message,
    slash,
)
from tests.fakes.engine import make_engine
from tests.fakes.eventually import eventually

TOKEN = "MTIzNDU2.TEST-discord-token.do-not-log"
ALICE = 310000000000000001
BOB = 310000000000000002
ALICE_REF = UserRef("discord", str(ALICE))
EPHEMERAL = 64
CALLBACK = "POST /interactions/{id}/{token}/callback"
FOLLOWUP = "POST /webhooks/{app}/{token}"
EDIT_ORIGINAL = "PATCH /webhooks/{app}/{token}/messages/{message}"
CHANNEL_MESSAGE = "POST /channels/{channel}/messages"
TYPING = "POST /channels/{channel}/typing"
COMMANDS = {"talk", "mood", "forget", "export", "help", "checkin", "timezone", "consent"}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[network.NetworkGuard]:
    guard = network.install(monkeypatch)
    yield guard
    assert guard.refused == [], f"tried to reach the network: {guard.refused}"


@pytest.fixture
async def engine(
    tiny_emotion_model: Path, tiny_chat_model: Path, sqlite_url: str
) -> AsyncIterator[InProcessEngine]:
    engine = make_engine(tiny_emotion_model, tiny_chat_model, sqlite_url)
    await engine.start()
    yield engine
    await engine.close()


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscordServer]:
    server = FakeDiscordServer(TOKEN)
    await server.start()
    # Restored after the test: the bot sets Route.BASE from settings.discord_api_base.
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
    yield server
    await server.close()
    assert all(url.startswith(server.api_base + "/") for url in server.requested_urls)


def make_settings(server: FakeDiscordServer, tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        discord_token=SecretStr(TOKEN),
        discord_api_base=server.api_base,
        retention_days=30,
        **overrides,
    )


async def logged_in(bot: MaeumDiscordBot) -> MaeumDiscordBot:
    # login() is what start() does before connecting to the gateway: REST identity, app info and
    # setup_hook (cogs, persistent views, command sync). There is no gateway in these tests.
    await bot.login(TOKEN)
    return bot


@pytest.fixture
async def bot(
    engine: InProcessEngine, server: FakeDiscordServer, tmp_path: Path
) -> AsyncIterator[MaeumDiscordBot]:
    bot = build_discord(make_settings(server, tmp_path), engine)
    async with bot:
        yield await logged_in(bot)


def deliver(bot: MaeumDiscordBot, server: FakeDiscordServer, payload: dict[str, Any]) -> dict[str, Any]:
    """Hand an INTERACTION_CREATE to discord.py as its gateway would."""
    server.register_interaction(payload)
    bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
    return payload


def token_of(payload: dict[str, Any]) -> Any:
    return lambda call: call.match.get("token") == payload["token"]


def flags(call: Call) -> int:
    body = call.json or {}
    return int((body.get("data") or body).get("flags") or 0)


# Setup -----------------------------------------------------------------------------------------


async def test_setup_hook_loads_the_cog_and_syncs_commands_globally(
    bot: MaeumDiscordBot, server: FakeDiscordServer
) -> None:
    assert "MaeumCog" in bot.cogs
    [sync] = server.calls_to("PUT /applications/{app}/commands")
    assert sync.match["app"] == str(APP_ID)
    assert {c["name"] for c in sync.json} == COMMANDS
    assert all(c["description"] for c in sync.json)
    assert not bot.intents.message_content and not bot.intents.members and not bot.intents.presences


async def test_commands_sync_instantly_to_the_configured_guild(
    engine: InProcessEngine, server: FakeDiscordServer, tmp_path: Path
) -> None:
    bot = build_discord(make_settings(server, tmp_path, discord_guild_id=GUILD_ID), engine)
    async with bot:
        await logged_in(bot)
    [sync] = server.calls_to("PUT /applications/{app}/guilds/{guild}/commands")
    assert sync.match["guild"] == str(GUILD_ID) and {c["name"] for c in sync.json} == COMMANDS
    assert not server.calls_to("PUT /applications/{app}/commands")


# /talk and DMs ---------------------------------------------------------------------------------


async def test_talk_defers_then_follows_up_with_the_reply_and_one_consent_prompt(
    bot: MaeumDiscordBot, server: FakeDiscordServer, engine: InProcessEngine
) -> None:
    talk = deliver(bot, server, slash("talk", ALICE, message="오늘 너무 우울해"))
    [deferred] = await server.wait_for(CALLBACK, token_of(talk))
    assert deferred.json["type"] == 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: "maeum is thinking…"
    reply, prompt = await server.wait_for(FOLLOWUP, token_of(talk), count=2)
    assert server.calls.index(deferred) < server.calls.index(reply)
    assert reply.json["content"].strip() and not reply.json.get("components")
    assert custom_ids(prompt.json["components"]) == [
        ("동의", "maeum:consent:yes"),
        ("동의하지 않음", "maeum:consent:no"),
    ]
    assert flags(prompt) & EPHEMERAL and "30일" in prompt.json["content"]
    assert (await engine.export(ALICE_REF))["emotion_events"] == []

    # Asked once.
    again = deliver(bot, server, slash("talk", ALICE, message="시험 망했어"))
    await server.wait_for(FOLLOWUP, token_of(again))
    await server.wait_idle()
    assert len(server.calls_to(FOLLOWUP)) == 3


async def test_talk_in_a_server_is_only_seen_by_the_person(
    bot: MaeumDiscordBot, server: FakeDiscordServer
) -> None:
    talk = deliver(bot, server, slash("talk", ALICE, guild=True, message="회사에서 발표를 망쳐서 속상해"))
    [deferred] = await server.wait_for(CALLBACK, token_of(talk))
    assert deferred.json["type"] == 5 and flags(deferred) & EPHEMERAL
    [reply, _prompt] = await server.wait_for(FOLLOWUP, token_of(talk), count=2)
    assert flags(reply) & EPHEMERAL


async def test_consent_button_records_the_pressers_own_consent(
    bot: MaeumDiscordBot, server: FakeDiscordServer, engine: InProcessEngine
) -> None:
    talk = deliver(bot, server, slash("talk", ALICE, message="오늘 너무 우울해"))
    _reply, prompt = await server.wait_for(FOLLOWUP, token_of(talk), count=2)
    press = deliver(bot, server, button_press(ALICE, "maeum:consent:yes", prompt.result))
    [updated] = await server.wait_for(CALLBACK, token_of(press))
    assert updated.json["type"] == 7 and updated.json["data"]["content"] == texts.CONSENT_GRANTED
    assert updated.json["data"]["components"] == []
    assert (await engine.user_status(ALICE_REF)).consent is True
    assert (await engine.user_status(UserRef("discord", str(BOB)))).consent is None


async def test_a_dm_is_a_conversation(
    bot: MaeumDiscordBot, server: FakeDiscordServer, engine: InProcessEngine
) -> None:
    dm = dm_message(ALICE, "오늘 너무 우울해")
    bot._connection.parse_message_create(dm)  # type: ignore[arg-type]
    in_dm = lambda call: call.match["channel"] == dm["channel_id"]  # noqa: E731
    reply, prompt = await server.wait_for(CHANNEL_MESSAGE, in_dm, count=2)
    [typing] = server.calls_to(TYPING)
    assert typing.match["channel"] == dm["channel_id"]
    assert server.calls.index(typing) < server.calls.index(reply)
    assert reply.json["content"].strip()
    assert custom_ids(prompt.json["components"])[0] == ("동의", "maeum:consent:yes")


async def test_a_server_message_not_addressed_to_the_bot_gets_nothing(
    bot: MaeumDiscordBot, server: FakeDiscordServer, engine: InProcessEngine
) -> None:
    before = len(server.calls)
    bot._connection.parse_message_create(guild_message(ALICE, "다들 점심 뭐 먹어?"))  # type: ignore[arg-type]
    await server.wait_idle(quiet_s=0.5)
    assert server.calls[before:] == []
    assert (await engine.user_status(ALICE_REF)).known is False

    # Mentioned, it answers in the channel, and asks for consent in a DM, not in public.
    bot._connection.parse_message_create(guild_message(ALICE, "오늘 힘들었어", mention_bot=True))  # type: ignore[arg-type]
    in_guild = lambda call: call.match["channel"] == str(GUILD_CHANNEL_ID)  # noqa: E731
    [reply] = await server.wait_for(CHANNEL_MESSAGE, in_guild)
    assert int(reply.json["message_reference"]["channel_id"]) == GUILD_CHANNEL_ID
    [dm_channel] = await server.wait_for("POST /users/@me/channels")
    assert int(dm_channel.json["recipient_id"]) == ALICE
    [prompt] = await server.wait_for(CHANNEL_MESSAGE, lambda c: c.match["channel"] == dm_channel.result["id"])
    assert custom_ids(prompt.json["components"])


async def test_a_reply_over_2000_characters_arrives_in_pieces(
    bot: MaeumDiscordBot, server: FakeDiscordServer, engine: InProcessEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = engine.respond
    long = "천천히 이야기해 주셔서 고마워요. " * 300  # ~5700 characters

    async def long_reply(message: Any) -> Any:
        result = await real(message)  # the real engine runs; only the reply is made long
        return dataclasses.replace(result, reply=long)

    monkeypatch.setattr(engine, "respond", long_reply)
    await engine.set_consent(ALICE_REF, True)  # no consent prompt: only reply pieces follow
    talk = deliver(bot, server, slash("talk", ALICE, message="오늘 너무 우울해"))
    await server.wait_for(FOLLOWUP, token_of(talk), count=3)
    await server.wait_idle()
    pieces = [c.json["content"] for c in server.calls_to(FOLLOWUP)]
    assert len(pieces) >= 3 and all(len(p) <= 2000 for p in pieces)
    assert " ".join(pieces) == long.strip()


# /mood, /export, /forget, /help ----------------------------------------------------------------


async def test_mood_is_ephemeral_with_the_chart_as_an_embed_image(
    bot: MaeumDiscordBot, server: FakeDiscordServer, engine: InProcessEngine
) -> None:
    await engine.set_consent(ALICE_REF, True)
    talk = deliver(bot, server, slash("talk", ALICE, message="합격 소식 듣고 너무 기뻐"))
    await server.wait_for(FOLLOWUP, token_of(talk))

    mood = deliver(bot, server, slash("mood", ALICE, weeks=2))
    [deferred] = await server.wait_for(CALLBACK, token_of(mood))
    assert deferred.json["type"] == 5 and flags(deferred) & EPHEMERAL
    [answer] = await server.wait_for(FOLLOWUP, token_of(mood))
    assert flags(answer) & EPHEMERAL
    if hasattr(InProcessEngine, "mood"):
        [chart] = answer.files
        assert chart.filename == "mood.png" and chart.data.startswith(b"\x89PNG")
        [embed] = answer.json["embeds"]
        assert embed["image"]["url"] == "attachment://mood.png" and embed["description"].strip()
        assert "2주" in embed["description"]
    else:
        assert answer.json["content"] == texts.MOOD_NOT_READY


async def test_export_is_ephemeral_and_holds_only_the_users_data(
    bot: MaeumDiscordBot, server: FakeDiscordServer, engine: InProcessEngine
) -> None:
    for user in (ALICE, BOB):
        await engine.set_consent(UserRef("discord", str(user)), True)
        talk = deliver(bot, server, slash("talk", user, message="비가 와서 우산을 챙겼어"))
        await server.wait_for(FOLLOWUP, token_of(talk))
    export = deliver(bot, server, slash("export", ALICE))
    [answer] = await server.wait_for(FOLLOWUP, token_of(export))
    assert flags(answer) & EPHEMERAL
    [document] = answer.files
    assert document.filename == "maeum-export.json"
    data = json.loads(document.data)
    assert data == await engine.export(ALICE_REF)
    assert data["user"]["platform_user_id"] == str(ALICE) and len(data["emotion_events"]) == 1


async def test_forget_deletes_only_after_the_button(
    bot: MaeumDiscordBot, server: FakeDiscordServer, engine: InProcessEngine
) -> None:
    await engine.set_consent(ALICE_REF, True)
    talk = deliver(bot, server, slash("talk", ALICE, message="엄마랑 싸워서 기분이 안 좋아요"))
    await server.wait_for(FOLLOWUP, token_of(talk))
    await eventually(lambda: engine.export(ALICE_REF), lambda d: len(d["emotion_events"]) == 1)

    forget = deliver(bot, server, slash("forget", ALICE))
    [asked] = await server.wait_for(CALLBACK, token_of(forget))
    assert asked.json["type"] == 4 and flags(asked) & EPHEMERAL
    assert asked.json["data"]["content"] == texts.FORGET_CONFIRM
    [(yes_label, yes_id), _no] = custom_ids(asked.json["data"]["components"])
    assert yes_label == texts.FORGET_YES_BUTTON
    assert len((await engine.export(ALICE_REF))["emotion_events"]) == 1  # asking is not deleting

    message = asked.result["resource"]["message"]
    # Someone else cannot press it (in practice they can't even see it: it is ephemeral).
    stranger = deliver(bot, server, button_press(BOB, yes_id, message))
    [refused] = await server.wait_for(CALLBACK, token_of(stranger))
    assert refused.json["data"]["content"] == texts.NOT_YOUR_BUTTON
    assert len((await engine.export(ALICE_REF))["emotion_events"]) == 1

    press = deliver(bot, server, button_press(ALICE, yes_id, message))
    [deferred] = await server.wait_for(CALLBACK, token_of(press))
    assert deferred.json["type"] == 6  # DEFERRED_UPDATE_MESSAGE
    [done] = await server.wait_for(EDIT_ORIGINAL, token_of(press))
    assert done.json["content"] == texts.FORGET_DONE and done.json["components"] == []
    gone = await engine.export(ALICE_REF)
    assert gone["user"] is None and gone["emotion_events"] == []


async def test_help_is_ephemeral(bot: MaeumDiscordBot, server: FakeDiscordServer) -> None:
    help_ = deliver(bot, server, slash("help", ALICE, guild=True))
    [answer] = await server.wait_for(CALLBACK, token_of(help_))
    assert answer.json["type"] == 4 and flags(answer) & EPHEMERAL
    assert answer.json["data"]["content"] == texts.DISCORD_HELP


async def test_checkin_and_timezone_are_ephemeral_and_stored(
    bot: MaeumDiscordBot, server: FakeDiscordServer, engine: InProcessEngine
) -> None:
    await engine.set_consent(ALICE_REF, True)  # both are stored about her: only with consent
    zone = deliver(bot, server, slash("timezone", ALICE, guild=True, zone="Asia/Seoul"))
    [answer] = await server.wait_for(CALLBACK, token_of(zone))
    assert flags(answer) & EPHEMERAL and answer.json["data"]["content"] == texts.TIMEZONE_SET.format(
        zone="Asia/Seoul"
    )
    checkin = deliver(bot, server, slash("checkin", ALICE, guild=True, time="21:30"))
    [answer] = await server.wait_for(CALLBACK, token_of(checkin))
    assert flags(answer) & EPHEMERAL and "21:30" in answer.json["data"]["content"]
    assert (await engine.export(ALICE_REF))["checkin"] == {"local_time": "21:30"}
    bad = deliver(bot, server, slash("checkin", ALICE, guild=True, time="한밤중"))
    [answer] = await server.wait_for(CALLBACK, token_of(bad))
    assert "21:00" in answer.json["data"]["content"]


# Errors and logs -------------------------------------------------------------------------------


async def test_failures_are_logged_without_text_or_tokens_and_the_user_is_told(
    bot: MaeumDiscordBot,
    server: FakeDiscordServer,
    engine: InProcessEngine,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    restore_log_levels: None,
) -> None:
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    secret = "아무에게도 말 못 한 비밀 이야기"
    await engine.set_consent(ALICE_REF, True)
    ok = deliver(bot, server, slash("talk", ALICE, message=secret))
    await server.wait_for(FOLLOWUP, token_of(ok))

    async def broken(message: Any) -> Any:
        raise RuntimeError(f"engine exploded on {message.text}")

    monkeypatch.setattr(engine, "respond", broken)
    failing = deliver(bot, server, slash("talk", ALICE, message=secret))
    [told] = await server.wait_for(FOLLOWUP, token_of(failing))
    assert told.json["content"] == texts.SOMETHING_WENT_WRONG
    bot._connection.parse_message_create(dm_message(ALICE, secret))  # type: ignore[arg-type]
    await server.wait_for(CHANNEL_MESSAGE, lambda c: c.json["content"] == texts.SOMETHING_WENT_WRONG)

    assert "RuntimeError" in caplog.text
    for record in caplog.records:
        line = record.getMessage() + (record.exc_text or "")
        assert secret not in line and TOKEN not in line
        assert ok["token"] not in line and failing["token"] not in line  # interaction tokens too


@pytest.fixture
def restore_log_levels() -> Iterator[None]:
    names = ["", "httpx", "httpcore", "telegram", "telegram.ext", "discord", "discord.http", "aiohttp.access"]
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)

"""Issue 11's attacks on the Discord adapter, reproduced on loopback: failing sends, crisis text
outside plain messages (edits, forwards, replies, split messages), the consent dead end, and a
crisis mentioned in a server. The real bot over the real in-process engine with the tiny models,
against the fake Discord REST API (tests/fakes/discord_server.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import delivery, texts
from bot.discord_bot import MaeumDiscordBot
from engine.client import InProcessEngine
from engine.mood.checkins import CHECKIN_MESSAGE
from engine.safety import CRISIS_CARD, THIRD_PARTY_CARD
from tests.bot import test_discord as discord_tests
from tests.bot.test_discord import (
    ALICE,
    ALICE_REF,
    BOB,
    CALLBACK,
    CHANNEL_MESSAGE,
    FOLLOWUP,
    TYPING,
    custom_ids,
    deliver,
    token_of,
)
from tests.fakes.discord_server import (
    APP_ID,
    GUILD_CHANNEL_ID,
    Call,
    FakeDiscordServer,
    button_press,
    dm_message,
    edited,
    forwarded_dm,
    guild_message,
    guild_reply,
    slash,
)
from tests.fakes.eventually import eventually

# The fixtures of the Discord suite: the bot logged in to the fake, over the real engine.
loopback_only = discord_tests.loopback_only
engine = discord_tests.engine
server = discord_tests.server
bot = discord_tests.bot

CRISIS = "죽고 싶어 오늘 다 끝낼 거야"
DM_CHANNELS = "POST /users/@me/channels"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The real retry plans' attempt counts with millisecond backoff, so a test spends no seconds
    sleeping between attempts."""
    for name in ("CRISIS_PLAN", "REPLY_PLAN"):
        plan = getattr(delivery, name)
        fast = delivery.RetryPlan(attempts=plan.attempts, first_delay_s=0.005, max_delay_s=0.02)
        monkeypatch.setattr(delivery, name, fast)
    yield


def in_channel(channel_id: str | int) -> Any:
    return lambda call: call.match.get("channel") == str(channel_id)


def content(call: Call) -> str:
    return str((call.json or {}).get("content") or "")


def says(text: str) -> Any:
    return lambda call: content(call) == text


def error_texts(server: FakeDiscordServer) -> list[Call]:
    sent = server.calls_to(CHANNEL_MESSAGE) + server.calls_to(FOLLOWUP)
    return [c for c in sent if content(c) == texts.SOMETHING_WENT_WRONG]


def handled_key(message: dict[str, Any]) -> str:
    return f"{APP_ID}:{message['id']}"


# 1. Sends that fail -----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["dropped", "500", "502 html"])
async def test_a_dm_crisis_card_arrives_through_a_failed_send(
    bot: MaeumDiscordBot, server: FakeDiscordServer, fault: str
) -> None:
    dm = dm_message(ALICE, CRISIS)
    to_alice = in_channel(dm["channel_id"])
    if fault == "dropped":  # the card may have gone through; the response was lost
        server.drop_next(CHANNEL_MESSAGE, when=to_alice)
    else:  # discord.py retries these itself (after 1 s) before bot/delivery.py would
        server.fail_next(CHANNEL_MESSAGE, status=500 if fault == "500" else 502, html="html" in fault)
    bot._connection.parse_message_create(dm)  # type: ignore[arg-type]
    [card] = await server.wait_for(CHANNEL_MESSAGE, lambda c: c.status == 200 and to_alice(c), within=5)
    assert content(card) == CRISIS_CARD
    failed = {"dropped": 0, "500": 500, "502 html": 502}[fault]  # 0: no answer at all
    attempts = server.calls_to(CHANNEL_MESSAGE)
    assert [(c.status, content(c)) for c in attempts] == [(failed, CRISIS_CARD), (200, CRISIS_CARD)]
    await server.wait_idle()
    assert error_texts(server) == []  # never an error text after a card that may have arrived


async def test_a_failing_typing_call_does_not_hold_up_the_card(
    bot: MaeumDiscordBot, server: FakeDiscordServer
) -> None:
    # discord.py retries a 500 on "typing…" for about 25 s; the card may not wait behind that,
    # nor be replaced by an error text when typing is refused outright.
    server.fail_next(TYPING, status=500, times=10)
    dm = dm_message(ALICE, CRISIS)
    bot._connection.parse_message_create(dm)  # type: ignore[arg-type]
    [card] = await server.wait_for(CHANNEL_MESSAGE, in_channel(dm["channel_id"]), within=0.9)
    assert content(card) == CRISIS_CARD

    server.drop_next(TYPING, times=10)
    second = dm_message(BOB, CRISIS)
    bot._connection.parse_message_create(second)  # type: ignore[arg-type]
    [card] = await server.wait_for(CHANNEL_MESSAGE, in_channel(second["channel_id"]), within=0.9)
    assert content(card) == CRISIS_CARD
    assert error_texts(server) == []


async def test_an_ordinary_reply_survives_a_dropped_send_and_is_recorded_after_it(
    bot: MaeumDiscordBot, server: FakeDiscordServer, engine: InProcessEngine
) -> None:
    await engine.set_consent(ALICE_REF, True)  # no consent prompt: just the reply
    dm = dm_message(ALICE, "오늘 너무 우울해")
    server.drop_next(CHANNEL_MESSAGE, when=in_channel(dm["channel_id"]))
    bot._connection.parse_message_create(dm)  # type: ignore[arg-type]
    [reply] = await server.wait_for(CHANNEL_MESSAGE, lambda c: c.status == 200)
    assert content(reply).strip() and content(reply) != texts.SOMETHING_WENT_WRONG
    await eventually(lambda: engine.store.is_processed("discord", handled_key(dm)), bool)
    await server.wait_idle()
    assert error_texts(server) == []


async def test_an_undeliverable_reply_is_not_followed_by_an_error_text_nor_recorded(
    bot: MaeumDiscordBot, server: FakeDiscordServer, engine: InProcessEngine
) -> None:
    await engine.set_consent(ALICE_REF, True)
    dm = dm_message(ALICE, "오늘 너무 우울해")
    attempts = delivery.REPLY_PLAN.attempts
    server.drop_next(CHANNEL_MESSAGE, times=attempts)  # every attempt, and an error text too
    bot._connection.parse_message_create(dm)  # type: ignore[arg-type]
    await server.wait_for(CHANNEL_MESSAGE, count=attempts)
    await server.wait_idle(quiet_s=0.5)
    sent = server.calls_to(CHANNEL_MESSAGE)
    assert len(sent) == attempts and all(c.status == 0 for c in sent)
    assert error_texts(server) == []
    # Not recorded as handled: the reply never went out, so a redelivery would be answered.
    assert not await engine.store.is_processed("discord", handled_key(dm))
    assert await engine.store.count_events(ALICE_REF) == 0

    # The same through /talk: its follow-up fails every time; no error follow-up comes after.
    talk = slash("talk", BOB, message="시험 망했어")
    server.drop_next(FOLLOWUP, times=attempts)
    deliver(bot, server, talk)
    await server.wait_for(FOLLOWUP, token_of(talk), count=attempts)
    await server.wait_idle(quiet_s=0.5)
    assert len(server.calls_to(FOLLOWUP)) == attempts
    assert error_texts(server) == []


# 2. Crisis text outside plain messages -----------------------------------------------------------


async def test_an_edited_dm_that_becomes_a_crisis_gets_the_card(
    bot: MaeumDiscordBot, server: FakeDiscordServer
) -> None:
    dm = dm_message(ALICE, "오늘 좀 피곤해")
    to_alice = in_channel(dm["channel_id"])
    bot._connection.parse_message_create(dm)  # type: ignore[arg-type]
    await server.wait_for(CHANNEL_MESSAGE, to_alice, count=2)  # the reply and the consent question
    before = len(server.calls_to(CHANNEL_MESSAGE))
    bot._connection.parse_message_update(edited(dm, "사실 죽고 싶어"))  # type: ignore[arg-type]
    [card] = await server.wait_for(CHANNEL_MESSAGE, says(CRISIS_CARD))
    assert to_alice(card)
    await server.wait_idle()
    assert [content(c) for c in server.calls_to(CHANNEL_MESSAGE)[before:]] == [CRISIS_CARD]


async def test_an_edit_is_read_even_when_the_original_is_not_in_the_cache(
    bot: MaeumDiscordBot, server: FakeDiscordServer
) -> None:
    # After a restart (or once the message cache has moved on) discord.py has no "before": the
    # edit must still be read. An update that is not an edit (a link preview) is not answered.
    dm = dm_message(ALICE, "오늘 좀 피곤해")
    preview = {**dm, "embeds": [{"type": "link", "url": "https://example.invalid/"}]}
    bot._connection.parse_message_update(preview)  # type: ignore[arg-type]
    await server.wait_idle()
    assert server.calls_to(CHANNEL_MESSAGE) == []

    bot._connection.parse_message_update(edited(dm, "사실 죽고 싶어"))  # type: ignore[arg-type]
    [card] = await server.wait_for(CHANNEL_MESSAGE, in_channel(dm["channel_id"]))
    assert content(card) == CRISIS_CARD

    ordinary = dm_message(BOB, "점심 뭐 먹지")
    bot._connection.parse_message_update(edited(ordinary, "저녁 뭐 먹지"))  # type: ignore[arg-type]
    [notice] = await server.wait_for(CHANNEL_MESSAGE, in_channel(ordinary["channel_id"]))
    assert content(notice) == texts.EDITED


async def test_a_forwarded_crisis_gets_the_card_for_someone_worried(
    bot: MaeumDiscordBot, server: FakeDiscordServer
) -> None:
    friend = guild_message(BOB, "나 진짜 죽고 싶어 오늘 다 끝낼 거야")
    forward = forwarded_dm(ALICE, friend)
    bot._connection.parse_message_create(forward)  # type: ignore[arg-type]
    [card] = await server.wait_for(CHANNEL_MESSAGE, in_channel(forward["channel_id"]))
    assert content(card) == THIRD_PARTY_CARD


@pytest.mark.parametrize("resolved", [True, False], ids=["sent-along", "from-cache"])
async def test_a_reply_to_a_crisis_gets_the_card_for_someone_worried(
    bot: MaeumDiscordBot, server: FakeDiscordServer, resolved: bool
) -> None:
    friend = guild_message(BOB, "나 진짜 죽고 싶어 다 끝내고 싶어")  # not addressed to the bot
    bot._connection.parse_message_create(friend)  # type: ignore[arg-type]
    await server.wait_idle()
    assert server.calls_to(CHANNEL_MESSAGE) == []  # not addressed to the bot: not answered
    ask = guild_reply(ALICE, "이 친구한테 뭐라고 해 줘야 할까?", friend, resolved=resolved)
    bot._connection.parse_message_create(ask)  # type: ignore[arg-type]
    [dm_channel] = await server.wait_for(DM_CHANNELS)
    assert int(dm_channel.json["recipient_id"]) == ALICE
    [card] = await server.wait_for(CHANNEL_MESSAGE, in_channel(dm_channel.result["id"]))
    assert content(card) == THIRD_PARTY_CARD
    [line] = await server.wait_for(CHANNEL_MESSAGE, in_channel(GUILD_CHANNEL_ID))
    assert content(line) == texts.DISCORD_CRISIS_SENT


async def test_a_crisis_split_across_two_dms_gets_the_card(
    bot: MaeumDiscordBot, server: FakeDiscordServer
) -> None:
    # Each half alone is nothing to the rules and the model; together they are a crisis.
    first = dm_message(ALICE, "더는")
    to_alice = in_channel(first["channel_id"])
    bot._connection.parse_message_create(first)  # type: ignore[arg-type]
    [reply, _prompt] = await server.wait_for(CHANNEL_MESSAGE, to_alice, count=2)
    assert content(reply) not in (CRISIS_CARD, THIRD_PARTY_CARD)
    bot._connection.parse_message_create(dm_message(ALICE, "못 살겠어"))  # type: ignore[arg-type]
    await server.wait_for(CHANNEL_MESSAGE, lambda c: to_alice(c) and content(c) == CRISIS_CARD)


# 3. The consent dead end ---------------------------------------------------------------------------


async def test_a_person_who_declined_can_change_their_mind_with_consent(
    bot: MaeumDiscordBot, server: FakeDiscordServer, engine: InProcessEngine
) -> None:
    talk = deliver(bot, server, slash("talk", ALICE, message="오늘 너무 우울해"))
    _reply, prompt = await server.wait_for(FOLLOWUP, token_of(talk), count=2)
    no = deliver(bot, server, button_press(ALICE, "maeum:consent:no", prompt.result))
    [declined] = await server.wait_for(CALLBACK, token_of(no))
    assert declined.json["data"]["content"] == texts.CONSENT_DECLINED
    assert (await engine.user_status(ALICE_REF)).known is False  # a "no" leaves no trace

    mood = deliver(bot, server, slash("mood", ALICE))
    [answer] = await server.wait_for(FOLLOWUP, token_of(mood))
    assert content(answer) == texts.DISCORD_MOOD_NO_CONSENT
    assert "/consent" in content(answer) and "/start" not in content(answer)

    # The first prompt comes only once per process; /consent asks again, at any time.
    again = deliver(bot, server, slash("consent", ALICE))
    [asked] = await server.wait_for(CALLBACK, token_of(again))
    assert asked.json["data"]["content"].startswith(texts.CONSENT_NOW_NO)
    assert asked.json["data"]["flags"] & 64  # ephemeral: between the person and the bot
    buttons = custom_ids(asked.json["data"]["components"])
    assert buttons == [("동의", "maeum:consent:yes"), ("동의하지 않음", "maeum:consent:no")]
    yes = deliver(bot, server, button_press(ALICE, "maeum:consent:yes", asked.result["resource"]["message"]))
    [granted] = await server.wait_for(CALLBACK, token_of(yes))
    assert granted.json["data"]["content"] == texts.CONSENT_GRANTED
    assert (await engine.user_status(ALICE_REF)).consent is True

    # And from now on the history is kept and /mood shows it.
    talk = deliver(bot, server, slash("talk", ALICE, message="합격 소식 듣고 너무 기뻐"))
    await server.wait_for(FOLLOWUP, token_of(talk))
    await eventually(lambda: engine.store.count_events(ALICE_REF), lambda n: n == 1)
    mood = deliver(bot, server, slash("mood", ALICE))
    [answer] = await server.wait_for(FOLLOWUP, token_of(mood))
    assert content(answer) != texts.DISCORD_MOOD_NO_CONSENT

    status = deliver(bot, server, slash("consent", ALICE))
    [asked] = await server.wait_for(CALLBACK, token_of(status))
    assert asked.json["data"]["content"].startswith(texts.CONSENT_NOW_YES)


SLASH_COMMAND = re.compile(r"(?<![\w/:.])/([a-z][a-z_]*)")


def discord_visible_texts(retention_days: int) -> dict[str, str]:
    """Every text the Discord adapter can show: the DISCORD_* texts, each shared text it names
    (``texts.NAME`` in bot/discord_bot.py), and the engine's check-in answers it passes on."""
    import bot.discord_bot as adapter

    source = Path(adapter.__file__).read_text(encoding="utf-8")
    names = {n for n in dir(texts) if n.startswith("DISCORD_")}
    names |= set(re.findall(r"\btexts\.([A-Za-z_]+)", source))
    found: dict[str, str] = {}
    for name in sorted(names):
        value = getattr(texts, name)
        if callable(value):
            value = value(retention_days)
        assert isinstance(value, str), name
        found[name] = value
    found["CHECKIN_MESSAGE"] = CHECKIN_MESSAGE
    return found


async def test_every_discord_text_names_only_commands_discord_has(
    bot: MaeumDiscordBot, server: FakeDiscordServer, engine: InProcessEngine
) -> None:
    [sync] = server.calls_to("PUT /applications/{app}/commands")
    synced = {command["name"] for command in sync.json}
    shown = discord_visible_texts(30)
    assert {"DISCORD_MOOD_NO_CONSENT", "DISCORD_HELP", "CONSENT_GRANTED", "consent_prompt"} <= set(shown)
    # The engine's own answers to /checkin reach Discord too.
    await engine.set_consent(ALICE_REF, True)
    shown["checkin on"] = await engine.set_checkin(ALICE_REF, "21:00")
    shown["checkin off"] = await engine.set_checkin(ALICE_REF, "off")
    named = {(name, command) for name, text in shown.items() for command in SLASH_COMMAND.findall(text)}
    assert named, "the scan found no commands at all: the pattern is broken"
    missing = sorted((name, f"/{command}") for name, command in named if command not in synced)
    assert missing == [], f"texts shown on Discord name commands it does not have: {missing}"
    assert {command for _, command in named} >= {"consent", "forget", "mood"}


# 4. A crisis in a server -----------------------------------------------------------------------


async def test_a_crisis_mentioned_in_a_server_gets_the_card_by_dm(
    bot: MaeumDiscordBot, server: FakeDiscordServer, engine: InProcessEngine
) -> None:
    bot._connection.parse_message_create(guild_message(ALICE, CRISIS, mention_bot=True))  # type: ignore[arg-type]
    [dm_channel] = await server.wait_for(DM_CHANNELS)
    assert int(dm_channel.json["recipient_id"]) == ALICE
    [card] = await server.wait_for(CHANNEL_MESSAGE, in_channel(dm_channel.result["id"]))
    assert content(card) == CRISIS_CARD
    [line] = await server.wait_for(CHANNEL_MESSAGE, in_channel(GUILD_CHANNEL_ID))
    assert content(line) == texts.DISCORD_CRISIS_SENT
    assert server.calls.index(card) < server.calls.index(line)  # "sent to your DMs" is true when said
    await server.wait_idle()
    in_public = [content(c) for c in server.calls_to(CHANNEL_MESSAGE) if in_channel(GUILD_CHANNEL_ID)(c)]
    assert in_public == [texts.DISCORD_CRISIS_SENT]  # the card itself never in the channel
    assert (await engine.user_status(ALICE_REF)).known is False  # and no consent question either


async def test_with_dms_closed_the_card_is_posted_in_the_channel(
    bot: MaeumDiscordBot, server: FakeDiscordServer
) -> None:
    server.refuse_dms_to(ALICE)
    bot._connection.parse_message_create(guild_message(ALICE, CRISIS, mention_bot=True))  # type: ignore[arg-type]
    [refused] = await server.wait_for(CHANNEL_MESSAGE, lambda c: c.status == 403)
    assert content(refused) == CRISIS_CARD and refused.match["channel"] == server.dm_channel_of(ALICE)
    [card] = await server.wait_for(CHANNEL_MESSAGE, in_channel(GUILD_CHANNEL_ID))
    assert content(card) == CRISIS_CARD  # safety first: the card where the person is
    assert int(card.json["message_reference"]["channel_id"]) == GUILD_CHANNEL_ID
    await server.wait_idle()
    assert len(server.calls_to(CHANNEL_MESSAGE)) == 2  # one refused DM (a 403 is not retried), one card
    assert error_texts(server) == []


async def test_the_card_by_dm_survives_a_dropped_send(
    bot: MaeumDiscordBot, server: FakeDiscordServer
) -> None:
    server.drop_next(CHANNEL_MESSAGE, when=lambda c: c.match["channel"] != str(GUILD_CHANNEL_ID))
    bot._connection.parse_message_create(guild_message(BOB, CRISIS, mention_bot=True))  # type: ignore[arg-type]
    [line] = await server.wait_for(CHANNEL_MESSAGE, in_channel(GUILD_CHANNEL_ID))
    assert content(line) == texts.DISCORD_CRISIS_SENT  # the retry got the card to the DM
    dm = server.dm_channel_of(BOB)
    assert [c.status for c in server.calls_to(CHANNEL_MESSAGE) if in_channel(dm)(c)] == [0, 200]

"""Issue 11, the Telegram half: the attacks that found the bugs, reproduced on loopback.

The real Application and the real engine (tiny models) run against the fake Bot API, which injects
the faults (5xx, an HTML 502, dropped connections, a send whose answer was lost, 403 for one chat,
sends held in flight); one test kills a real ``maeum run telegram`` process with SIGKILL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot import texts
from bot.compose import configure_logging
from bot.telegram_bot import TelegramRunner
from engine.client import InProcessEngine
from engine.conversation.service import RATE_LIMITED_REPLY
from engine.safety import CRISIS_CARD, THIRD_PARTY_CARD
from engine.store.db import sqlite_path
from tests.bot import test_telegram as tg
from tests.fakes.eventually import eventually
from tests.fakes.telegram_server import (
    BOT_ID,
    BOT_USERNAME,
    DROPPED,
    Call,
    FakeTelegramServer,
    command_update,
    edited_update,
    external_quote_update,
    forwarded_update,
    group_chat,
    mention_update,
    message,
    photo_update,
    text_update,
    user,
)

# The fixtures of the main Telegram tests: loopback guard, engine over SQLite, fake server, bot.
loopback_only = tg.loopback_only
engine = tg.engine
server = tg.server
bot = tg.bot
restore_log_levels = tg.restore_log_levels
to, buttons, make_settings = tg.to, tg.buttons, tg.make_settings
ALICE, BOB = tg.ALICE, tg.BOB
CRISIS = "죽고 싶어 오늘 다 끝낼 거야"
CHANNEL = f"telegram:{BOT_ID}"


def sent(server: FakeTelegramServer, *, ok_only: bool = False) -> list[Call]:
    return server.calls_to("sendMessage", ok_only=ok_only)


def texts_to(server: FakeTelegramServer, chat_id: int) -> list[str]:
    return [c.params["text"] for c in sent(server, ok_only=True) if int(c.params["chat_id"]) == chat_id]


def no_error_text(server: FakeTelegramServer) -> bool:
    return all(c.params.get("text") != texts.SOMETHING_WENT_WRONG for c in sent(server))


def inbox_count(db: Path, channel: str = CHANNEL, user_id: int | None = None) -> int:
    """Updates received and not yet handled (an inbox entry is deleted once its update is), counted
    on a connection of its own so that watching does not slow the engine down."""
    query = f"SELECT count(*) FROM inbox WHERE channel = '{channel}'"
    if user_id is not None:
        query += f" AND user_key = 'telegram:{user_id}'"
    return int(rows(db, query)[0][0])


def waiting(engine: InProcessEngine, channel: str = CHANNEL, user_id: int | None = None) -> int:
    db = sqlite_path(engine.store.url)
    assert db is not None
    return inbox_count(db, channel, user_id)


async def handled(engine: InProcessEngine, channel: str = CHANNEL, *, within: float = 30.0) -> None:
    """Until every update received is handled."""
    await eventually(lambda: now(waiting(engine, channel)), lambda n: n == 0, within=within)


async def now(value: Any) -> Any:
    """A probe for :func:`eventually` whose value is computed at each call by the caller's lambda."""
    return value


def rows(db: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query).fetchall()


# 1. One failed send loses nothing ---------------------------------------------------------------


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("502", 502), ("drop", DROPPED)])
async def test_one_failed_send_of_the_crisis_card_is_retried(
    bot: TelegramRunner, server: FakeTelegramServer, kind: Any, status: int
) -> None:
    server.fail_next("sendMessage", kind)
    await server.queue_update(text_update(ALICE, CRISIS))
    [card] = await server.wait_for("sendMessage", to(ALICE, CRISIS_CARD))
    [failed] = [c for c in sent(server) if c.status != 200]
    assert failed.status == status and failed.params["text"] == CRISIS_CARD and failed.at < card.at
    await server.wait_idle("sendMessage")
    # The card, once, and nothing after it: no error text, no consent question over a crisis.
    assert texts_to(server, ALICE) == [CRISIS_CARD] and no_error_text(server)


async def test_one_failed_send_of_a_reply_is_retried(bot: TelegramRunner, server: FakeTelegramServer) -> None:
    server.fail_next("sendMessage", "502")
    await server.queue_update(text_update(ALICE, "오늘 너무 우울해"))
    reply, prompt = await server.wait_for("sendMessage", to(ALICE), count=2)
    assert reply.params["text"].strip() and not buttons(reply) and buttons(prompt)
    assert [c.status for c in sent(server)] == [502, 200, 200] and no_error_text(server)


@pytest.mark.parametrize("which", ["card", "reply", "consent question"])
async def test_a_send_delivered_with_its_answer_lost_is_never_followed_by_an_error(
    bot: TelegramRunner, server: FakeTelegramServer, which: str
) -> None:
    """The message reached the person, only the answer to the bot was lost: the bot sends it again
    (the person sees it twice, the safe way to be wrong) and never claims something went wrong."""
    if which == "consent question":
        server.fail_next("sendMessage", "lost", when=lambda p: "reply_markup" in p)
    else:
        server.fail_next("sendMessage", "lost")
    words = CRISIS if which == "card" else "시험 망해서 속상해"
    await server.queue_update(text_update(ALICE, words))
    expected = 2 if which == "card" else 3
    await server.wait_for("sendMessage", to(ALICE), count=expected)
    await server.wait_idle("sendMessage", quiet_s=0.5)
    got = texts_to(server, ALICE)
    if which == "card":
        assert got == [CRISIS_CARD, CRISIS_CARD]
    else:
        reply, prompt = got[0], texts.consent_prompt(30)
        assert reply not in (prompt, texts.SOMETHING_WENT_WRONG)
        assert got == ([reply, reply, prompt] if which == "reply" else [reply, prompt, prompt])
    assert no_error_text(server)


# 2. Crisis text outside plain messages --------------------------------------------------------


async def test_a_crisis_in_a_photo_caption_gets_the_card(
    bot: TelegramRunner, server: FakeTelegramServer
) -> None:
    await server.queue_update(photo_update(ALICE, "죽고 싶어"))
    await server.wait_for("sendMessage", to(ALICE, CRISIS_CARD))
    assert texts.NOT_TEXT not in texts_to(server, ALICE)


async def test_the_sleeping_pills_caption_from_the_attack(
    bot: TelegramRunner, server: FakeTelegramServer, engine: InProcessEngine
) -> None:
    """The caption the attack used. The rules do not know this phrasing; the learned classifier
    beside them (issue 11, item 4) does."""
    words = "수면제 다 모았어 오늘 먹을 거야"
    await server.queue_update(photo_update(ALICE, words))
    [first, *_] = await server.wait_for("sendMessage", to(ALICE))
    assert first.params["text"] == CRISIS_CARD
    assert texts.NOT_TEXT not in texts_to(server, ALICE)


async def test_an_edit_into_a_crisis_gets_the_card(bot: TelegramRunner, server: FakeTelegramServer) -> None:
    await server.queue_update(edited_update(ALICE, "사실 죽고 싶어"))
    await server.wait_for("sendMessage", to(ALICE, CRISIS_CARD))
    await server.wait_idle("sendMessage")
    assert texts_to(server, ALICE) == [CRISIS_CARD]  # not the "edits aren't read" line


async def test_a_quoted_crisis_from_another_chat_gets_the_third_party_card(
    bot: TelegramRunner, server: FakeTelegramServer
) -> None:
    update = external_quote_update(
        ALICE,
        "친구가 이런 말을 했는데 어떡하지",
        quoted="나 진짜 죽고 싶어",
        from_user_id=99,
        from_chat=group_chat(),
    )
    await server.queue_update(update)
    await server.wait_for("sendMessage", to(ALICE, THIRD_PARTY_CARD))


async def test_a_reply_to_a_friends_crisis_in_a_group_gets_the_third_party_card_privately(
    bot: TelegramRunner, server: FakeTelegramServer
) -> None:
    group = group_chat()
    friends = message(99, chat=group, text="나 진짜 죽고 싶어")
    handle = f"@{BOT_USERNAME}"
    entity = {"type": "mention", "offset": 0, "length": len(handle)}
    update = {
        "message": message(
            ALICE, chat=group, text=f"{handle} 얘 좀 봐줘", entities=[entity], reply_to=friends
        )
    }
    await server.queue_update(update)
    await server.wait_for("sendMessage", to(ALICE, THIRD_PARTY_CARD))
    await server.wait_for("sendMessage", to(group["id"], texts.GROUP_CRISIS_SENT))


async def test_a_forwarded_crisis_gets_the_third_party_card(
    bot: TelegramRunner, server: FakeTelegramServer
) -> None:
    await server.queue_update(forwarded_update(ALICE, "나 오늘 죽고 싶어", from_user_id=99))
    await server.wait_for("sendMessage", to(ALICE, THIRD_PARTY_CARD))
    assert CRISIS_CARD not in texts_to(server, ALICE)


# 3. A crisis split across messages ------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [("죽고", "싶어"), ("나 이제 그만", "살래 다 끝낼 거야")])
async def test_the_issues_split_crises_get_the_card_by_the_second_message(
    bot: TelegramRunner, server: FakeTelegramServer, first: str, second: str
) -> None:
    """The attack's pairs. The learned classifier already reads the first halves as a crisis (a
    lone "죽고" is one), so the card may come a message early; it must have come by the second."""
    await server.queue_update(text_update(ALICE, first))
    await server.wait_for("sendMessage", to(ALICE))
    await server.queue_update(text_update(ALICE, second))
    await server.wait_for("sendMessage", to(ALICE, CRISIS_CARD))


async def test_a_crisis_only_its_two_halves_together_make_gets_the_card(
    bot: TelegramRunner, server: FakeTelegramServer
) -> None:
    """ "더는" and "못 살겠어" are each nothing alone (rules and model agree); together they are."""
    await server.queue_update(text_update(ALICE, "더는"))
    [reply, _prompt] = await server.wait_for("sendMessage", to(ALICE), count=2)
    assert reply.params["text"] != CRISIS_CARD
    await server.queue_update(text_update(ALICE, "못 살겠어"))
    await server.wait_for("sendMessage", to(ALICE, CRISIS_CARD))


async def test_the_same_words_from_two_people_are_not_joined(
    bot: TelegramRunner, server: FakeTelegramServer
) -> None:
    await server.queue_update(text_update(ALICE, "더는"))
    await server.wait_for("sendMessage", to(ALICE), count=2)
    await server.queue_update(text_update(BOB, "못 살겠어"))
    await server.wait_for("sendMessage", to(BOB), count=2)
    await server.wait_idle("sendMessage")
    assert CRISIS_CARD not in texts_to(server, ALICE) + texts_to(server, BOB)


# 4. A crash loses no backlog -------------------------------------------------------------------

MAEUM = Path(sys.executable).with_name("maeum")


def is_reply(call: Call) -> bool:
    return not buttons(call)


def bot_process_env(server: FakeTelegramServer, data_dir: Path, emotion_model: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAEUM_")}
    env.update(
        MAEUM_TELEGRAM_TOKEN=tg.TOKEN,
        MAEUM_TELEGRAM_API_URL=server.api_url,
        MAEUM_DATA_DIR=str(data_dir),
        MAEUM_EMOTION_MODEL=str(emotion_model),
        MAEUM_REPLY_MODEL="none",
        MAEUM_INTENT_MODEL="none",
        MAEUM_DEVICE="cpu",
        MAEUM_LOG_LEVEL="WARNING",
    )
    return env


async def start_bot_process(env: dict[str, str], cwd: Path, log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return await asyncio.create_subprocess_exec(
            str(MAEUM), "run", "telegram", env=env, cwd=cwd, stdout=out, stderr=out
        )


async def test_a_crash_loses_no_backlog_and_answers_nobody_twice(
    server: FakeTelegramServer, tiny_emotion_model: Path, tmp_path: Path
) -> None:
    """kill -9 with 60 people waiting, then a new process: each person is answered exactly once."""
    people = list(range(40001, 40061))
    updates: dict[int, dict[str, Any]] = {}
    for person in people:
        update = text_update(person, "오늘 회사에서 너무 지쳤어")
        updates[person] = {**update, "update_id": await server.queue_update(update)}
    last_id = max(u["update_id"] for u in updates.values())
    db = tmp_path / "maeum.db"
    env = bot_process_env(server, tmp_path, tiny_emotion_model)
    # 20 sends get through; every later one stays in flight, unanswered, when the process dies.
    server.hold("sendMessage", after=20)

    first = await start_bot_process(env, tmp_path, tmp_path / "first.log")
    try:
        await server.wait_for("sendMessage", count=20, within=60)
        # Telegram has been told (the next getUpdates' offset) it may forget all 60 …
        await eventually(lambda: now(server.forgotten(last_id) and server.held > 0), bool, within=20)
        answered = {int(c.params["chat_id"]) for c in sent(server, ok_only=True) if is_reply(c)}
        # … and each reply that went out is recorded as handled (a few ms after it went out).
        processed = "SELECT count(*) FROM processed_updates"
        await eventually(lambda: now(rows(db, processed)[0][0]), lambda n: n >= len(answered), within=10)
    finally:
        first.kill()
        await first.wait()
    assert 0 < len(answered) < len(people)
    assert server.pending_updates == []  # without the inbox, the rest would be lost here
    assert inbox_count(db) >= len(people) - len(answered)
    server.drop_held()  # the dead process's sends end without effect

    # A real duplicate: Telegram delivers an update again that was answered and recorded.
    again = sorted(answered)[0]
    await server.queue_update(updates[again])

    second = await start_bot_process(env, tmp_path, tmp_path / "second.log")
    try:
        await server.wait_for("sendMessage", is_reply, count=len(people), within=60)
        await eventually(lambda: now(inbox_count(db) == 0 and server.pending_updates == []), bool, within=20)
        await server.wait_idle("sendMessage", quiet_s=0.5)
        assert second.returncode is None, (tmp_path / "second.log").read_text(errors="replace")[-2000:]
    finally:
        second.kill()
        await second.wait()
    replies = Counter(int(c.params["chat_id"]) for c in sent(server, ok_only=True) if is_reply(c))
    assert sorted(replies) == people  # nobody lost
    assert {p: n for p, n in replies.items() if n != 1} == {}  # nobody answered twice
    # The duplicate sent nothing at all: no empty message (which Telegram rejects), no error text.
    assert all(c.status in (200, DROPPED) for c in sent(server)) and no_error_text(server)


# 5. One person's flood does not starve anyone -------------------------------------------------


async def test_a_flood_from_one_person_does_not_delay_anothers_crisis_card(
    bot: TelegramRunner, server: FakeTelegramServer, engine: InProcessEngine
) -> None:
    for i in range(1000):
        await server.queue_update(text_update(ALICE, f"도배 {i}"))
    asked = time.monotonic()
    await server.queue_update(text_update(BOB, CRISIS))
    [card] = await server.wait_for("sendMessage", to(BOB, CRISIS_CARD), within=10)
    latency = card.at - asked
    behind = waiting(engine, user_id=ALICE)
    assert latency < 3.0, f"the card took {latency:.2f}s behind the flood"
    assert behind > 500, f"only {behind} of the flood left when the card came: no contest"

    await handled(engine, within=90)
    drained = time.monotonic() - asked
    await server.wait_idle("sendMessage")
    notices = texts_to(server, ALICE).count(RATE_LIMITED_REPLY)
    print(f"\nflood: card after {latency:.2f}s, flood drained after {drained:.1f}s, {notices} notice(s)")
    # The chat action is not re-sent while one shows (it was one per message: 1,000 API calls).
    assert len(server.calls_to("sendChatAction")) <= 2 + drained / 4.5
    # One notice for the whole flood: the bucket runs on when the messages were sent, so
    # working through the backlog for half a minute does not refill it.
    assert notices == 1


# 6. One malformed update ------------------------------------------------------------------------


async def test_a_malformed_update_is_skipped_and_nothing_personal_is_logged(
    bot: TelegramRunner,
    server: FakeTelegramServer,
    engine: InProcessEngine,
    caplog: pytest.LogCaptureFixture,
    restore_log_levels: None,
) -> None:
    configure_logging("DEBUG")
    # And an operator who turns the libraries up too, to debug a connection: still no text.
    for name in ("telegram", "httpx", "httpcore", "tornado"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    secrets = [
        "아무도 모르는 비밀 이야기",
        "두번째 비밀 고백",
        "비밀이름하나",
        "비밀이름둘",
        "버튼비밀데이터",
    ]

    def named(update: dict[str, Any], first_name: str) -> dict[str, Any]:
        for part in update.values():
            part["from"] = user(part["from"]["id"], first_name)
            if part.get("chat", {}).get("type") == "private":
                part["chat"]["first_name"] = first_name
        return update

    broken = {  # no chat_instance: python-telegram-bot cannot build it
        "callback_query": {"id": "cb-x", "from": user(ALICE, secrets[2]), "data": secrets[4]}
    }
    await server.queue_update(named(text_update(ALICE, secrets[0]), secrets[2]))
    bad_id = await server.queue_update(broken)
    await server.queue_update(named(text_update(BOB, secrets[1]), secrets[3]))
    await server.wait_for("sendMessage", to(ALICE), count=2)
    await server.wait_for("sendMessage", to(BOB), count=2)
    await eventually(lambda: now(server.forgotten(bad_id)), bool)  # confirmed to Telegram, not retried
    await handled(engine)

    assert f"skipped update {bad_id}" in caplog.text
    assert any(r.name.startswith("telegram") for r in caplog.records)  # the libraries did log
    for record in caplog.records:
        line = f"{record.getMessage()} {record.exc_text or ''} {record.args!r}"
        if record.exc_info:
            line += logging.Formatter().formatException(record.exc_info)
        for secret in (*secrets, tg.TOKEN, tg.TOKEN.split(":")[1]):
            assert secret not in line, f"{record.levelname} {record.name} logged {secret!r}"


# 7. Nothing before consent ----------------------------------------------------------------------


async def test_nothing_about_a_person_is_stored_before_consent(
    bot: TelegramRunner, server: FakeTelegramServer, engine: InProcessEngine, tmp_path: Path
) -> None:
    db = tmp_path / "maeum.db"
    await server.queue_update(text_update(ALICE, "오늘 너무 우울해"))
    await server.wait_for("sendMessage", to(ALICE), count=2)  # the reply and the consent question
    await server.queue_update(text_update(BOB, CRISIS))
    await server.wait_for("sendMessage", to(BOB, CRISIS_CARD))
    await handled(engine)
    await eventually(lambda: now(rows(db, "SELECT count(*) FROM crisis_events")), lambda r: r == [(1,)])

    assert rows(db, "SELECT * FROM users") == []
    assert rows(db, "SELECT * FROM emotion_events") == []
    assert rows(db, "SELECT * FROM inbox") == []  # the text was held only until answered
    # What is kept says that some update was handled, not by whom.
    processed = [u for (u,) in rows(db, "SELECT update_id FROM processed_updates")]
    assert processed and all(u.startswith(f"{BOT_ID}:") and str(ALICE) not in u for u in processed)

    await tg.grant_consent(server, engine, ALICE)  # the queries do see a person once they said yes
    assert [p for (p,) in rows(db, "SELECT platform_user_id FROM users")] == [str(ALICE)]


# 8. Two bots on one database --------------------------------------------------------------------


async def test_two_bots_on_one_database_do_not_take_each_others_updates_for_duplicates(
    engine: InProcessEngine, server: FakeTelegramServer, tmp_path: Path
) -> None:
    other_token = "987654321:OTHER-token-do-not-log"
    other = FakeTelegramServer(other_token, bot_id=BOT_ID + 1, username="maeum_other_bot")
    await other.start()
    first = TelegramRunner(engine, make_settings(server, tmp_path), poll_timeout=5)
    second_settings = make_settings(other, tmp_path).model_copy(
        update={"telegram_token": SecretStr(other_token)}
    )
    second = TelegramRunner(engine, second_settings, poll_timeout=5)
    await first.start()
    await second.start()
    try:
        people = range(31000, 31006)
        for person in people:  # the same update ids, 1..6, on both bots
            assert await server.queue_update(text_update(person, "오늘 하루 힘들었어")) == person - 30999
            await other.queue_update(text_update(person + 100, "오늘 하루 힘들었어"))
        for person in people:
            await server.wait_for("sendMessage", to(person), count=2)
            await other.wait_for("sendMessage", to(person + 100), count=2)
        await handled(engine)
        await handled(engine, f"telegram:{BOT_ID + 1}")
        processed = {u for (u,) in rows(tmp_path / "maeum.db", "SELECT update_id FROM processed_updates")}
        assert {f"{BOT_ID}:1", f"{BOT_ID + 1}:1"} <= processed
    finally:
        await second.stop()
        await first.stop()
        await other.close()


# 9. A crisis in a group ------------------------------------------------------------------------


async def test_a_crisis_in_a_group_goes_to_the_private_chat(
    bot: TelegramRunner, server: FakeTelegramServer
) -> None:
    group = group_chat()
    gid = group["id"]
    await server.queue_update(mention_update(ALICE, "죽고 싶어", group))
    [card] = await server.wait_for("sendMessage", to(ALICE, CRISIS_CARD))
    [line] = await server.wait_for("sendMessage", to(gid, texts.GROUP_CRISIS_SENT))
    [(label, url)] = [
        (b["text"], b["url"]) for row in line.params["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert label == texts.GROUP_CRISIS_BUTTON and url == "https://t.me/maeum_test_bot?start=care"
    assert "reply_parameters" not in card.params  # a message of its own, not a reply in the group

    # Bob never opened a private chat with the bot: Telegram refuses (403), the group line says so.
    server.fail_next("sendMessage", "403", times=None, when=lambda p: int(p["chat_id"]) == BOB)
    await server.queue_update(mention_update(BOB, "죽고 싶어", group))
    await server.wait_for("sendMessage", to(gid, texts.GROUP_CRISIS_OPEN))
    refused = [c for c in sent(server) if int(c.params["chat_id"]) == BOB]
    assert [c.status for c in refused] == [403] and refused[0].params["text"] == CRISIS_CARD
    # The group never sees a card, only the two short lines.
    assert texts_to(server, gid) == [texts.GROUP_CRISIS_SENT, texts.GROUP_CRISIS_OPEN]

    server.clear_faults()  # he presses the button: the private chat opens with /start care
    await server.queue_update(command_update(BOB, "/start care"))
    await server.wait_for("sendMessage", to(BOB, CRISIS_CARD))
    assert no_error_text(server)


# 10. A 1 MB message through the webhook ----------------------------------------------------------


async def test_a_megabyte_message_with_a_crisis_at_the_end_through_the_webhook(
    engine: InProcessEngine, server: FakeTelegramServer, tmp_path: Path
) -> None:
    port = tg.free_port()
    settings = make_settings(
        server,
        tmp_path,
        telegram_webhook_url=f"http://127.0.0.1:{port}/maeum/telegram",
        telegram_webhook_listen="127.0.0.1",
        telegram_webhook_port=port,
    )
    runner = TelegramRunner(engine, settings)
    await runner.start()
    try:
        filler = "오늘도 그냥 그런 하루였고 별일은 없었어. "
        huge = filler * (1_000_000 // len(filler.encode()) + 1) + "그래도 죽고 싶어"
        assert len(huge.encode()) > 1_000_000
        started = time.monotonic()
        delivery = asyncio.create_task(server.deliver_webhook(text_update(ALICE, huge)))
        # Another person writes while it is on its way in and being read: answered promptly.
        assert await server.deliver_webhook(text_update(BOB, "오늘 너무 우울해")) == 200
        bobs, *_ = await server.wait_for("sendMessage", to(BOB), within=5)
        [card] = await server.wait_for("sendMessage", to(ALICE, CRISIS_CARD), within=10)
        assert await delivery == 200
        assert bobs.at - started < 2.0, f"another person waited {bobs.at - started:.2f}s"
        assert card.at - started < 3.0, f"the card took {card.at - started:.2f}s"
        print(
            f"\n1 MB webhook: card after {card.at - started:.2f}s, other reply after {bobs.at - started:.2f}s"
        )
    finally:
        await runner.stop()

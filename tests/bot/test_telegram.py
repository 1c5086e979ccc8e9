"""The Telegram adapter end to end on loopback: the real Application (polling and webhook) against a
fake Bot API server, over the REAL in-process engine with the tiny models."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot import texts
from bot.compose import configure_logging
from bot.telegram_bot import TelegramRunner
from engine.client import InProcessEngine
from engine.settings import Settings
from engine.types import UserRef
from tests.fakes import network
from tests.fakes.engine import make_engine
from tests.fakes.eventually import eventually
from tests.fakes.telegram_server import (
    Call,
    FakeTelegramServer,
    callback_update,
    command_update,
    edited_update,
    group_chat,
    mention_update,
    message,
    sticker_update,
    text_update,
)

TOKEN = "123456789:TEST-token-do-not-log-AAAA"
ALICE = 4242
BOB = 5151
ALICE_REF = UserRef("telegram", str(ALICE))


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
async def server() -> AsyncIterator[FakeTelegramServer]:
    server = FakeTelegramServer(TOKEN)
    await server.start()
    yield server
    await server.close()
    # Everything the bot asked for went to the fake, under the fake's base URL.
    assert all(url.startswith(server.base_url + "/bot") for url in server.requested_urls)


def make_settings(server: FakeTelegramServer, tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        telegram_token=SecretStr(TOKEN),
        telegram_api_url=server.api_url,
        retention_days=30,
        **overrides,
    )


@pytest.fixture
async def bot(
    engine: InProcessEngine, server: FakeTelegramServer, tmp_path: Path
) -> AsyncIterator[TelegramRunner]:
    settings = make_settings(server, tmp_path)
    runner = TelegramRunner(engine, settings, poll_timeout=5)
    await runner.start()
    yield runner
    await runner.stop()


def to(chat_id: int, text: str | None = None) -> Any:
    def match(call: Call) -> bool:
        return int(call.params["chat_id"]) == chat_id and (text is None or call.params.get("text") == text)

    return match


def buttons(call: Call) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]


async def grant_consent(server: FakeTelegramServer, engine: InProcessEngine, user_id: int) -> None:
    """Consent the way a person gives it: /start, then the 동의 button."""
    await server.queue_update(command_update(user_id, "/start"))
    [prompt] = await server.wait_for("sendMessage", lambda c: to(user_id)(c) and bool(buttons(c)))
    await server.queue_update(callback_update(user_id, f"consent:yes:{user_id}", prompt.result))
    await server.wait_for("editMessageText", to(user_id, texts.CONSENT_GRANTED))
    assert (await engine.user_status(UserRef("telegram", str(user_id)))).consent is True


async def talk(server: FakeTelegramServer, user_id: int, text: str, replies_before: int = 0) -> Call:
    await server.queue_update(text_update(user_id, text))
    calls = await server.wait_for("sendMessage", to(user_id), count=replies_before + 1)
    return calls[replies_before]


# Conversation ----------------------------------------------------------------------------------


async def test_first_message_gets_a_reply_while_typing_then_one_consent_prompt(
    bot: TelegramRunner, server: FakeTelegramServer, engine: InProcessEngine
) -> None:
    assert server.calls_to("getMe") and server.calls_to("setMyCommands")
    await server.queue_update(text_update(ALICE, "오늘 너무 우울해"))
    reply, prompt = await server.wait_for("sendMessage", to(ALICE), count=2)
    assert reply.params["text"].strip() and not buttons(reply)
    # "typing…" was shown before the reply went out.
    typing = server.calls_to("sendChatAction")[0]
    assert typing.params["action"] == "typing" and server.calls.index(typing) < server.calls.index(reply)
    assert buttons(prompt) == [("동의", f"consent:yes:{ALICE}"), ("동의하지 않음", f"consent:no:{ALICE}")]
    assert "30일" in prompt.params["text"]
    # Without consent the engine stored nothing.
    assert (await engine.export(ALICE_REF))["emotion_events"] == []

    # Asked once: the next message gets an answer and no second prompt.
    await server.queue_update(text_update(ALICE, "시험 망했어"))
    calls = await server.wait_for("sendMessage", to(ALICE), count=3)
    await server.wait_idle("sendMessage")
    assert len(server.calls_to("sendMessage")) == 3 and not buttons(calls[2])


async def test_consent_button_is_recorded_and_then_history_is_kept(
    bot: TelegramRunner, server: FakeTelegramServer, engine: InProcessEngine
) -> None:
    await server.queue_update(command_update(ALICE, "/start"))
    [start] = await server.wait_for("sendMessage", to(ALICE))
    assert "109" in start.params["text"] and "112" in start.params["text"] and "119" in start.params["text"]
    assert "저장하지 않아요" in start.params["text"] and "30일" in start.params["text"]

    # Someone else pressing Alice's button changes nothing for anyone.
    await server.queue_update(callback_update(BOB, f"consent:yes:{ALICE}", start.result))
    [refused] = await server.wait_for("answerCallbackQuery")
    assert refused.params["text"] == texts.NOT_YOUR_BUTTON
    assert (await engine.user_status(UserRef("telegram", str(BOB)))).consent is None

    await server.queue_update(callback_update(ALICE, f"consent:yes:{ALICE}", start.result))
    [edited] = await server.wait_for("editMessageText")
    assert edited.params["text"] == texts.CONSENT_GRANTED and "reply_markup" not in edited.params
    await talk(server, ALICE, "합격 소식 듣고 너무 기뻐", replies_before=1)
    # Recorded once the reply is out.
    events = await eventually(lambda: engine.export(ALICE_REF), lambda d: len(d["emotion_events"]) == 1)
    assert events["emotion_events"][0]["label"]


async def test_declining_consent_stores_nothing(
    bot: TelegramRunner, server: FakeTelegramServer, engine: InProcessEngine
) -> None:
    await server.queue_update(command_update(ALICE, "/start"))
    [start] = await server.wait_for("sendMessage", to(ALICE))
    await server.queue_update(callback_update(ALICE, f"consent:no:{ALICE}", start.result))
    await server.wait_for("editMessageText", to(ALICE, texts.CONSENT_DECLINED))
    await talk(server, ALICE, "오늘 너무 우울해", replies_before=1)
    # A "no" leaves no trace that Alice ever wrote to the bot: no user row, no event.
    assert (await engine.user_status(ALICE_REF)).known is False
    assert (await engine.export(ALICE_REF)) == {"user": None, "emotion_events": [], "checkin": None}


# Commands --------------------------------------------------------------------------------------


async def test_mood_sends_the_chart_as_a_photo_with_the_summary(
    bot: TelegramRunner, server: FakeTelegramServer, engine: InProcessEngine
) -> None:
    await grant_consent(server, engine, ALICE)
    await talk(server, ALICE, "오늘 너무 우울해", replies_before=1)
    await server.queue_update(command_update(ALICE, "/mood 4w"))
    if hasattr(InProcessEngine, "mood"):
        [photo] = await server.wait_for("sendPhoto", to(ALICE))
        assert photo.files["photo"].data.startswith(b"\x89PNG")
        assert photo.params["caption"].strip()
        assert "4주" in photo.params["caption"]
        assert any(c.params["action"] == "upload_photo" for c in server.calls_to("sendChatAction"))
    else:
        await server.wait_for("sendMessage", to(ALICE, texts.MOOD_NOT_READY))


async def test_mood_with_a_nonsense_period_explains_the_format(
    bot: TelegramRunner, server: FakeTelegramServer
) -> None:
    await server.queue_update(command_update(ALICE, "/mood 올해"))
    [answer] = await server.wait_for("sendMessage", to(ALICE))
    assert "/mood 4w" in answer.params["text"]


async def test_forget_deletes_only_after_confirmation(
    bot: TelegramRunner, server: FakeTelegramServer, engine: InProcessEngine
) -> None:
    await grant_consent(server, engine, ALICE)
    await talk(server, ALICE, "엄마랑 싸워서 기분이 안 좋아요", replies_before=1)
    await server.queue_update(command_update(ALICE, "/forget"))
    confirm = (await server.wait_for("sendMessage", to(ALICE, texts.FORGET_CONFIRM)))[0]
    assert buttons(confirm)[0][1] == f"forget:yes:{ALICE}"
    # Asking is not deleting.
    assert len((await engine.export(ALICE_REF))["emotion_events"]) == 1

    await server.queue_update(callback_update(ALICE, f"forget:yes:{ALICE}", confirm.result))
    await server.wait_for("editMessageText", to(ALICE, texts.FORGET_DONE))
    gone = await engine.export(ALICE_REF)
    assert gone["user"] is None and gone["emotion_events"] == []


async def test_forget_cancel_keeps_everything(
    bot: TelegramRunner, server: FakeTelegramServer, engine: InProcessEngine
) -> None:
    await grant_consent(server, engine, ALICE)
    await talk(server, ALICE, "엄마랑 싸워서 기분이 안 좋아요", replies_before=1)
    await server.queue_update(command_update(ALICE, "/forget"))
    [confirm] = await server.wait_for("sendMessage", to(ALICE, texts.FORGET_CONFIRM))
    await server.queue_update(callback_update(ALICE, f"forget:no:{ALICE}", confirm.result))
    await server.wait_for("editMessageText", to(ALICE, texts.FORGET_CANCELLED))
    assert len((await engine.export(ALICE_REF))["emotion_events"]) == 1


async def test_checkin_and_timezone_commands_and_the_check_in_itself(
    bot: TelegramRunner, server: FakeTelegramServer, engine: InProcessEngine
) -> None:
    await grant_consent(server, engine, ALICE)  # both are stored about her: only with consent
    await server.queue_update(command_update(ALICE, "/timezone Asia/Seoul"))
    await server.wait_for("sendMessage", to(ALICE, texts.TIMEZONE_SET.format(zone="Asia/Seoul")))
    await server.queue_update(command_update(ALICE, "/checkin 21:00"))
    [confirmed] = await server.wait_for("sendMessage", lambda c: to(ALICE)(c) and "21:00" in c.params["text"])
    assert "/checkin off" in confirmed.params["text"]
    assert (await engine.export(ALICE_REF))["checkin"] == {"local_time": "21:00"}
    await server.queue_update(command_update(ALICE, "/checkin 03:00"))
    await server.wait_for("sendMessage", lambda c: to(ALICE)(c) and "쉬는 시간" in c.params["text"])
    # When the scheduler finds the check-in due, it arrives in the person's private chat.
    await engine.checkins.senders["telegram"](ALICE_REF, "오늘 하루는 어떠셨어요?")
    await server.wait_for("sendMessage", to(ALICE, "오늘 하루는 어떠셨어요?"))


async def test_export_sends_the_users_own_data_as_a_json_document(
    bot: TelegramRunner, server: FakeTelegramServer, engine: InProcessEngine
) -> None:
    await grant_consent(server, engine, ALICE)
    await talk(server, ALICE, "비가 와서 우산을 챙겼어", replies_before=1)
    await grant_consent(server, engine, BOB)
    await talk(server, BOB, "버스를 놓쳐서 지각했어", replies_before=1)

    await server.queue_update(command_update(ALICE, "/export"))
    [doc] = await server.wait_for("sendDocument", to(ALICE))
    upload = doc.files["document"]
    assert upload.filename == "maeum-export.json"
    data = json.loads(upload.data.decode("utf-8"))
    assert data == await engine.export(ALICE_REF)
    assert data["user"]["platform_user_id"] == str(ALICE) and len(data["emotion_events"]) == 1
    assert "비가 와서" not in upload.data.decode("utf-8")  # labels and times, never the text


async def test_unknown_command_points_to_help(bot: TelegramRunner, server: FakeTelegramServer) -> None:
    await server.queue_update(command_update(ALICE, "/weather"))
    await server.wait_for("sendMessage", to(ALICE, texts.UNKNOWN_COMMAND))
    await server.queue_update(command_update(ALICE, "/help"))
    await server.wait_for("sendMessage", to(ALICE, texts.HELP))


async def test_a_crisis_message_gets_the_crisis_card(bot: TelegramRunner, server: FakeTelegramServer) -> None:
    await server.queue_update(text_update(ALICE, "요즘 너무 힘들어서 죽고 싶어"))
    [card, *_] = await server.wait_for("sendMessage", to(ALICE))
    assert "109" in card.params["text"]


async def test_a_reply_over_4096_characters_arrives_in_pieces(
    bot: TelegramRunner, server: FakeTelegramServer, engine: InProcessEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = engine.respond
    paragraph = "천천히 이야기해 주셔서 고마워요. 마음이 조금은 가벼워지셨으면 좋겠어요. " * 30

    async def long_reply(message: Any) -> Any:
        result = await real(message)  # the real engine runs; only the reply is made long
        return dataclasses.replace(result, reply="\n".join([paragraph.strip()] * 6))

    monkeypatch.setattr(engine, "respond", long_reply)
    await server.queue_update(text_update(ALICE, "오늘 너무 우울해"))
    calls = await server.wait_for("sendMessage", to(ALICE), count=3)
    pieces = [c.params["text"] for c in calls if not buttons(c)]
    assert len(pieces) >= 2 and all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in pieces)
    assert "\n".join(pieces) == "\n".join([paragraph.strip()] * 6)


# Not text, groups ------------------------------------------------------------------------------


async def test_stickers_photos_voice_files_and_edits_get_a_kind_answer(
    bot: TelegramRunner, server: FakeTelegramServer
) -> None:
    photo = [{"file_id": "p", "file_unique_id": "p", "width": 10, "height": 10}]
    voice = {"file_id": "v", "file_unique_id": "v", "duration": 3}
    document = {"file_id": "d", "file_unique_id": "d", "file_name": "일기.pdf"}
    await server.queue_update(sticker_update(ALICE))
    await server.queue_update({"message": message(ALICE, photo=photo)})
    await server.queue_update({"message": message(ALICE, voice=voice)})
    await server.queue_update({"message": message(ALICE, document=document)})
    await server.queue_update(edited_update(ALICE, "고친 메시지"))
    answers = await server.wait_for("sendMessage", to(ALICE), count=5)
    assert [a.params["text"] for a in answers] == [texts.NOT_TEXT] * 4 + [texts.EDITED]


async def test_group_messages_are_answered_only_when_addressed(
    bot: TelegramRunner, server: FakeTelegramServer, engine: InProcessEngine
) -> None:
    group = group_chat()
    gid = group["id"]
    await server.queue_update(text_update(ALICE, "다들 점심 뭐 먹어?", chat=group))
    await server.queue_update(sticker_update(ALICE, chat=group))
    await server.queue_update(command_update(ALICE, "/weather", chat=group))
    await server.wait_idle("sendMessage", quiet_s=0.5)
    assert server.calls_to("sendMessage") == [] and server.calls_to("sendChatAction") == []

    await server.queue_update(mention_update(ALICE, "오늘 좀 힘들었어", group))
    [reply] = await server.wait_for("sendMessage", to(gid))
    assert reply.params["text"].strip() and not buttons(reply)
    assert reply.params["reply_parameters"]["message_id"]  # a reply to her message, so it's clear whose
    # A reply to the bot's message counts as addressing it too.
    await server.queue_update(text_update(BOB, "나도 그래", chat=group, reply_to=reply.result))
    await server.wait_for("sendMessage", to(gid), count=2)
    await server.wait_idle("sendMessage")
    # No consent prompt in front of the group: that is asked in the private chat.
    assert not any(buttons(c) for c in server.calls_to("sendMessage"))


@pytest.mark.parametrize("command", ["/mood", "/export", "/forget"])
async def test_private_commands_are_refused_in_groups(
    bot: TelegramRunner, server: FakeTelegramServer, engine: InProcessEngine, command: str
) -> None:
    await grant_consent(server, engine, ALICE)
    await talk(server, ALICE, "오늘 너무 우울해", replies_before=1)
    group = group_chat()
    await server.queue_update(command_update(ALICE, command, chat=group))
    await server.wait_for("sendMessage", to(group["id"], texts.PRIVATE_ONLY))
    assert not server.calls_to("sendPhoto") and not server.calls_to("sendDocument")
    assert len((await engine.export(ALICE_REF))["emotion_events"]) == 1


# Rate limits, errors, logs ---------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning:telegram")
async def test_429_retry_after_is_honoured_and_the_reply_still_arrives(
    bot: TelegramRunner, server: FakeTelegramServer
) -> None:
    server.fail_once("sendMessage", retry_after=1)
    await server.queue_update(text_update(ALICE, "오늘 너무 우울해"))
    [reply] = await server.wait_for("sendMessage", to(ALICE))
    [limited] = [c for c in server.calls_to("sendMessage", ok_only=False) if c.status == 429]
    assert limited.params["text"] == reply.params["text"]
    assert server.calls.index(limited) < server.calls.index(reply)
    assert reply.at - limited.at >= 1.0


@pytest.mark.filterwarnings("ignore::DeprecationWarning:telegram")
async def test_failures_are_logged_without_text_or_token_and_the_user_is_told(
    bot: TelegramRunner,
    server: FakeTelegramServer,
    engine: InProcessEngine,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    restore_log_levels: None,
) -> None:
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    secret = "아무에게도 말 못 한 비밀 이야기"

    await grant_consent(server, engine, ALICE)
    server.fail_once("sendMessage", retry_after=1)  # a 429 on the way, logged by the rate limiter
    await talk(server, ALICE, secret, replies_before=1)
    assert [c for c in server.calls_to("sendMessage", ok_only=False) if c.status == 429]
    await server.queue_update(command_update(ALICE, "/export"))
    await server.wait_for("sendDocument", to(ALICE))

    async def broken(message: Any) -> Any:
        raise RuntimeError(f"engine exploded on {message.text}")

    monkeypatch.setattr(engine, "respond", broken)
    await server.queue_update(text_update(ALICE, secret))
    await server.wait_for("sendMessage", to(ALICE, texts.SOMETHING_WENT_WRONG))

    assert "RuntimeError" in caplog.text  # the failure is logged…
    for record in caplog.records:  # …but never the text or the token
        line = record.getMessage() + (record.exc_text or "")
        assert secret not in line and TOKEN not in line and TOKEN.split(":")[1] not in line


@pytest.fixture
def restore_log_levels() -> Iterator[None]:
    names = ["", "httpx", "httpcore", "telegram", "telegram.ext", "discord", "aiohttp.access", "tornado"]
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


# Webhook ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_registers_checks_the_secret_and_answers(
    engine: InProcessEngine, server: FakeTelegramServer, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/maeum/telegram"
    settings = make_settings(
        server,
        tmp_path,
        telegram_webhook_url=url,
        telegram_webhook_secret="s3cret-Token_1",
        telegram_webhook_listen="127.0.0.1",
        telegram_webhook_port=port,
    )
    runner = TelegramRunner(engine, settings)
    await runner.start()
    try:
        [registered] = server.calls_to("setWebhook")
        assert registered.params["url"] == url and registered.params["secret_token"] == "s3cret-Token_1"
        assert not server.calls_to("getUpdates")

        # A forged update (wrong secret) is rejected and never reaches the engine.
        assert await server.deliver_webhook(text_update(ALICE, "가짜"), secret="wrong") == 403
        await server.wait_idle("sendMessage")
        assert server.calls_to("sendMessage") == []

        assert await server.deliver_webhook(text_update(ALICE, "오늘 너무 우울해")) == 200
        reply, _prompt = await server.wait_for("sendMessage", to(ALICE), count=2)
        assert reply.params["text"].strip()

        assert await server.deliver_webhook(sticker_update(ALICE)) == 200
        await server.wait_for("sendMessage", to(ALICE, texts.NOT_TEXT))
    finally:
        await runner.stop()

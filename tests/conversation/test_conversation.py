"""The conversation core end to end: the real in-process engine with tiny real models."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.client import EngineClient, InProcessEngine
from engine.types import IncomingMessage, ReplySource, UserRef
from tests.fakes.engine import first_reply, make_engine, say

LABELS = {"일상", "기쁨", "불안", "슬픔", "분노", "우울"}


@pytest.fixture
async def engine(
    tiny_emotion_model: Path, tiny_chat_model: Path, sqlite_url: str
) -> AsyncIterator[InProcessEngine]:
    engine = make_engine(tiny_emotion_model, tiny_chat_model, sqlite_url)
    await engine.start()
    yield engine
    await engine.close()


async def test_message_goes_through_emotion_store_and_reply(engine: InProcessEngine) -> None:
    assert isinstance(engine, EngineClient)
    user = UserRef("console", "me")
    await engine.set_consent(user, True)
    result, stored = await say(engine, IncomingMessage(user, "오늘 너무 우울해"))
    assert result.emotion in LABELS
    assert result.confidence is not None and 0 < result.confidence <= 1
    assert result.source in (ReplySource.GENERATED, ReplySource.REFLECTIVE, ReplySource.BANK)
    assert result.reply.strip()
    assert stored is True
    [event] = (await engine.export(user))["emotion_events"]
    assert event["label"] == result.emotion
    assert "text" not in event and "오늘 너무 우울해" not in str(event)


async def test_without_consent_it_talks_but_stores_nothing(engine: InProcessEngine) -> None:
    user = UserRef("telegram", "1")
    result, stored = await say(engine, IncomingMessage(user, "오늘 너무 우울해"))
    assert result.reply and stored is False
    assert (await engine.user_status(user)).known is False  # not even a user row
    assert (await engine.export(user))["emotion_events"] == []


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t ", "\x00\x01\x1b[31m", "\u202e\u202d"],
)
async def test_empty_input_gets_a_kind_answer_without_models(engine: InProcessEngine, text: str) -> None:
    result = await engine.respond(IncomingMessage(UserRef("console", "me"), text))
    assert result.source is ReplySource.GUARD and result.emotion is None and result.reply


@pytest.mark.parametrize("text", ["🙂🙂🙂", "hello, how are you?", "مرحبا", "ㅋㅋㅋㅋ", "?!"])
async def test_unusual_input_still_gets_a_reply(engine: InProcessEngine, text: str) -> None:
    result = await engine.respond(IncomingMessage(UserRef("console", "me"), text))
    assert result.reply and result.emotion in LABELS


async def test_over_long_input_gets_a_kind_limit_message(engine: InProcessEngine) -> None:
    result = await engine.respond(IncomingMessage(UserRef("console", "me"), "가" * 20_000))
    assert result.source is ReplySource.GUARD and "1000자" in result.reply


async def test_crisis_message_gets_the_card_before_any_model(engine: InProcessEngine) -> None:
    result = await engine.respond(IncomingMessage(UserRef("console", "me"), "죽고 싶어"))
    assert result.source is ReplySource.CRISIS and "109" in result.reply
    assert result.emotion is None


async def test_concurrent_users_each_get_their_own_result(engine: InProcessEngine) -> None:
    users = [UserRef("discord", str(i)) for i in range(12)]
    for user in users:
        await engine.set_consent(user, True)
    results = await asyncio.gather(
        *(say(engine, IncomingMessage(u, f"오늘 {i}번째 이야기")) for i, u in enumerate(users))
    )
    assert all(r.emotion in LABELS and stored for r, stored in results)
    for user in users:
        assert len((await engine.export(user))["emotion_events"]) == 1
    assert engine.worker.largest_batch > 1


async def test_an_engine_without_bank_or_generator_answers_reflectively(
    tiny_emotion_model: Path, sqlite_url: str
) -> None:
    from engine.conversation.reflective import reflective_options

    result = await first_reply(tiny_emotion_model, sqlite_url, "그냥 그래")
    # Nothing to match or generate with: a reflective reply that fits the detected feeling.
    assert result.source is ReplySource.REFLECTIVE
    assert result.reply in reflective_options(result.emotion, True, "그냥 그래") + reflective_options(
        result.emotion, False, "그냥 그래"
    )


async def test_model_failure_gives_an_apology_not_a_crash(
    engine: InProcessEngine, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(batch: list[str]) -> list[object]:
        raise RuntimeError("CUDA out of memory")

    engine.worker._handlers = {**engine.worker._handlers, "emotion": broken}
    with caplog.at_level(logging.ERROR):
        result = await engine.respond(IncomingMessage(UserRef("console", "me"), "비밀 메시지 내용"))
    assert result.source is ReplySource.FALLBACK and "죄송" in result.reply
    assert "emotion model failed" in caplog.text and "비밀 메시지 내용" not in caplog.text


async def test_forget_deletes_history_and_context(engine: InProcessEngine) -> None:
    user = UserRef("console", "me")
    await engine.set_consent(user, True)
    await say(engine, IncomingMessage(user, "오늘 기분 좋아"))
    assert await engine.forget(user) is True
    assert (await engine.export(user))["user"] is None


async def test_missing_model_fails_start_with_the_setting_named(tmp_path: Path, sqlite_url: str) -> None:
    from engine.errors import ModelLoadError

    engine = make_engine(tmp_path / "no-such-model", None, sqlite_url)
    with pytest.raises(ModelLoadError, match="MAEUM_EMOTION_MODEL"):
        await engine.start()
    await engine.close()


def test_reflective_replies_keep_the_banks_rules_and_pass_the_safety_checks() -> None:
    from engine.conversation import reflective
    from engine.conversation.bank import reply_problems
    from engine.safety import assess, is_safe_reply

    groups = [*reflective.BY_EMOTION.values(), *reflective.TOLD.values()]
    groups += [reflective.TOLD_UNCERTAIN, reflective.QUESTION, reflective.UNCERTAIN, reflective.FOLLOW_UP]
    for group in groups:
        for reply in group:
            assert not reply_problems(reply), reply
            assert is_safe_reply(reply) and not assess(reply).is_crisis, reply

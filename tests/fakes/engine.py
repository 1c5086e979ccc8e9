"""The real in-process engine with the tiny test models, as the tests use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.client import EngineClient, InProcessEngine
from engine.conversation.service import ConversationPolicy
from engine.inference.generation import DecodingConfig
from engine.inference.models import ModelConfig, ModelSet
from engine.safety import CrisisScreen
from engine.safety.learned import CrisisModel
from engine.store import EmotionStore
from engine.types import ConversationResult, IncomingMessage, UserRef
from tests.conftest import REPO


def make_engine(emotion: Path, chat: Path | None, url: str, **policy: Any) -> InProcessEngine:
    """``policy`` overrides :class:`ConversationPolicy` fields (e.g. ``empathy_first=False``)."""
    models = ModelSet(
        ModelConfig(
            emotion=str(emotion),
            reply=str(chat) if chat else None,
            device="cpu",
            decoding=DecodingConfig(max_new_tokens=8),
        )
    )
    return InProcessEngine(
        models, EmotionStore(url), ConversationPolicy(**policy), crisis_screen=bundled_screen()
    )


async def first_reply(emotion: Path, url: str, text: str) -> ConversationResult:
    """A new console user's first message to an engine with no bank and no generator."""
    engine = make_engine(emotion, None, url)
    await engine.start()
    try:
        return await engine.respond(IncomingMessage(UserRef("console", "me"), text))
    finally:
        await engine.close()


def bundled_screen() -> CrisisScreen:
    """The crisis check as users get it: the rules OR the bundled learned model."""
    model = CrisisModel.load(REPO / "models" / "maeum-crisis")
    return CrisisScreen(model, model.threshold)


async def say(engine: EngineClient, message: IncomingMessage) -> tuple[ConversationResult, bool]:
    """What an adapter does: respond, deliver (here: nothing to deliver), then acknowledge.
    Returns the result and whether an emotion event was stored."""
    result = await engine.respond(message)
    stored = await engine.acknowledge(result.receipt) if result.receipt is not None else False
    return result, stored

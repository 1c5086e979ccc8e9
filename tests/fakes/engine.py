"""The real in-process engine with the tiny test models, as the tests use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.client import InProcessEngine
from engine.conversation.service import ConversationPolicy
from engine.inference.generation import DecodingConfig
from engine.inference.models import ModelConfig, ModelSet
from engine.store import EmotionStore


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
    return InProcessEngine(models, EmotionStore(url), ConversationPolicy(**policy))

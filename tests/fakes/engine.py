"""The real in-process engine with the tiny test models, as the platform tests use it."""

from __future__ import annotations

from pathlib import Path

from engine.client import InProcessEngine
from engine.generation import DecodingConfig
from engine.models import ModelConfig, ModelSet
from engine.store import EmotionStore


def make_engine(emotion: Path, chat: Path | None, url: str) -> InProcessEngine:
    models = ModelSet(
        ModelConfig(
            emotion=str(emotion),
            reply=str(chat) if chat else None,
            device="cpu",
            decoding=DecodingConfig(max_new_tokens=8),
        )
    )
    return InProcessEngine(models, EmotionStore(url))

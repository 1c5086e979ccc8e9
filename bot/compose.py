"""The one place that composes settings, store, engine and adapters."""

from __future__ import annotations

import logging
from datetime import timedelta

from engine.client import InProcessEngine
from engine.conversation import ConversationPolicy
from engine.generation import DecodingConfig
from engine.models import ModelConfig, ModelSet
from engine.settings import Settings
from engine.store import EmotionStore

QUIET_LOGGERS = ("httpx", "httpcore", "telegram.ext", "discord.http", "discord.gateway")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Request URLs carry the bot token (Telegram puts it in the path): keep these libraries quiet.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def model_config(settings: Settings) -> ModelConfig:
    return ModelConfig(
        emotion=settings.emotion_model,
        reply=settings.reply_model or None,
        intent=settings.intent_model or None,
        device=settings.device,
        decoding=DecodingConfig(
            max_new_tokens=settings.max_new_tokens,
            temperature=settings.temperature,
            top_p=settings.top_p,
            repetition_penalty=settings.repetition_penalty,
            no_repeat_ngram_size=settings.no_repeat_ngram_size,
        ),
    )


def build_engine(settings: Settings) -> InProcessEngine:
    policy = ConversationPolicy(
        intent_threshold=settings.intent_threshold,
        max_message_chars=settings.max_message_chars,
        context_turns=settings.context_turns,
        context_ttl=timedelta(minutes=settings.context_ttl_minutes),
    )
    return InProcessEngine(
        ModelSet(model_config(settings)),
        EmotionStore(settings.resolved_database_url),
        policy,
        batch_size=settings.batch_size,
        batch_window_s=settings.batch_window_ms / 1000,
        threads=settings.threads,
    )

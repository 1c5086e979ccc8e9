"""The one place that composes settings, store, engine and adapters."""

from __future__ import annotations

from datetime import timedelta

from bot.logs import configure_logging
from engine.client import InProcessEngine
from engine.conversation import ConversationPolicy
from engine.generation import DecodingConfig
from engine.models import ModelConfig, ModelSet
from engine.settings import Settings
from engine.store import EmotionStore

__all__ = ["build_engine", "configure_logging", "model_config"]


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
        default_zone=settings.zone,
    )


# --- Chat platforms (appended) ---------------------------------------------------------------
# Imports for this section sit here rather than at the top so the section stays self-contained.
import logging  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:
    from bot.discord_bot import MaeumDiscordBot
    from bot.telegram_bot import TelegramRunner
    from engine.client import EngineClient

# The chat platforms' libraries log request bodies (message text) at DEBUG, and discord.py's
# webhook logger puts interaction tokens in URLs: keep them at WARNING even when MAEUM_LOG_LEVEL
# is DEBUG. Our own adapters log what happened, never the text.
PLATFORM_QUIET_LOGGERS = ("telegram", "discord", "aiohttp.access", "tornado.access")


def quiet_platform_loggers() -> None:
    for name in PLATFORM_QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def build_telegram(settings: Settings, engine: EngineClient) -> TelegramRunner:
    """The Telegram application over ``engine``, ready to start (polling, or a webhook if set)."""
    # Imported here: each platform's library is an optional extra.
    from bot.telegram_bot import TelegramRunner, build_application

    return TelegramRunner(build_application(engine, settings), settings)


def build_discord(settings: Settings, engine: EngineClient) -> MaeumDiscordBot:
    """The Discord bot over ``engine``; run it with ``await bot.start(token)``."""
    from bot.discord_bot import MaeumDiscordBot

    return MaeumDiscordBot(engine, settings)

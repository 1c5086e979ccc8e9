"""The one place that composes settings, store, engine and adapters."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.logs import configure_logging
from engine.client import InProcessEngine
from engine.conversation import ConversationPolicy
from engine.inference import DecodingConfig, ModelConfig, ModelSet
from engine.mood import QuietHours
from engine.safety import CrisisScreen
from engine.safety.learned import CrisisModel
from engine.settings import Settings
from engine.store import EmotionStore

if TYPE_CHECKING:
    from bot.discord_bot import MaeumDiscordBot
    from bot.telegram_bot import TelegramRunner
    from engine.client import EngineClient, ModelBackend

__all__ = [
    "build_client",
    "build_discord",
    "build_engine",
    "build_telegram",
    "configure_logging",
    "crisis_screen",
    "model_config",
]


def model_config(settings: Settings) -> ModelConfig:
    return ModelConfig(
        emotion=settings.emotion_model,
        reply=settings.reply_model or None,
        intent=settings.intent_model or None,
        bank=settings.bank_model or None,
        threads=settings.threads,
        device=settings.device,
        emotion_precision=settings.emotion_precision,
        emotion_runtime=settings.emotion_runtime,
        reply_precision=settings.reply_precision,
        decoding=DecodingConfig(
            max_new_tokens=settings.max_new_tokens,
            temperature=settings.temperature,
            top_p=settings.top_p,
            repetition_penalty=settings.repetition_penalty,
            no_repeat_ngram_size=settings.no_repeat_ngram_size,
        ),
    )


def build_engine(
    settings: Settings, backend: ModelBackend | None = None, *, crisis_settle_s: float = 0.0
) -> InProcessEngine:
    """The engine in this process; its models on the worker thread here unless ``backend`` says
    where else they run (``maeum serve``: Ray Serve model replicas). ``crisis_settle_s``: see
    ``ConversationPolicy`` (the served engine waits for the heightened state to be shared)."""
    policy = ConversationPolicy(
        intent_threshold=settings.intent_threshold,
        max_message_chars=settings.max_message_chars,
        context_turns=settings.context_turns,
        context_ttl=timedelta(minutes=settings.context_ttl_minutes),
        rate_per_minute=settings.rate_limit_per_minute,
        rate_burst=settings.rate_limit_burst,
        bank_threshold=settings.bank_threshold,
        crisis_settle_s=crisis_settle_s,
    )
    return InProcessEngine(
        ModelSet(model_config(settings)),
        EmotionStore(settings.resolved_database_url),
        policy,
        batch_size=settings.batch_size,
        batch_window_s=settings.batch_window_ms / 1000,
        threads=settings.threads,
        default_zone=settings.zone,
        retention_days=settings.retention_days,
        quiet_hours=QuietHours.parse(settings.checkin_quiet_hours),
        crisis_screen=crisis_screen(settings),
        backend=backend,
    )


def build_client(settings: Settings) -> EngineClient:
    """What the front-ends talk to: a remote engine when ``MAEUM_ENGINE_URL`` is set (no models
    load here, only the crisis screen), else the engine in this process."""
    if not settings.engine_url:
        return build_engine(settings)
    from engine.remote.client import RemoteEngine

    token = settings.engine_token.get_secret_value() if settings.engine_token else ""
    return RemoteEngine(
        settings.engine_url, token, screen=crisis_screen(settings), timeout_s=settings.engine_timeout_s
    )


def crisis_screen(settings: Settings) -> CrisisScreen:
    """Rules OR the learned model; a missing model leaves the rules (with a warning), never no check."""
    model = CrisisModel.load_or_none(settings.crisis_model)
    return CrisisScreen(model, model.threshold) if model is not None else CrisisScreen()


# Chat platforms. Each platform's library is an optional extra, so they are imported late.


def build_telegram(settings: Settings, engine: EngineClient) -> TelegramRunner:
    """The Telegram application over ``engine``, ready to start (polling, or a webhook if set)."""
    from bot.telegram_bot import TelegramRunner

    return TelegramRunner(engine, settings)


def build_discord(settings: Settings, engine: EngineClient) -> MaeumDiscordBot:
    """The Discord bot over ``engine``; run it with ``await bot.start(token)``."""
    from bot.discord_bot import MaeumDiscordBot

    return MaeumDiscordBot(engine, settings)

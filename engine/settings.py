"""Settings, read from ``MAEUM_*`` environment variables and ``.env`` (see ``.env.example``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Models trained by `maeum train` and committed with the project (see models/README.md).
BUNDLED_MODELS = Path(__file__).resolve().parent.parent / "models"


# Inference precision per model; engine/inference/quantize.py applies it (settings stay torch-free).
Precision = Literal["auto", "fp32", "int8", "fp16", "bf16"]


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "maeum"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MAEUM_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,  # `KEY=` lines copied from .env.example mean "use the default"
    )

    # Storage
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    retention_days: int = Field(default=365, ge=1)

    # Models
    # Char n-gram TF-IDF, calibrated (no torch); a KoBERT-style checkpoint directory or hub id works too.
    emotion_model: str = str(BUNDLED_MODELS / "maeum-emotion")
    # The compiled reply bank and its e5 matcher; `none` turns the bank off.
    bank_model: str | None = str(BUNDLED_MODELS / "maeum-bank")
    # A GPT-2-style generator that answers when the bank is not sure; off by default: the bundled
    # maeum-mini-chat does worse than a reflective reply on the judged dev set (see README).
    reply_model: str | None = None
    # Wellness-intent answers; off by default for the same reason.
    intent_model: str | None = None
    # The learned crisis classifier beside the rules (rules OR model show the card); `none`: rules only.
    crisis_model: str | None = str(BUNDLED_MODELS / "maeum-crisis")
    # Chosen on the bundled intent model's validation split (label-smoothed, so its confidences
    # are compressed): 100% precision there, on ~4% of messages.
    intent_threshold: float = Field(default=0.35, ge=0.0, le=1.0)
    # The bank's own "not sure" line unless set (0-1, higher: fewer bank replies, more reflective ones).
    bank_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int | None = Field(default=None, ge=1)
    batch_size: int = Field(default=16, ge=1, le=256)
    batch_window_ms: float = Field(default=0.0, ge=0.0, le=1000.0)
    # auto: int8 on a CPU, bf16/fp16 on a GPU (see engine/inference/quantize.py and docs/performance.md).
    emotion_precision: Precision = "auto"
    reply_precision: Precision = "auto"
    # A KoBERT-style emotion model on a CPU: auto takes ONNX Runtime int8 when `maeum[onnx]` is
    # installed (faster by measurement, docs/performance.md), torch int8 otherwise.
    emotion_runtime: Literal["auto", "torch", "onnx"] = "auto"

    # Reply generation
    max_new_tokens: int = Field(default=32, ge=1, le=256)
    temperature: float = Field(default=0.8, gt=0.0, le=5.0)
    top_p: float = Field(default=0.9, gt=0.0, le=1.0)
    repetition_penalty: float = Field(default=1.2, ge=1.0, le=5.0)
    no_repeat_ngram_size: int = Field(default=3, ge=0, le=10)
    # Off by default (privacy): earlier turns are kept only in memory, and only when enabled here.
    context_turns: int = Field(default=0, ge=0, le=10)
    context_ttl_minutes: int = Field(default=30, ge=1)
    max_message_chars: int = Field(default=1000, ge=10)
    rate_limit_per_minute: float = Field(default=20.0, ge=0.0)
    rate_limit_burst: int = Field(default=8, ge=1)

    # People
    timezone: str = "Asia/Seoul"
    # Check-ins are never sent in these local hours ("HH:MM-HH:MM"; empty: none).
    checkin_quiet_hours: str = "23:00-07:00"

    # Platforms
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = 8443
    discord_token: SecretStr | None = None
    discord_guild_id: int | None = None
    discord_api_base: str | None = None
    # Sharding, for several processes that split the gateway: the total, and this process's ids
    # ("0,1"; empty: all of them). Unset: one shard, decided by Discord.
    discord_shard_count: int | None = Field(default=None, ge=1)
    discord_shard_ids: str | None = None

    # Scale-out (docs/scaling.md). Set: `maeum run`/`maeum chat` talk to a `maeum serve` engine
    # there instead of loading models (the crisis screen still runs here too).
    engine_url: str | None = None
    # The shared secret between front-ends and `maeum serve` (Authorization: Bearer …).
    engine_token: SecretStr | None = None
    engine_timeout_s: float = Field(default=15.0, gt=0.0, le=300.0)
    # `maeum serve`: model replicas (autoscaling between min and max), GPUs per model replica
    # (auto: 1 when CUDA is present, else 0) and front-door replicas.
    serve_min_replicas: int = Field(default=1, ge=0)
    serve_max_replicas: int = Field(default=4, ge=1)
    serve_gpus_per_replica: float | None = Field(default=None, ge=0.0)
    serve_ingress_replicas: int = Field(default=1, ge=1)

    # None: each command picks (WARNING in the console, INFO for the bots).
    log_level: str | None = None

    @field_validator("reply_model", "intent_model", "crisis_model", "bank_model", mode="before")
    @classmethod
    def _none_disables(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("none", "off") else value

    @field_validator("emotion_precision", "reply_precision", mode="before")
    @classmethod
    def _lower_precision(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("checkin_quiet_hours", mode="before")
    @classmethod
    def _no_quiet_hours(cls, value: object) -> object:
        # An empty variable means "the default" (env_ignore_empty), so "none" is how to say none.
        return "" if isinstance(value, str) and value.strip().lower() in ("none", "off") else value

    @field_validator("checkin_quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        from engine.errors import CheckinError
        from engine.mood import QuietHours

        try:
            QuietHours.parse(value)
        except CheckinError as exc:
            raise ValueError("use HH:MM-HH:MM, e.g. 23:00-07:00") from exc
        return value

    @field_validator("discord_shard_ids")
    @classmethod
    def _shard_ids(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            [int(part) for part in value.split(",")]
        except ValueError as exc:
            raise ValueError("use comma-separated shard numbers, e.g. 0,1") from exc
        return value

    @property
    def shard_ids(self) -> list[int] | None:
        return None if self.discord_shard_ids is None else [int(p) for p in self.discord_shard_ids.split(",")]

    @field_validator("data_dir")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like 'Asia/Seoul'") from exc
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'maeum.db'}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

"""The engine's neutral types: what adapters send in and get back, free of any platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class UserRef:
    """A person on one platform; ids come from the platform's update, never from user input."""

    platform: str
    user_id: str

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class IncomingMessage:
    user: UserRef
    text: str
    # The platform's id for this update (dedupe across restarts); None for the console.
    update_id: str | None = None
    received_at: datetime | None = None


class ReplySource(StrEnum):
    """Where a reply came from, in the order the reply policy tries them."""

    CRISIS = "crisis"
    GUARD = "guard"  # input the models never saw: empty, too long, rate-limited
    INTENT = "intent"
    EMPATHY = "empathy"  # a curated answer matched to the detected emotion
    GENERATED = "generated"
    FALLBACK = "fallback"
    DUPLICATE = "duplicate"  # a redelivered platform update: already answered, send nothing


@dataclass(frozen=True)
class EmotionPrediction:
    label: str
    confidence: float
    distribution: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class IntentPrediction:
    category: str
    confidence: float


@dataclass(frozen=True)
class ConversationResult:
    reply: str
    source: ReplySource
    emotion: str | None = None
    confidence: float | None = None
    distribution: dict[str, float] = field(default_factory=dict)
    stored: bool = False
    intent: str | None = None


@dataclass(frozen=True)
class ChatTurn:
    """One exchange kept briefly, in memory only, as context for the next reply."""

    user: str
    bot: str

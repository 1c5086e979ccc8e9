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


class MessageKind(StrEnum):
    MESSAGE = "message"
    EDIT = "edit"  # an edited message: read for a crisis, not answered as a new message


@dataclass(frozen=True)
class IncomingMessage:
    user: UserRef
    text: str
    # The platform's id for this update, unique per bot (dedupe across restarts); None for the console.
    update_id: str | None = None
    received_at: datetime | None = None
    # Forwarded, quoted or replied-to text: the crisis check reads it, the reply policy does not.
    quoted: tuple[str, ...] = ()
    # The text itself is someone else's, forwarded by the person.
    forwarded: bool = False
    kind: MessageKind = MessageKind.MESSAGE


class ReplySource(StrEnum):
    """Where a reply came from, in the order the reply policy tries them."""

    CRISIS = "crisis"
    GUARD = "guard"  # input the models never saw: empty, too long, rate-limited
    BANK = "bank"  # the reply bank: a situation matched with confidence
    INTENT = "intent"
    GENERATED = "generated"
    REFERRAL = "referral"  # a practical question: who can answer it (engine/conversation/referral.py)
    REFLECTIVE = "reflective"  # not sure what it is about: reflect the feeling, invite more
    FALLBACK = "fallback"
    DUPLICATE = "duplicate"  # a redelivered platform update: already answered, send nothing
    QUIET = "quiet"  # nothing to send: a repeat of a notice already given, an edit with no crisis


@dataclass(frozen=True)
class EmotionPrediction:
    label: str
    confidence: float  # calibrated where the model carries a temperature
    distribution: dict[str, float] = field(default_factory=dict)
    # Below the model's threshold: the reply assumes no feeling, the mood report says "잘 모르겠음".
    uncertain: bool = False


@dataclass(frozen=True)
class IntentPrediction:
    category: str
    confidence: float


@dataclass(frozen=True)
class Receipt:
    """What to record once a reply has been delivered (``EngineClient.acknowledge``): the update as
    handled and, with consent, the emotion. Recording after delivery, not before, is what lets a
    crash between the two end in a redelivery that is answered, instead of one dropped as done."""

    user: UserRef
    at: datetime
    update_id: str | None = None
    emotion: EmotionPrediction | None = None


@dataclass(frozen=True)
class ConversationResult:
    reply: str  # empty: send nothing (a duplicate, or a notice already given)
    source: ReplySource
    emotion: str | None = None
    confidence: float | None = None
    distribution: dict[str, float] = field(default_factory=dict)
    uncertain: bool = False
    intent: str | None = None
    situation: str | None = None  # the bank situation that answered
    receipt: Receipt | None = None


@dataclass(frozen=True)
class ChatTurn:
    """One exchange kept briefly, in memory only, as context for the next reply."""

    user: str
    bot: str


@dataclass(frozen=True)
class InboxEntry:
    """A platform update held until it is answered: its id, whose it is, and the raw update."""

    entry_id: str
    user_key: str | None
    payload: str
    received_at: datetime

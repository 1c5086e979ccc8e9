"""One message in, one neutral result out: crisis check → emotion → store → reply.

Reply policy, in order: the crisis card (before any model or database) → a wellness-intent
answer when that classifier is confident → a generated reply that passes the output check →
a safe supportive fallback. ``ConversationResult.source`` says which one answered.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from engine.conversation.context import ContextMemory
from engine.conversation.empathy import NEGATIVE, empathetic_reply
from engine.conversation.ratelimit import RateLimiter
from engine.conversation.text import clean_input
from engine.errors import MaeumError
from engine.inference import GenerationRequest
from engine.safety import (
    CRISIS_CARD,
    HEIGHTENED_REPLY_SUFFIX,
    CrisisTracker,
    assess,
    choose_fallback,
    is_safe_reply,
)
from engine.store import DuplicateUpdateError, EmotionStore
from engine.types import (
    ChatTurn,
    ConversationResult,
    EmotionPrediction,
    IncomingMessage,
    IntentPrediction,
    ReplySource,
)

log = logging.getLogger(__name__)

EMPTY_REPLY = "하고 싶은 이야기를 편하게 적어 주세요. 천천히 기다릴게요."
TOO_LONG_REPLY = (
    "이야기가 길어서 제가 한 번에 다 읽지 못했어요. {limit}자 이내로 나눠서 보내 주시면 차근차근 들을게요."
)
RATE_LIMITED_REPLY = "메시지가 너무 빨리 이어지고 있어요. 잠깐 숨을 고르고, 조금 천천히 이야기해 주세요."
MODEL_FAILURE_REPLY = (
    "죄송해요, 지금 제 쪽에 문제가 생겨서 답을 드리지 못했어요. 잠시 뒤에 다시 말씀해 주시겠어요?"
)


class Inference(Protocol):
    """What the conversation needs from the models; the worker-backed engine provides it."""

    @property
    def has_intent(self) -> bool: ...

    @property
    def has_generator(self) -> bool: ...

    async def classify(self, text: str) -> EmotionPrediction: ...

    async def intent(self, text: str) -> IntentPrediction: ...

    def intent_answer(self, category: str, rng: random.Random) -> str | None: ...

    async def generate(self, request: GenerationRequest) -> str: ...


@dataclass(frozen=True)
class ConversationPolicy:
    intent_threshold: float = 0.35
    max_message_chars: int = 1000
    context_turns: int = 0
    context_ttl: timedelta = timedelta(minutes=30)
    rate_per_minute: float = 20.0
    rate_burst: int = 8
    empathy_first: bool = True


class ConversationService:
    def __init__(
        self,
        inference: Inference,
        store: EmotionStore | None,
        policy: ConversationPolicy | None = None,
        tracker: CrisisTracker | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.inference = inference
        self.store = store
        self.policy = policy or ConversationPolicy()
        self.tracker = tracker or CrisisTracker()
        self.context = ContextMemory(self.policy.context_turns, self.policy.context_ttl)
        self.clock = clock
        self.rng = rng or random.Random()
        self.limiter = RateLimiter(self.policy.rate_per_minute, self.policy.rate_burst)
        self._background: set[asyncio.Task[None]] = set()

    async def handle(self, message: IncomingMessage) -> ConversationResult:
        now = message.received_at or self.clock()
        key = message.user.key
        text = clean_input(message.text)
        # Safety first, on the whole text, before the duplicate check, any length rule, model or
        # database: nothing that can fail or wait comes before the card. The (text-free) count is
        # written in the background; a redelivered crisis message gets the card again, which is
        # the safe way to be wrong.
        crisis = assess(text)
        if crisis.is_crisis:
            self.tracker.mark(key, now)
            self._later(self._record_crisis(message, crisis.category, now))
            return ConversationResult(reply=CRISIS_CARD, source=ReplySource.CRISIS)
        if await self._already_handled(message):
            return ConversationResult(reply="", source=ReplySource.DUPLICATE)
        guard = self._guard(text, key)
        if guard is not None:
            self._later(self._mark_processed(message, now))
            return ConversationResult(reply=guard, source=ReplySource.GUARD)

        try:
            emotion = await self.inference.classify(text)
        except MaeumError:
            raise
        except Exception as exc:
            log.error("emotion model failed: %s", type(exc).__name__)
            return ConversationResult(reply=MODEL_FAILURE_REPLY, source=ReplySource.FALLBACK)

        try:
            stored = await self._record(message, emotion, now)
        except DuplicateUpdateError:
            return ConversationResult(reply="", source=ReplySource.DUPLICATE)
        reply, source, intent = await self._reply(text, key, now, emotion)
        if self.tracker.is_heightened(key, now):
            reply = f"{reply}\n\n{HEIGHTENED_REPLY_SUFFIX}"
        return ConversationResult(
            reply=reply,
            source=source,
            emotion=emotion.label,
            confidence=emotion.confidence,
            distribution=emotion.distribution,
            stored=stored,
            intent=intent,
        )

    def _guard(self, text: str, key: str) -> str | None:
        if not text:  # nothing left once control characters and blanks are gone
            return EMPTY_REPLY
        if len(text) > self.policy.max_message_chars:
            return TOO_LONG_REPLY.format(limit=self.policy.max_message_chars)
        if not self.limiter.allow(key):
            return RATE_LIMITED_REPLY
        return None

    async def _already_handled(self, message: IncomingMessage) -> bool:
        if self.store is None or message.update_id is None:
            return False
        try:
            return await self.store.is_processed(message.user.platform, message.update_id)
        except Exception as exc:
            # Answering twice beats not answering: a store outage must not silence anyone.
            log.error("could not check an update id: %s", type(exc).__name__)
            return False

    def _later(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception as exc:
                log.error("background store write failed: %s", type(exc).__name__)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)  # keep a reference until done (the loop holds only weak ones)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for background writes (crisis counts, update ids) before shutting down."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def _record_crisis(self, message: IncomingMessage, category: str | None, now: datetime) -> None:
        if self.store is None:
            return
        await self.store.record_crisis(message.user.platform, category, now)
        await self._mark_processed(message, now)

    async def _mark_processed(self, message: IncomingMessage, now: datetime) -> None:
        if self.store is not None and message.update_id is not None:
            await self.store.mark_processed(message.user.platform, message.update_id, now)

    async def _record(self, message: IncomingMessage, emotion: EmotionPrediction, now: datetime) -> bool:
        if self.store is None:
            return False
        try:
            return await self.store.record_emotion(message.user, emotion, now, update_id=message.update_id)
        except DuplicateUpdateError:
            raise
        except Exception as exc:
            # The person still gets an answer; the history misses one point, and the log says so.
            log.error("could not record an emotion event: %s", type(exc).__name__)
            return False

    async def _reply(
        self, text: str, key: str, now: datetime, emotion: EmotionPrediction
    ) -> tuple[str, ReplySource, str | None]:
        if self.inference.has_intent:
            try:
                intent = await self.inference.intent(text)
                if intent.confidence >= self.policy.intent_threshold:
                    answer = self.inference.intent_answer(intent.category, self.rng)
                    if answer:
                        return answer, ReplySource.INTENT, intent.category
            except Exception as exc:
                log.error("intent model failed: %s", type(exc).__name__)
        if self.policy.empathy_first and emotion.label in NEGATIVE:
            curated = empathetic_reply(emotion.label, self.rng)
            if curated:
                return curated, ReplySource.EMPATHY, None
        if self.inference.has_generator:
            try:
                history = self.context.recent(key, now)
                reply = await self.inference.generate(GenerationRequest(text, history))
                if is_safe_reply(reply):
                    self.context.add(key, ChatTurn(text, reply), now)
                    return reply, ReplySource.GENERATED, None
                log.info("a generated reply failed the output check; using a fallback")
            except Exception as exc:
                log.error("reply model failed: %s", type(exc).__name__)
        matched = empathetic_reply(emotion.label, self.rng)
        return matched or choose_fallback(self.rng.randrange(1 << 30)), ReplySource.FALLBACK, None

    def forget(self, key: str) -> None:
        self.context.forget(key)
        self.tracker.clear(key)

"""The engine's one public face. Adapters talk to an :class:`EngineClient`; today it is the
in-process engine below, later it can be a remote one without touching any adapter."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from engine.conversation import ConversationPolicy, ConversationService
from engine.generation import GenerationRequest
from engine.models import ModelSet
from engine.store import EmotionStore
from engine.store.migrate import upgrade_async
from engine.types import ConversationResult, EmotionPrediction, IncomingMessage, IntentPrediction, UserRef
from engine.worker import InferenceWorker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserStatus:
    known: bool
    consent: bool | None
    timezone: str | None


@runtime_checkable
class EngineClient(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def respond(self, message: IncomingMessage) -> ConversationResult: ...

    async def user_status(self, user: UserRef) -> UserStatus: ...

    async def set_consent(self, user: UserRef, granted: bool) -> None: ...

    async def set_timezone(self, user: UserRef, zone: str) -> None: ...

    async def export(self, user: UserRef) -> dict[str, Any]: ...

    async def forget(self, user: UserRef) -> bool: ...


class WorkerInference:
    """Adapts the worker's queue to what the conversation service needs."""

    def __init__(self, worker: InferenceWorker, models: ModelSet) -> None:
        self.worker = worker
        self.models = models

    @property
    def has_intent(self) -> bool:
        return "intent" in self.worker.kinds

    @property
    def has_generator(self) -> bool:
        return "reply" in self.worker.kinds

    async def classify(self, text: str) -> EmotionPrediction:
        result: EmotionPrediction = await self.worker.submit("emotion", text)
        return result

    async def intent(self, text: str) -> IntentPrediction:
        result: IntentPrediction = await self.worker.submit("intent", text)
        return result

    def intent_answer(self, category: str, rng: random.Random) -> str | None:
        return self.models.intent_answer(category, rng)

    async def generate(self, request: GenerationRequest) -> str:
        result: str = await self.worker.submit("reply", request)
        return result


class InProcessEngine:
    """Models on a worker thread in this process, the store on this process's event loop."""

    def __init__(
        self,
        models: ModelSet,
        store: EmotionStore,
        policy: ConversationPolicy | None = None,
        *,
        batch_size: int = 8,
        batch_window_s: float = 0.005,
        threads: int | None = None,
        migrate: bool = True,
    ) -> None:
        self.models = models
        self.store = store
        self.worker = InferenceWorker(
            models.load, batch_size=batch_size, batch_window_s=batch_window_s, threads=threads
        )
        self.conversation = ConversationService(WorkerInference(self.worker, models), store, policy)
        self._migrate = migrate
        self._started = False

    async def start(self) -> None:
        if self._migrate:
            await upgrade_async(self.store.url)
        await self.worker.start()
        self._started = True

    async def close(self) -> None:
        await self.worker.stop()
        await self.store.close()

    async def respond(self, message: IncomingMessage) -> ConversationResult:
        return await self.conversation.handle(message)

    async def user_status(self, user: UserRef) -> UserStatus:
        record = await self.store.get_user(user)
        if record is None:
            return UserStatus(known=False, consent=None, timezone=None)
        return UserStatus(known=True, consent=record.consent, timezone=record.timezone)

    async def set_consent(self, user: UserRef, granted: bool) -> None:
        await self.store.set_consent(user, granted)

    async def set_timezone(self, user: UserRef, zone: str) -> None:
        await self.store.set_timezone(user, zone)

    async def export(self, user: UserRef) -> dict[str, Any]:
        return await self.store.export(user)

    async def forget(self, user: UserRef) -> bool:
        self.conversation.forget(user.key)
        return await self.store.forget(user)

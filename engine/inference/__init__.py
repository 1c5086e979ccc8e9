"""Model code: tokenizers, the emotion/intent classifiers, the reply generator and its decoding
loop, precision and quantization, and the worker thread that owns them all.

Everything here may import torch; nothing here knows about people, the store or a platform."""

from engine.inference.classifier import TextClassifier
from engine.inference.generation import (
    CHAT_TOKENS,
    EOS,
    PAD,
    DecodingConfig,
    GenerationRequest,
    ReplyGenerator,
    format_turn,
)
from engine.inference.intent import IntentResponder
from engine.inference.kobert_tokenizer import KoBERTTokenizer
from engine.inference.loading import load_tokenizer, resolve_device
from engine.inference.models import ModelConfig, ModelSet
from engine.inference.quantize import apply_precision, resolve_precision
from engine.inference.worker import BatchFn, InferenceWorker

__all__ = [
    "CHAT_TOKENS",
    "EOS",
    "PAD",
    "BatchFn",
    "DecodingConfig",
    "GenerationRequest",
    "InferenceWorker",
    "IntentResponder",
    "KoBERTTokenizer",
    "ModelConfig",
    "ModelSet",
    "ReplyGenerator",
    "TextClassifier",
    "apply_precision",
    "format_turn",
    "load_tokenizer",
    "resolve_device",
    "resolve_precision",
]

"""Text classification with any sequence-classification checkpoint (KoBERT-style by default).

Serves both the emotion model and the wellness-intent model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from engine.errors import ModelLoadError
from engine.inference.calibration import Calibration, predictions
from engine.inference.loading import check_location, load_tokenizer, model_dtype
from engine.inference.prepared import load_prepared_with_tokenizer
from engine.inference.quantize import apply_precision, load_dtype, precision_of, resolve_precision
from engine.types import EmotionPrediction

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

MAX_LENGTH = 64


class TextClassifier:
    """Labels come from the checkpoint's ``id2label``; batches pad to their longest input."""

    def __init__(
        self,
        model: PreTrainedModel | torch.nn.Module,
        tokenizer: PreTrainedTokenizerBase | Any,
        device: torch.device,
        max_length: int = MAX_LENGTH,
    ) -> None:
        self.model = model.to(device).eval()  # type: ignore[arg-type]
        self.tokenizer = tokenizer
        self.device = device
        self.max_length = max_length
        self.precision = precision_of(self.model)
        config: Any = model.config
        id2label: dict[int, str] = {int(k): str(v) for k, v in (config.id2label or {}).items()}
        self.labels = [id2label[i] for i in range(len(id2label))]
        self.calibration = Calibration()

    @classmethod
    def load(
        cls,
        location: str | Path,
        device: torch.device,
        role: str = "emotion",
        max_length: int = MAX_LENGTH,
        precision: str | None = None,
    ) -> TextClassifier:
        """``precision`` (auto|fp32|int8|fp16|bf16) converts after loading; None keeps the device's
        float default (fp32 on CPU, half on GPU), which is what training and evaluation use."""
        location = str(location)
        resolved = resolve_precision(precision, device) if precision else None
        try:
            check_location(location)
            model: Any = None
            tokenizer: Any = None
            if resolved == "int8":
                # int8 on the CPU: the form `maeum models prepare` saved beside the checkpoint, if
                # current (torch-only, with a tokenizer that needs no transformers, where it can be).
                model, tokenizer = load_prepared_with_tokenizer(location, "classifier")
            convert = model is None and resolved is not None
            if tokenizer is None:
                tokenizer = load_tokenizer(location)
            if model is None:
                from transformers import AutoModelForSequenceClassification

                dtype = load_dtype(resolved) if resolved else model_dtype(device)
                model = AutoModelForSequenceClassification.from_pretrained(location, dtype=dtype)
        except Exception as exc:
            raise ModelLoadError(
                role, location, f"MAEUM_{role.upper()}_MODEL", f"maeum train {role}", type(exc).__name__
            ) from exc
        if convert and resolved:
            apply_precision(model, resolved)
        classifier = cls(model, tokenizer, device, max_length)
        classifier.calibration = Calibration.read(location)
        return classifier

    @torch.inference_mode()
    def probabilities(self, texts: Sequence[str]) -> torch.Tensor:
        batch = self.tokenizer(
            list(texts), padding="longest", truncation=True, max_length=self.max_length, return_tensors="pt"
        ).to(self.device)
        logits = self.model(**batch).logits
        return torch.softmax(logits.float() / self.calibration.temperature, dim=-1).cpu()

    def classify(self, texts: Sequence[str]) -> list[EmotionPrediction]:
        if not texts:
            return []
        return predictions(self.probabilities(texts).tolist(), self.labels, self.calibration.uncertain_below)

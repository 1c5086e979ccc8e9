"""Text classification with any sequence-classification checkpoint (KoBERT-style by default).

Serves both the emotion model and the wellness-intent model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, PreTrainedModel, PreTrainedTokenizerBase

from engine.errors import ModelLoadError
from engine.inference.calibration import Calibration, predictions
from engine.inference.loading import check_location, load_tokenizer, model_dtype
from engine.inference.prepared import load_prepared
from engine.inference.quantize import apply_precision, load_dtype, precision_of, resolve_precision
from engine.types import EmotionPrediction

MAX_LENGTH = 64


class TextClassifier:
    """Labels come from the checkpoint's ``id2label``; batches pad to their longest input."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        device: torch.device,
        max_length: int = MAX_LENGTH,
    ) -> None:
        self.model = model.to(device).eval()  # type: ignore[arg-type]
        self.tokenizer = tokenizer
        self.device = device
        self.max_length = max_length
        self.precision = precision_of(self.model)
        id2label: dict[int, str] = {int(k): str(v) for k, v in (model.config.id2label or {}).items()}
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
            tokenizer = load_tokenizer(location)
            # int8 on the CPU: the form `maeum models prepare` saved beside the checkpoint, if current.
            model = load_prepared(location, "classifier") if resolved == "int8" else None
            convert = model is None and resolved is not None
            if model is None:
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

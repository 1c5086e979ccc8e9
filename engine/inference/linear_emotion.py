"""The emotion classifier on :mod:`engine.inference.tfidf`: same interface as the BERT-style
:class:`~engine.inference.classifier.TextClassifier`, no torch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.errors import ModelLoadError
from engine.inference.calibration import predictions
from engine.inference.tfidf import TfidfLinear
from engine.types import EmotionPrediction


class LinearTextClassifier:
    precision = "fp32"  # numpy; nothing to quantize

    def __init__(self, model: TfidfLinear) -> None:
        self.model = model
        self.labels = list(model.labels)

    @classmethod
    def load(cls, location: str | Path, role: str = "emotion") -> LinearTextClassifier:
        try:
            return cls(TfidfLinear.load(location))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(
                role, str(location), f"MAEUM_{role.upper()}_MODEL", f"maeum train {role}", type(exc).__name__
            ) from exc

    def classify(self, texts: Sequence[str]) -> list[EmotionPrediction]:
        if not texts:
            return []
        return predictions(self.model.probabilities(texts).tolist(), self.labels, self.model.uncertain_below)

"""Wellness intents: a classifier over categories plus an answer bank (the seed's S3)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import torch

from engine.errors import ModelLoadError
from engine.inference.classifier import TextClassifier
from engine.types import IntentPrediction

ANSWERS_FILE = "answers.json"


class IntentResponder:
    def __init__(self, classifier: TextClassifier, answers: dict[str, list[str]]) -> None:
        self.classifier = classifier
        self.answers = {k: v for k, v in answers.items() if v}

    @classmethod
    def load(cls, location: str | Path, device: torch.device) -> IntentResponder:
        classifier = TextClassifier.load(location, device, role="intent")
        path = Path(location) / ANSWERS_FILE
        try:
            answers = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                "intent", str(location), "MAEUM_INTENT_MODEL", "maeum train intent", f"no {ANSWERS_FILE}"
            ) from exc
        return cls(classifier, {str(k): [str(a) for a in v] for k, v in answers.items()})

    def predict(self, texts: Sequence[str]) -> list[IntentPrediction]:
        return [IntentPrediction(p.label, p.confidence) for p in self.classifier.classify(texts)]

    def answer(self, category: str, rng: random.Random) -> str | None:
        options = self.answers.get(category)
        return rng.choice(options) if options else None

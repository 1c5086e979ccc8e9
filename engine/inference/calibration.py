"""Confidence you can trust: one temperature chosen on validation, and a line below which the
emotion is "uncertain" (the reply then assumes no feeling). Both live beside a checkpoint, in its
config (maeum's own models) or in ``calibration.json`` (any transformers checkpoint)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.types import EmotionPrediction

CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Calibration:
    temperature: float = 1.0
    uncertain_below: float = 0.0

    @classmethod
    def read(cls, location: str | Path) -> Calibration:
        try:
            data = json.loads((Path(location) / CALIBRATION_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()  # a hub checkpoint or one trained before calibration: as it is
        return cls(float(data.get("temperature", 1.0)), float(data.get("uncertain_below", 0.0)))


def predictions(
    rows: Sequence[Sequence[float]], labels: Sequence[str], uncertain_below: float
) -> list[EmotionPrediction]:
    """One prediction per row of (calibrated) probabilities over ``labels``."""
    out = []
    for row in rows:
        best = max(range(len(row)), key=row.__getitem__)
        confidence = float(row[best])
        out.append(
            EmotionPrediction(
                label=labels[best],
                confidence=confidence,
                distribution={label: float(p) for label, p in zip(labels, row, strict=True)},
                uncertain=confidence < uncertain_below,
            )
        )
    return out


def fit_temperature(logits: Sequence[Sequence[float]], gold: Sequence[int]) -> float:
    """The temperature minimising the negative log-likelihood on validation (a grid: robust, and
    the optimum is flat to two decimals)."""
    import numpy as np

    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(gold)
    best_t, best_nll = 1.0, float("inf")
    for t in np.arange(0.2, 5.0, 0.01):
        scaled = z / t
        scaled -= scaled.max(axis=1, keepdims=True)
        log_p = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        nll = float(-log_p[np.arange(len(y)), y].mean())
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return round(best_t, 2)


def expected_calibration_error(
    probs: Sequence[Sequence[float]], gold: Sequence[int], bins: int = 10
) -> float:
    import numpy as np

    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(gold)
    confidence, predicted = p.max(axis=1), p.argmax(axis=1)
    error = 0.0
    for b in range(bins):
        inside = (confidence > b / bins) & (confidence <= (b + 1) / bins)
        if inside.any():
            error += float(inside.mean()) * abs(
                float((predicted[inside] == y[inside]).mean()) - float(confidence[inside].mean())
            )
    return error

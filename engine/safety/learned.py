"""A learned crisis classifier beside the rules: character n-grams under a logistic regression.

Rules alone do not generalise to new phrasings (about 1 in 3 of a fresh, varied set of crisis
messages got past them), so a small model reads every message too, and the card is shown when
the rules OR the model fire. Why this model: character n-grams carry misspellings, dialect and
glued or spaced syllables (주글래, 죽고시퍼) that a word model would not; inference is a few hundred
hashed lookups in numpy (well under a millisecond), needs no torch and no worker thread, so it runs
before anything that can fail, like the rules. Trained by ``maeum train crisis``; its threshold is
chosen on ``data/safety/crisis_dev.jsonl``, never on the held-out file.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.safety._text import clean, words

__all__ = ["CrisisModel", "featurize"]

log = logging.getLogger(__name__)

WEIGHTS_FILE = "weights.npy"
CONFIG_FILE = "config.json"


def featurize(text: str, dim: int, max_n: int) -> np.ndarray:
    """Sorted unique hashed ids of the character 1..max_n-grams of the word view, plus its words
    and word pairs. crc32, not hash(): the ids must be the same in every process."""
    view = words(clean(text))
    padded = f" {view} "
    ids: set[int] = set()
    for n in range(1, max_n + 1):
        for i in range(len(padded) - n + 1):
            gram = padded[i : i + n]
            if gram.strip():
                ids.add(zlib.crc32(f"{n}:{gram}".encode()) % dim)
    tokens = view.split()
    ids.update(zlib.crc32(f"w:{t}".encode()) % dim for t in tokens)
    ids.update(zlib.crc32(f"b:{a} {b}".encode()) % dim for a, b in itertools.pairwise(tokens))
    return np.fromiter(sorted(ids), dtype=np.int64, count=len(ids))


@dataclass(frozen=True)
class CrisisModel:
    weights: np.ndarray  # float32, one per hashed feature
    bias: float
    dim: int
    max_n: int
    threshold: float

    def probability(self, text: str) -> float:
        ids = featurize(text, self.dim, self.max_n)
        if ids.size == 0:
            return 0.0
        # Plain binary features, as in training: not scaled by length, so a two-syllable message
        # ("안녕", "끝") cannot reach a long crisis message's certainty on a handful of n-grams.
        score = float(self.weights[ids].sum()) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, score))))

    def __call__(self, text: str) -> float:
        return self.probability(text)

    def save(self, out: Path, metrics: dict[str, object] | None = None) -> None:
        out.mkdir(parents=True, exist_ok=True)
        np.save(out / WEIGHTS_FILE, self.weights.astype(np.float16))
        config = {
            "kind": "char-ngram-logistic",
            "features": "binary",
            "dim": self.dim,
            "max_n": self.max_n,
            "bias": self.bias,
            "threshold": self.threshold,
            "metrics": metrics or {},
        }
        (out / CONFIG_FILE).write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, location: str | Path) -> CrisisModel:
        path = Path(location)
        config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        if config.get("features") != "binary":
            raise ValueError(f"{path}: not a model this version reads (retrain: maeum train crisis)")
        weights = np.load(path / WEIGHTS_FILE).astype(np.float32)
        if weights.shape != (int(config["dim"]),):
            raise ValueError(f"{path}: weights do not match the configured size")
        return cls(
            weights,
            float(config["bias"]),
            int(config["dim"]),
            int(config["max_n"]),
            float(config["threshold"]),
        )

    @classmethod
    def load_or_none(cls, location: str | Path | None) -> CrisisModel | None:
        """The model, or None (rules only) with a warning: a missing or broken crisis model must
        never keep the bot from answering, and the rules still run."""
        if location is None:
            return None
        try:
            return cls.load(location)
        except (OSError, ValueError, KeyError) as exc:
            log.warning(
                "crisis model not loaded (%s); the rules alone will screen messages", type(exc).__name__
            )
            return None

"""Which everyday situation of the reply bank a message is about: e5 embeddings under a linear
head over the situations, with a temperature chosen on held-out bank messages.

Measured on 815 held-out bank messages (163 situations; training/bank.py): situation accuracy@1
0.51 for e5 + logistic regression, 0.50 for e5 nearest centroid, 0.39 for char TF-IDF + logistic
regression, 0.36 for Kiwi morphemes + logistic regression; blends did not beat e5 alone."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.inference.encoder import E5Encoder

HEAD_FILE = "head.npz"
CONFIG_FILE = "config.json"
KIND = "maeum-bank"


@dataclass(frozen=True)
class SituationMatch:
    situation: str
    probability: float


@dataclass
class BankMatcher:
    situations: list[str]
    weights: np.ndarray  # (384, situations)
    bias: np.ndarray
    temperature: float
    encoder: E5Encoder | None = None
    top_k: int = 10  # enough for a domain's share of the probability

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        z = (vectors @ self.weights + self.bias) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        result: np.ndarray = p / p.sum(axis=1, keepdims=True)
        return result

    def match(self, texts: Sequence[str]) -> list[list[SituationMatch]]:
        if self.encoder is None:
            raise RuntimeError("the bank matcher has no encoder")
        probs = self.scores(self.encoder.encode(texts))
        out = []
        for row in probs:
            best = np.argsort(-row)[: self.top_k]
            out.append([SituationMatch(self.situations[i], float(row[i])) for i in best])
        return out

    @classmethod
    def load(cls, location: str | Path, encoder: E5Encoder | None) -> BankMatcher:
        path = Path(location)
        config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        if config.get("kind") != KIND:
            raise ValueError(f"{path} is not a reply bank")
        head = np.load(path / HEAD_FILE)
        situations = [str(s) for s in config["situations"]]
        weights = head["weights"].astype(np.float32)
        if weights.shape[1] != len(situations):
            raise ValueError(f"{path}: the head does not match the situations")
        return cls(
            situations, weights, head["bias"].astype(np.float32), float(config["temperature"]), encoder
        )
